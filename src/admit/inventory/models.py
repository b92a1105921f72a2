"""Capacity: how many people may come on a date or in a time slot (库存 / 分时段预约).

A pool's counters obey ``held + sold + reserved <= capacity`` at every instant; the database
itself refuses any row that breaks it (a check constraint), so no code path can oversell.
``reserved`` is the part of the pool set aside for channel allocations and not yet used by them.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class CapacityTemplate(models.Model):
    """A weekly pattern of pools for one zone, from which pools are generated day by day."""

    site = models.ForeignKey(
        "catalog.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        related_name="capacity_templates",
    )
    zone = models.ForeignKey(
        "catalog.Zone",
        verbose_name=_("zone"),
        on_delete=models.CASCADE,
        related_name="capacity_templates",
    )
    name = models.CharField(_("name"), max_length=100)
    weekdays = models.JSONField(
        _("weekdays"),
        default=list,
        blank=True,
        help_text=_("0 = Monday … 6 = Sunday; empty for every day."),
    )
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=0,
        help_text=_("Where templates overlap, the highest priority wins (e.g. a holiday pattern)."),
    )
    returns_on_refund = models.BooleanField(_("refunds give capacity back"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("capacity template")
        verbose_name_plural = _("capacity templates")
        ordering = ["site", "zone", "-priority", "valid_from"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The template ends before it starts.")
        days = self.weekdays or []
        if not isinstance(days, list) or any(
            not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days
        ):
            errors["weekdays"] = _("Give weekdays as a list of numbers from 0 to 6.")
        if self.zone_id and self.site_id and self.zone.site_id != self.site_id:
            errors["zone"] = _("The zone belongs to another site.")
        if errors:
            raise ValidationError(errors)

    def applies_on(self, day: dt.date) -> bool:
        return (
            self.is_active
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
            and (not self.weekdays or day.weekday() in self.weekdays)
        )


class TemplateSlot(models.Model):
    """One pool of a template: a time slot, or the whole day when no times are given."""

    template = models.ForeignKey(
        CapacityTemplate,
        verbose_name=_("template"),
        on_delete=models.CASCADE,
        related_name="slots",
    )
    start = models.TimeField(_("start"), null=True, blank=True)
    end = models.TimeField(_("end"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["template", "start"]

    def __str__(self) -> str:
        return f"{self.start or ''}–{self.end or ''} {self.capacity}"

    def clean(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValidationError(_("Give both start and end, or neither for a whole-day pool."))
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("A slot must end after it starts.")})


class TemplateAllocation(models.Model):
    """A share of each generated pool set aside for one channel (渠道配额)."""

    template = models.ForeignKey(
        CapacityTemplate,
        verbose_name=_("template"),
        on_delete=models.CASCADE,
        related_name="allocations",
    )
    channel = models.ForeignKey(
        "catalog.Channel",
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    percent = models.PositiveSmallIntegerField(
        _("share (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    release_hours = models.PositiveIntegerField(
        _("falls back to the shared part (hours before the slot)"), default=24
    )

    class Meta:
        verbose_name = _("channel allocation")
        verbose_name_plural = _("channel allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "channel"], name="templateallocation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.percent}%"


class Pool(models.Model):
    """The capacity of one zone on one date, in one time slot or for the whole day."""

    site = models.ForeignKey(
        "catalog.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="pools"
    )
    zone = models.ForeignKey(
        "catalog.Zone", verbose_name=_("zone"), on_delete=models.PROTECT, related_name="pools"
    )
    date = models.DateField(_("date"))
    slot_key = models.CharField(max_length=5, blank=True, editable=False)
    start = models.TimeField(_("start"), null=True, blank=True)
    end = models.TimeField(_("end"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    held = models.PositiveIntegerField(_("held"), default=0)
    sold = models.PositiveIntegerField(_("sold"), default=0)
    reserved = models.PositiveIntegerField(_("reserved for channels"), default=0)
    returns_on_refund = models.BooleanField(_("refunds give capacity back"), default=True)
    closed = models.BooleanField(_("closed"), default=False)
    template = models.ForeignKey(
        CapacityTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("capacity pool")
        verbose_name_plural = _("capacity pools")
        ordering = ["date", "zone", "slot_key"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "date", "slot_key"], name="pool_unique_slot"),
            models.CheckConstraint(
                condition=Q(held__gte=0)
                & Q(sold__gte=0)
                & Q(reserved__gte=0)
                & Q(capacity__gte=F("held") + F("sold") + F("reserved")),
                name="pool_never_oversold",
            ),
        ]
        indexes = [models.Index(fields=["site", "date"])]

    def __str__(self) -> str:
        slot = f" {self.start:%H:%M}–{self.end:%H:%M}" if self.start and self.end else ""
        return f"{self.zone} {self.date:%Y-%m-%d}{slot}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.slot_key = self.start.strftime("%H:%M") if self.start else ""
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def free(self) -> int:
        return max(self.capacity - self.held - self.sold - self.reserved, 0)

    def clean(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValidationError(_("Give both start and end, or neither for a whole-day pool."))
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("A slot must end after it starts.")})
        if self.capacity is not None and self.capacity < self.held + self.sold + self.reserved:
            raise ValidationError(
                {
                    "capacity": _(
                        "Capacity cannot go below what is sold, held and reserved (%(used)s)."
                    )
                    % {"used": self.held + self.sold + self.reserved}
                }
            )


class Allocation(models.Model):
    """A channel's share of one pool; what it has not used by ``release_at`` becomes shared."""

    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="allocations"
    )
    channel = models.ForeignKey(
        "catalog.Channel", verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+"
    )
    quota = models.PositiveIntegerField(_("quota"))
    held = models.PositiveIntegerField(_("held"), default=0)
    sold = models.PositiveIntegerField(_("sold"), default=0)
    release_at = models.DateTimeField(_("falls back to shared at"))
    released = models.BooleanField(_("fallen back"), default=False)

    class Meta:
        verbose_name = _("channel allocation")
        verbose_name_plural = _("channel allocations")
        constraints = [
            models.UniqueConstraint(fields=["pool", "channel"], name="allocation_unique"),
            models.CheckConstraint(
                condition=Q(quota__gte=F("held") + F("sold")), name="allocation_within_quota"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pool} / {self.channel_id}"


class Take(models.Model):
    """What one order line takes from one pool: persons held (unpaid) and sold.

    The pool's counters always equal the sums over its takes (``admit check-capacity``).
    """

    line = models.ForeignKey("sales.OrderLine", on_delete=models.PROTECT, related_name="takes")
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, related_name="takes")
    allocation = models.ForeignKey(
        Allocation, null=True, blank=True, on_delete=models.PROTECT, related_name="takes"
    )
    held = models.PositiveIntegerField(default=0)
    sold = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "pool"], name="take_unique"),
        ]
