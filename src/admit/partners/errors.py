"""The partners app's refusals."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from admit.core.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed


class PartnerUnauthorized(AuthenticationFailed):
    code = "partner_unauthorized"
    default_message = _("Unknown or inactive partner key.")


class BadSignature(AuthenticationFailed):
    code = "bad_signature"
    default_message = _("The request's signature does not match.")


class StaleRequest(AuthenticationFailed):
    code = "stale_request"
    default_message = _("The request's timestamp is outside the allowed five minutes.")


class ReplayedRequest(Conflict):
    code = "replayed_request"
    default_message = _("This signed request was already received.")


class BookingNotFound(NotFound):
    code = "booking_not_found"
    default_message = _("No such booking of this partner.")


class ReferenceReused(Conflict):
    code = "reference_reused"
    default_message = _("This booking reference was already used for a different booking.")


class BookingNotChangeable(Conflict):
    code = "booking_not_changeable"
    default_message = _("The booking can no longer be changed this way.")


class UnknownUnit(ValidationFailed):
    code = "unknown_unit"
    default_message = _("No such unit for this product.")


class UnknownAvailability(ValidationFailed):
    code = "unknown_availability"
    default_message = _("No such availability for this product.")


class UnknownConnector(NotFound):
    code = "unknown_connector"
    default_message = _("No such partner connector.")


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    default_message = _("No such webhook of this partner.")


class TooManyWebhooks(Conflict):
    code = "webhook_limit"
    default_message = _("This partner has as many webhooks as it may have: delete one first.")
