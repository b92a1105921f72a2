"""Access control (检票): what each ticket has used, every scan, lane status, offline conflicts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from admit.core.models import AppendOnlyModel

from .decision import Reason
from .rules import SITE_ZONE


class Usage(models.Model):
    """What a ticket has used of its right to one zone (person-entries, who is inside).

    Changed only by a compare-and-set ``UPDATE … WHERE version = v`` (``access.services``), so
    two lanes scanning the same ticket at the same instant cannot both spend the same entry.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="usages")
    zone_key = models.PositiveIntegerField()  # the zone's id, or SITE_ZONE
    used = models.PositiveIntegerField(default=0)
    inside = models.PositiveIntegerField(default=0)
    day = models.DateField(null=True, blank=True)
    day_entries = models.PositiveIntegerField(default=0)
    out_today = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket usage")
        verbose_name_plural = _("ticket usage")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "zone_key"], name="usage_ticket_zone")
        ]


class Scan(AppendOnlyModel):
    """One attempt at a lane (检票记录), with its result and reason. Append-only."""

    class Result(models.TextChoices):
        ALLOW = "allow", _("allowed")
        DENY = "deny", _("denied")

    lane = models.ForeignKey(
        "catalog.Lane", verbose_name=_("lane"), on_delete=models.PROTECT, related_name="scans"
    )
    site = models.ForeignKey("catalog.Site", on_delete=models.PROTECT, related_name="+")
    zone_key = models.PositiveIntegerField(default=SITE_ZONE)
    device = models.ForeignKey(
        "accounts.Device",
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scan_id = models.CharField(_("scan id"), max_length=64, null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scans",
    )
    medium = models.CharField(_("medium"), max_length=16, default="qr")
    presented = models.CharField(_("presented"), max_length=40, blank=True)
    direction = models.CharField(_("direction"), max_length=4)
    persons = models.PositiveIntegerField(_("persons asked"), default=1)
    admitted = models.PositiveIntegerField(_("persons let through"), default=0)
    consumed = models.PositiveIntegerField(_("entries used"), default=0)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices)
    reason = models.CharField(_("reason"), max_length=32)
    remaining = models.IntegerField(_("remaining"), null=True, blank=True)
    remaining_today = models.IntegerField(null=True, blank=True)
    scanned_at = models.DateTimeField(_("scanned"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    offline = models.BooleanField(_("offline"), default=False)

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-id"]
        constraints = [
            # A device's scan id answers once; NULLs (no id given) never collide.
            models.UniqueConstraint(fields=["lane", "scan_id"], name="scan_lane_scan_id")
        ]
        indexes = [
            models.Index(fields=["site", "scanned_at"]),
            models.Index(fields=["lane", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.lane_id} {self.scanned_at:%Y-%m-%d %H:%M:%S} {self.result} {self.reason}"

    @property
    def reason_enum(self) -> Reason:
        try:
            return Reason(self.reason)
        except ValueError:
            return Reason.MALFORMED


class LaneStatus(models.Model):
    """A lane's last contact (heartbeat) and what its device reported."""

    lane = models.OneToOneField(
        "catalog.Lane", primary_key=True, on_delete=models.CASCADE, related_name="status"
    )
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    device = models.ForeignKey(
        "accounts.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    software = models.CharField(_("software"), max_length=100, blank=True)
    offline_queue = models.PositiveIntegerField(_("scans waiting to upload"), default=0)
    bundle_cursor = models.PositiveBigIntegerField(_("revocation cursor"), default=0)

    class Meta:
        verbose_name = _("lane status")
        verbose_name_plural = _("lane status")
        permissions = [("set_lane_mode", _("Can set a lane's mode"))]


class Conflict(models.Model):
    """An offline scan the server would not have allowed (the same ticket admitted at two lanes
    beyond its entries, or after it was refunded): staff work through these."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    scan = models.OneToOneField(
        Scan, verbose_name=_("scan"), on_delete=models.PROTECT, related_name="conflict"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("server's reason"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("offline conflict")
        verbose_name_plural = _("offline conflicts")
        ordering = ["status", "-id"]
        permissions = [("resolve_conflict", _("Can resolve offline conflicts"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.reason}"
