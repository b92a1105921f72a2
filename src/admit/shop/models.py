"""The online shop's own rows: its settings per site, notices, days that go through the waiting
room, the waiting room's queue, and the tickets each contact phone holds per day."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class ShopSettings(models.Model):
    """How the shop sells for one site."""

    site = models.OneToOneField(
        "catalog.Site", on_delete=models.CASCADE, related_name="shop_settings"
    )
    phone_limit_per_day = models.PositiveSmallIntegerField(
        _("tickets per phone and day"),
        default=10,
        help_text=_("How many tickets one contact phone may hold for one day (0: no limit)."),
    )
    queue_always = models.BooleanField(
        _("waiting room for every day"),
        default=False,
        help_text=_("Buyers of any day go through the waiting room, not only on rush days."),
    )
    queue_rate_per_minute = models.PositiveIntegerField(
        _("buyers admitted per minute"), default=100
    )
    queue_admit_minutes = models.PositiveSmallIntegerField(
        _("minutes to buy once admitted"), default=20
    )

    class Meta:
        verbose_name = _("shop settings")
        verbose_name_plural = _("shop settings")

    def __str__(self) -> str:
        return str(self.site)


class Notice(models.Model):
    """A notice shown on the shop's site page (in Chinese, with an optional English text)."""

    site = models.ForeignKey("catalog.Site", on_delete=models.CASCADE, related_name="+")
    text = models.TextField(_("notice"))
    text_en = models.TextField(_("English notice"), blank=True)
    starts_on = models.DateField(_("shown from"), null=True, blank=True)
    ends_on = models.DateField(_("shown until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.display_text[:60]

    @property
    def display_text(self) -> str:
        if (get_language() or "").startswith("en") and self.text_en:
            return self.text_en
        return self.text


class RushDay(models.Model):
    """A popular day whose buyers go through the waiting room."""

    site = models.ForeignKey("catalog.Site", on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("rush day")
        verbose_name_plural = _("rush days")
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="rushday_unique")]

    def __str__(self) -> str:
        return self.date.isoformat()


class QueueEntry(models.Model):
    """A place in the waiting room: admitted in the order of joining, at the site's rate."""

    site = models.ForeignKey("catalog.Site", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32, unique=True)
    joined_at = models.DateTimeField()
    admitted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["site", "admitted_at"], name="queueentry_site_admitted")]


class PhoneQuota(models.Model):
    """How many tickets one contact phone has taken in the shop for one site and day."""

    site = models.ForeignKey("catalog.Site", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=32)
    date = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "phone", "date"], name="phonequota_unique")
        ]


class SignInCode(models.Model):
    """A one-time code sent by text message to sign a member in to the shop. Only a salted
    hash of the code is kept. A row is written for any phone asked about (``member`` empty when
    the phone is no member's, and then nothing is sent), so that the answers and the limits are
    the same for every phone and tell nobody who is a member."""

    phone = models.CharField(max_length=32)
    member = models.ForeignKey(
        "customers.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=100)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "created_at"], name="signincode_phone_created")]


class SignInThrottle(models.Model):
    """When a code was last sent to a phone: the one row per phone that two requests at the same
    instant both update, so that only one of them passes the wait between codes (a conditional
    UPDATE; a first request for a phone inserts the row, and a second one then fails on the
    unique key)."""

    phone = models.CharField(max_length=32, unique=True)
    last_sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.phone
