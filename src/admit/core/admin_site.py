from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AdmitAuthenticationForm(AdminAuthenticationForm):
    """The back-office login, which says when an account is locked after failed attempts."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked": _(
            "Too many failed logins: this account is locked until %(until)s. "
            "Ask a supervisor, or try again later."
        ),
    }

    def clean(self) -> dict[str, Any]:
        from admit.accounts.services import login_locked_until

        username = self.cleaned_data.get("username")
        if username:
            self._raise_if_locked(login_locked_until(username=username))
        try:
            return super().clean()
        except ValidationError:
            if username:
                self._raise_if_locked(login_locked_until(username=username))
            raise

    def _raise_if_locked(self, until: Any) -> None:
        if until is not None:
            local = timezone.localtime(until)
            raise ValidationError(
                self.error_messages["locked"], code="locked", params={"until": f"{local:%H:%M}"}
            )


class AdmitAdminSite(AdminSite):
    site_header = _("Admit back office")
    site_title = _("Admit")
    index_title = _("Venue set-up")
    login_form = AdmitAuthenticationForm
    enable_nav_sidebar = True
