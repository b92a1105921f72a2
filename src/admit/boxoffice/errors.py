"""The box office's refusals, each with a stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from admit.core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed


class NoOpenShift(Conflict):
    code = "no_open_shift"
    default_message = _("Open a shift on a terminal before selling, taking or paying back money.")


class ShiftAlreadyOpen(Conflict):
    code = "shift_already_open"
    default_message = _("This terminal or this cashier already has an open shift.")


class ShiftNotOpen(Conflict):
    code = "shift_not_open"
    default_message = _("This shift is not open.")


class ShiftNotClosed(Conflict):
    code = "shift_not_closed"
    default_message = _("Only a closed shift can be confirmed.")


class NotYourShift(PermissionDenied):
    code = "not_your_shift"
    default_message = _("This shift belongs to another cashier.")


class OwnShift(PermissionDenied):
    code = "own_shift"
    default_message = _("Another person must confirm your handover.")


class TerminalNotFound(NotFound):
    code = "terminal_not_found"
    default_message = _("No such terminal.")


class TerminalInactive(Conflict):
    code = "terminal_inactive"
    default_message = _("This terminal is switched off in the back office.")


class AmountInvalid(ValidationFailed):
    code = "amount_invalid"
    default_message = _("Enter an amount of money of zero or more, with at most two decimals.")


class ApprovalRefused(PermissionDenied):
    code = "approval_refused"
    default_message = _("The supervisor's name or PIN is wrong, or their limit is too low.")


class ApprovalLocked(RateLimited):
    code = "approval_locked"
    default_message = _("Too many wrong PINs: wait ten minutes before trying again.")


class PinInvalid(ValidationFailed):
    code = "pin_invalid"
    default_message = _("A PIN has 4 to 8 digits.")


class ProductNotAllowed(PermissionDenied):
    code = "product_not_allowed"
    default_message = _("You may not sell this product at this terminal.")


class VoidNotAllowed(Conflict):
    code = "void_not_allowed"
    default_message = _(
        "Only a sale of your open shift whose tickets are all unused can be voided."
    )


# --- Paper ticket stock (票证库存) ------------------------------------------------------------


class StockRangeInvalid(ValidationFailed):
    code = "stock_range_invalid"
    default_message = _(
        "Enter whole numbers from 0 upwards, the last not below the first, that fit the number "
        "of digits."
    )


class StockRangeTooLarge(ValidationFailed):
    code = "stock_range_too_large"
    default_message = _("One range may hold at most 1,000,000 numbers.")


class StockBatchInvalid(ValidationFailed):
    code = "stock_batch_invalid"
    default_message = _(
        "Give the batch a code of letters, digits and dashes, a prefix of at most 8 letters or "
        "digits, and a product of the batch's site."
    )


class StockBatchExists(Conflict):
    code = "stock_batch_exists"
    default_message = _("A batch with this code was received before.")


class StockOverlap(Conflict):
    code = "stock_overlap"
    default_message = _("Some of these numbers were already received in another batch.")


class StockOutsideBatch(ValidationFailed):
    code = "stock_outside_batch"
    default_message = _("These numbers are not all in the batch.")


class StockNotInStore(Conflict):
    code = "stock_not_in_store"
    default_message = _(
        "Only paper in the store can be issued; some of these numbers are issued, used or voided."
    )


class StockNotIssued(Conflict):
    code = "stock_not_issued"
    default_message = _("Only paper issued to a cashier and not used yet can be returned or sold.")


class NotACashier(ValidationFailed):
    code = "not_a_cashier"
    default_message = _("Paper can only be issued to an active user who sells at the window.")


class VoidReasonRequired(ValidationFailed):
    code = "void_reason_required"
    default_message = _("Say why this paper is voided.")


class StockUsed(Conflict):
    code = "stock_used"
    default_message = _(
        "This paper was handed out with a ticket and cannot be voided or used again; refund the "
        "ticket if it must not be used."
    )


class StockVoided(Conflict):
    code = "stock_voided"
    default_message = _("This paper was voided.")


class StockEmpty(Conflict):
    code = "stock_empty"
    default_message = _("You have no paper left for this ticket: ask the store for more.")


class StockNotYours(PermissionDenied):
    code = "stock_not_yours"
    default_message = _("This paper was issued to another cashier or belongs to another site.")


class StockSerialNotFound(NotFound):
    code = "stock_serial_not_found"
    default_message = _("No paper ticket has this number.")


class StockWrongProduct(Conflict):
    code = "stock_wrong_product"
    default_message = _("This paper is pre-printed for another ticket type.")


class TicketHasPaper(Conflict):
    code = "ticket_has_paper"
    default_message = _("This ticket is already bound to a paper serial.")


class TicketNotValid(Conflict):
    code = "ticket_not_valid"
    default_message = _("Only a valid ticket can be bound to paper.")


class AlreadyPrinted(Conflict):
    code = "already_printed"
    default_message = _(
        "These tickets have been printed before. A second print needs staff: please ask at "
        "the ticket window."
    )
