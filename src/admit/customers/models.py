"""Customers: B2B accounts (旅行社, 协议单位) and the staff users who book for them.

Members, passes, contracts, credit and prepaid ledgers come with the customers issue; this is
the part the sales engine needs now: an order booked by an account's user belongs to that
account, and one account's orders are invisible to another's users.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Kind(models.TextChoices):
        AGENCY = "agency", _("travel agency")
        CORPORATE = "corporate", _("corporate client")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.AGENCY)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("B2B account")
        verbose_name_plural = _("B2B accounts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AccountMember(models.Model):
    """A staff user who books for an account (an agency's clerk, a company's travel officer).
    Such a user sees only the account's own orders."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        on_delete=models.CASCADE,
        related_name="account_membership",
    )

    class Meta:
        verbose_name = _("account user")
        verbose_name_plural = _("account users")

    def __str__(self) -> str:
        return f"{self.user} @ {self.account}"
