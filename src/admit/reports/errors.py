from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from admit.core.errors import Conflict, ValidationFailed


class DayNotOver(ValidationFailed):
    code = "day_not_over"
    default_message = _("Only a business day that has ended can be closed.")


class DayAlreadyClosed(Conflict):
    code = "day_already_closed"
    default_message = _("This business day is already closed.")


class BadRange(ValidationFailed):
    code = "bad_range"
    default_message = _("Choose a start date on or before the end date, at most 400 days apart.")


class NoSite(ValidationFailed):
    code = "unknown_site"
    default_message = _("There is no such site.")
