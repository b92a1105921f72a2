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
