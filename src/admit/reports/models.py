"""Aggregates kept up to date as sales, payments, ledgers and scans happen.

Each table is a sum over append-only or status rows, keyed by a site's **business day** (the
site's local date) and a few dimensions held as plain integers (0 = none), so that a row can be
found and bumped by one ``UPDATE`` on the hot path (``facts.bump``) and a year of them can be
summed in milliseconds. ``rebuild.py`` computes the same rows from the raw tables; ``admit
check-reports`` compares the two.

An event is counted on the business day it is **recorded** (a refund of last week's ticket is
today's refund), except a gate's scan, counted at the time it was scanned — unless that day was
already closed (``DayClose``) when the scan arrived from an offline lane: then it is counted now,
marked late. So a closed day's figures never change.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from admit.core.models import money_field


def _int(verbose: object = None) -> models.IntegerField:  # type: ignore[type-arg]
    return models.IntegerField(verbose, default=0)  # type: ignore[arg-type]


class SalesDay(models.Model):
    """Tickets sold, refunded and voided per product, channel, seller, account and guide."""

    site_id = models.PositiveIntegerField()
    day = models.DateField()
    product_id = models.PositiveIntegerField()
    channel_id = models.PositiveIntegerField()
    seller_id = models.PositiveIntegerField(default=0)  # the staff user who placed the order
    account_id = models.PositiveIntegerField(default=0)
    guide_id = models.PositiveIntegerField(default=0)
    sold = _int(_("sold"))
    persons = _int(_("persons"))
    gross = money_field(_("before discounts"), default=Decimal("0.00"))
    discount = money_field(_("discounts"), default=Decimal("0.00"))
    net = money_field(_("sales"), default=Decimal("0.00"))
    refunded = _int(_("refunded"))
    refunded_value = money_field(_("refunded value"), default=Decimal("0.00"))
    voided = _int(_("voided"))
    voided_value = money_field(_("voided value"), default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "site_id",
                    "day",
                    "product_id",
                    "channel_id",
                    "seller_id",
                    "account_id",
                    "guide_id",
                ],
                name="reports_salesday_key",
            )
        ]


class MoneyDay(models.Model):
    """Money taken and paid back per method, channel and shift."""

    site_id = models.PositiveIntegerField()
    day = models.DateField()
    method = models.CharField(max_length=16)
    channel_id = models.PositiveIntegerField()
    shift_id = models.PositiveIntegerField(default=0)
    payments = _int(_("payments"))
    paid = money_field(_("taken"), default=Decimal("0.00"))
    refunds = _int(_("refunds"))
    refunded = money_field(_("paid back"), default=Decimal("0.00"))
    fees = money_field(_("refund fees kept"), default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site_id", "day", "method", "channel_id", "shift_id"],
                name="reports_moneyday_key",
            )
        ]


class LedgerDay(models.Model):
    """Prepaid and credit movements of B2B accounts (days in the installation's time zone)."""

    day = models.DateField()
    account_id = models.PositiveIntegerField()
    book = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    entries = _int(_("entries"))
    amount = money_field(_("amount"), default=Decimal("0.00"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "account_id", "book", "kind"], name="reports_ledgerday_key"
            )
        ]


class EntryHour(models.Model):
    """Scans per lane and hour: attempts, those let through and the persons they let in or out."""

    site_id = models.PositiveIntegerField()
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    lane_id = models.PositiveIntegerField()
    direction = models.CharField(max_length=4)
    late = models.BooleanField(default=False)
    scans = _int(_("scans"))
    allowed = _int(_("allowed"))
    persons = _int(_("persons"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site_id", "day", "hour", "lane_id", "direction", "late"],
                name="reports_entryhour_key",
            )
        ]


class EntryProductDay(models.Model):
    """Persons let in per product (pass usage, entries by ticket type)."""

    site_id = models.PositiveIntegerField()
    day = models.DateField()
    product_id = models.PositiveIntegerField()
    entries = _int(_("entries"))
    persons = _int(_("persons"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site_id", "day", "product_id"], name="reports_entryproductday_key"
            )
        ]


class OriginDay(models.Model):
    """Where visitors come from: persons sold and refunded per province and city."""

    site_id = models.PositiveIntegerField()
    day = models.DateField()
    channel_id = models.PositiveIntegerField()
    province = models.CharField(max_length=6)
    city = models.CharField(max_length=6)
    orders = _int(_("orders"))
    persons = _int(_("persons"))
    refunded = _int(_("persons refunded"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site_id", "day", "channel_id", "province", "city"],
                name="reports_originday_key",
            )
        ]


class DayClose(models.Model):
    """A business day finance has closed: its figures no longer change."""

    site = models.ForeignKey(
        "catalog.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("business day"))
    closed_at = models.DateTimeField(_("closed"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("closed business day")
        verbose_name_plural = _("closed business days")
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="reports_dayclose_once")
        ]
        permissions = [
            ("view_reports", "Can read reports and the dashboard"),
            ("close_day", "Can close a business day"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}"


AGGREGATES: tuple[type[models.Model], ...] = (
    SalesDay,
    MoneyDay,
    LedgerDay,
    EntryHour,
    EntryProductDay,
    OriginDay,
)
