"""Refusals of the sales engine, each with its stable code."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from admit.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed


class UnknownChannel(ValidationFailed):
    code = "unknown_channel"
    default_message = _("No such sales channel.")


class UnknownProduct(ValidationFailed):
    code = "unknown_product"
    default_message = _("No such product on sale.")


class NotSoldOnChannel(ValidationFailed):
    code = "not_sold_on_channel"
    default_message = _("This product is not sold on this channel.")


class NotOnSale(ValidationFailed):
    code = "not_on_sale"
    default_message = _("This product is not on sale for this date.")


class PastDate(ValidationFailed):
    code = "past_date"
    default_message = _("This date has passed.")


class TooFarAhead(ValidationFailed):
    code = "too_far_ahead"
    default_message = _("Tickets for this date are not on sale yet.")


class InvalidQuantity(ValidationFailed):
    code = "invalid_quantity"
    default_message = _("The quantity is not allowed.")


class VisitorsRequired(ValidationFailed):
    code = "visitors_required"
    default_message = _("This ticket is sold by real name: give one visitor per person.")


class InvalidIdNumber(ValidationFailed):
    code = "invalid_id_number"
    default_message = _("This ID number is not valid.")


class DuplicateVisitor(ValidationFailed):
    code = "duplicate_visitor"
    default_message = _("The same ID number appears twice in this order.")


class IdLimitReached(Conflict):
    code = "id_limit_reached"
    default_message = _("This ID number already holds the most tickets allowed for this day.")


class MixedSites(ValidationFailed):
    code = "mixed_sites"
    default_message = _("One order can only hold tickets of one site.")


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("No such order.")


class OrderNotPending(Conflict):
    code = "order_not_pending"
    default_message = _("This order is no longer awaiting payment.")


class OrderNotPaid(Conflict):
    code = "order_not_paid"
    default_message = _("This order is not paid.")


class AmountInvalid(ValidationFailed):
    code = "invalid_amount"
    default_message = _("The amount is not valid.")


class AmountExceedsBalance(ValidationFailed):
    code = "amount_exceeds_balance"
    default_message = _("The amount is more than what is still due.")


class TenderedTooLittle(ValidationFailed):
    code = "tendered_too_little"
    default_message = _("The cash tendered is less than the amount.")


class MethodNotAllowed(PermissionDenied):
    code = "payment_method_not_allowed"
    default_message = _("This payment method is not available here.")


class AccountNotAllowed(PermissionDenied):
    code = "account_not_allowed"
    default_message = _("This order cannot be booked for that account.")


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    default_message = _("No such ticket in this order.")


class TicketNotRefundable(Conflict):
    code = "ticket_not_refundable"
    default_message = _("This ticket cannot be refunded.")


class TicketUsed(Conflict):
    code = "ticket_used"
    default_message = _("This ticket has been used.")


class TicketNotValid(Conflict):
    code = "ticket_not_valid"
    default_message = _("This ticket was already refunded, exchanged or voided.")


class DeadlinePassed(Conflict):
    code = "deadline_passed"
    default_message = _("It is too late to refund or change this ticket.")


class RescheduleNotAllowed(Conflict):
    code = "reschedule_not_allowed"
    default_message = _("The date of this ticket cannot be changed.")


class PaymentRequired(Conflict):
    code = "payment_required"
    default_message = _("The new date costs more: pay the difference with the change.")


class CouponInvalid(ValidationFailed):
    code = "coupon_invalid"
    default_message = _("This coupon is not valid.")


class CouponUsedUp(Conflict):
    code = "coupon_used_up"
    default_message = _("This coupon has been used up.")


class CouponMinSpend(ValidationFailed):
    code = "coupon_min_spend"
    default_message = _("The order does not reach the coupon's minimum spend.")


class DiscountOverLimit(PermissionDenied):
    code = "discount_over_limit"
    default_message = _("This discount is more than you may give.")


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status = 400
    default_message = _("The notification's signature is not valid.")


class UnknownPayment(NotFound):
    code = "unknown_payment"
    default_message = _("No such payment.")


class ProviderFailed(DomainError):
    code = "provider_failed"
    status = 502
    default_message = _("The payment provider did not accept the request.")


class PriceChanged(Conflict):
    code = "price_changed"
    default_message = _("The price changed since the quote: check the new total and book again.")


class ContactRequired(ValidationFailed):
    code = "contact_required"
    default_message = _("Give the group's contact name and phone number.")
