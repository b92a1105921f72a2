"""The refusals of the customers app, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from admit.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"
    default_message = _("This booking would take the account beyond its credit limit.")


class PrepaidInsufficient(Conflict):
    code = "prepaid_insufficient"
    default_message = _("The account's prepaid balance is too low for this booking.")


class ContractMissing(PermissionDenied):
    code = "no_valid_contract"
    default_message = _("The account has no contract valid on this day.")


class ContractExcludes(PermissionDenied):
    code = "not_in_contract"
    default_message = _("The account's contract does not allow this product or channel.")


class AccountInactive(PermissionDenied):
    code = "account_inactive"
    default_message = _("This account is not active.")


class StatementOverlap(Conflict):
    code = "statement_overlap"
    default_message = _("A statement already covers part of this period.")


class StatementOverpaid(ValidationFailed):
    code = "statement_overpaid"
    default_message = _("The payment is more than the statement still has due.")


class PeriodInvalid(ValidationFailed):
    code = "invalid_period"
    default_message = _("The period must end on or after its start, and not in the future.")


class PhoneInvalid(ValidationFailed):
    code = "invalid_phone"
    default_message = _("This is not a valid phone number.")


class IdNumberInvalid(ValidationFailed):
    code = "invalid_id_number"
    default_message = _("This is not a valid PRC resident ID number.")


class MemberExists(Conflict):
    code = "member_exists"
    default_message = _("A member with this phone number or ID number is already registered.")


class MemberNotFound(NotFound):
    code = "member_not_found"
    default_message = _("No such member.")


class PointsInsufficient(Conflict):
    code = "points_insufficient"
    default_message = _("The member does not have that many points.")


class GuideNotFound(NotFound):
    code = "guide_not_found"
    default_message = _("No active guide or driver with this licence number.")


class GuideExists(Conflict):
    code = "guide_exists"
    default_message = _("A guide or driver with this licence number is already registered.")


class AccountNotFound(NotFound):
    code = "account_not_found"
    default_message = _("No such B2B account.")


class StatementNotFound(NotFound):
    code = "statement_not_found"
    default_message = _("No such statement.")


class LevelNotFound(NotFound):
    code = "level_not_found"
    default_message = _("No such member level.")


class GuideEntryNotOffered(Conflict):
    code = "guide_entry_not_offered"
    default_message = _("This site offers guides and drivers no entry of their own.")


class GuideGroupTooSmall(ValidationFailed):
    code = "guide_group_too_small"
    default_message = _("The group is too small for the guide's own entry.")


class RebateStatementNotFound(NotFound):
    code = "rebate_statement_not_found"
    default_message = _("No such rebate statement.")


class RebateOverpaid(ValidationFailed):
    code = "rebate_overpaid"
    default_message = _("The payment is more than the rebate statement still has to pay out.")


class RebateStatementVoid(Conflict):
    code = "rebate_statement_void"
    default_message = _("This rebate statement is void; nothing can be paid against it.")


class RebateStatementHasPayments(Conflict):
    code = "rebate_statement_has_payments"
    default_message = _("Money has been paid against this rebate statement; it cannot be voided.")
