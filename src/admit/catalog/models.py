from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .calendar import DayType
from .pricing import periods_overlap


class Named(models.Model):
    """A row with a Chinese name and an optional English one, shown by the active language."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        lang = get_language() or ""
        if lang.startswith("en") and self.name_en:
            return self.name_en
        return self.name


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not a known time zone."), params={"value": value}, code="time_zone"
        ) from exc


DAY_TYPE_CHOICES = [
    (DayType.WEEKDAY.value, _("weekday")),
    (DayType.WEEKEND.value, _("weekend")),
    (DayType.HOLIDAY.value, _("holiday")),
    (DayType.PEAK.value, _("peak day")),
]


class Site(Named):
    """A venue (景区) with its own calendar and time zone."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    opens_at = models.TimeField(_("opens at"), default="08:00")
    closes_at = models.TimeField(_("closes at"), default="17:30")
    last_entry_at = models.TimeField(_("last entry"), null=True, blank=True)
    weekend_days = models.JSONField(
        _("weekend days"),
        default=list,
        blank=True,
        help_text=_(
            "Days counted as weekend, 0 = Monday … 6 = Sunday. Empty: Saturday and Sunday."
        ),
    )
    notice = models.TextField(_("notice to visitors"), blank=True)
    average_stay_minutes = models.PositiveSmallIntegerField(
        _("average stay (minutes)"),
        default=180,
        validators=[MinValueValidator(10)],
        help_text=_(
            "How long visitors stay on average. Where no lane scans exits, the number of people "
            "inside is estimated as those who entered within this time."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("The site must close after it opens.")
        if (
            self.last_entry_at
            and self.opens_at
            and self.closes_at
            and not (self.opens_at <= self.last_entry_at <= self.closes_at)
        ):
            errors["last_entry_at"] = _("The last entry must lie within the opening hours.")
        days = self.weekend_days or []
        if not isinstance(days, list) or any(
            not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days
        ):
            errors["weekend_days"] = _("Give weekend days as a list of numbers from 0 to 6.")
        if errors:
            raise ValidationError(errors)

    @property
    def weekend(self) -> tuple[int, ...]:
        return tuple(self.weekend_days) if self.weekend_days else (5, 6)


class CalendarDay(models.Model):
    """A day that differs from the site's usual week: a holiday, a peak day, a closure."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="calendar_days"
    )
    date = models.DateField(_("date"))
    day_type = models.CharField(
        _("day type"),
        max_length=16,
        choices=DAY_TYPE_CHOICES,
        blank=True,
        help_text=_("Leave empty to keep the usual weekday or weekend."),
    )
    closed = models.BooleanField(_("closed"), default=False)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar")
        ordering = ["site", "date"]
        constraints = [
            models.UniqueConstraint(fields=["site", "date"], name="calendarday_site_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.note or self.get_day_type_display()}"

    def clean(self) -> None:
        if (self.opens_at is None) != (self.closes_at is None):
            raise ValidationError(_("Give both special opening and closing times, or neither."))
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("The site must close after it opens.")})


class Zone(Named):
    """A part of a site that needs its own right of entry; zones nest (园中园)."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="zones"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("inside zone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.SlugField(_("code"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="zone_site_code_unique")
        ]

    def clean(self) -> None:
        if self.parent_id is None:
            return
        parent = self.parent
        if parent is not None and parent.site_id != self.site_id:
            raise ValidationError(
                {"parent": _("A zone can only lie inside a zone of its own site.")}
            )
        seen = set()
        node = parent
        while node is not None:
            if (self.pk is not None and node.pk == self.pk) or node.pk in seen:
                raise ValidationError({"parent": _("A zone cannot lie inside itself.")})
            seen.add(node.pk)
            node = node.parent

    def ancestors(self) -> list[Zone]:
        out: list[Zone] = []
        node = self.parent
        while node is not None and node not in out:
            out.append(node)
            node = node.parent
        return out


class Gate(Named):
    """An entrance or exit (检票口) with one or more lanes."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="gates"
    )
    zone = models.ForeignKey(
        Zone,
        verbose_name=_("zone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gates",
        help_text=_("The zone this gate leads into; empty for the site itself."),
    )
    code = models.SlugField(_("code"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="gate_site_code_unique")
        ]

    def clean(self) -> None:
        if self.zone_id and self.zone and self.zone.site_id != self.site_id:
            raise ValidationError({"zone": _("The zone belongs to another site.")})


class Lane(Named):
    """One lane (通道) of a gate: a turnstile, a handheld post or an accessible lane."""

    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")
        BOTH = "both", _("in and out")

    class DeviceKind(models.TextChoices):
        TURNSTILE = "turnstile", _("turnstile")
        HANDHELD = "handheld", _("handheld scanner")
        ACCESSIBLE = "accessible", _("accessible lane")

    class Mode(models.TextChoices):
        # In their own context: "closed" alone reads as a closed site (闭园) in Chinese.
        NORMAL = "normal", pgettext_lazy("lane mode", "normal")
        EMERGENCY_OPEN = "emergency_open", pgettext_lazy("lane mode", "emergency open")
        CLOSED = "closed", pgettext_lazy("lane mode", "closed")

    gate = models.ForeignKey(
        Gate, verbose_name=_("gate"), on_delete=models.CASCADE, related_name="lanes"
    )
    code = models.SlugField(
        _("code"), max_length=40, unique=True, help_text=_("Unique across all sites, e.g. east-1.")
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.IN
    )
    device_kind = models.CharField(
        _("device"), max_length=16, choices=DeviceKind.choices, default=DeviceKind.TURNSTILE
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.NORMAL)
    is_active = models.BooleanField(_("active"), default=True)
    # 放行规则: what the lane admits. Empty sets admit every product / visitor category.
    admits_products: models.ManyToManyField[Product, Any] = models.ManyToManyField(
        "Product",
        verbose_name=_("admits only these products"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to admit every ticket type that covers the gate's zone."),
    )
    admits_categories: models.ManyToManyField[VisitorCategory, Any] = models.ManyToManyField(
        "VisitorCategory",
        verbose_name=_("admits only these visitor categories"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to admit every visitor category."),
    )
    # 放行时间: when it admits.
    enforce_hours = models.BooleanField(
        _("admit only during opening hours"),
        default=True,
        help_text=_("From the opening time (less the early minutes) until the last entry."),
    )
    early_minutes = models.PositiveSmallIntegerField(
        _("minutes early"),
        default=30,
        validators=[MaxValueValidator(240)],
        help_text=_("How long before the opening time or the booked time slot people may enter."),
    )
    late_minutes = models.PositiveSmallIntegerField(
        _("minutes late"),
        default=0,
        validators=[MaxValueValidator(240)],
        help_text=_("How long after the end of the booked time slot people may still enter."),
    )
    anti_passback = models.BooleanField(
        _("anti-passback"),
        default=False,
        help_text=_("Refuse a second entry on a ticket until it has been scanned out."),
    )

    class Meta:
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")
        ordering = ["gate", "code"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    def rules_summary(self) -> str:
        """The lane's rules in one sentence a supervisor reads at a glance."""
        parts: list[Any] = [
            {
                "in": _("Entry lane"),
                "out": _("Exit lane"),
                "both": _("Entry and exit lane"),
            }[self.direction]
        ]
        if self.mode != self.Mode.NORMAL:
            parts.append(str(self.get_mode_display()).upper())
        products = [str(p) for p in self.admits_products.all()] if self.pk else []
        categories = [str(c) for c in self.admits_categories.all()] if self.pk else []
        parts.append(
            _("admits %(what)s") % {"what": "、".join(products)}
            if products
            else _("admits every ticket type for this zone")
        )
        if categories:
            parts.append(_("only %(who)s") % {"who": "、".join(categories)})
        if self.enforce_hours:
            parts.append(
                _("during opening hours, from %(early)s min before opening or the slot")
                % {"early": self.early_minutes}
            )
        else:
            parts.append(_("at any hour"))
        if self.late_minutes:
            parts.append(_("up to %(late)s min after the slot") % {"late": self.late_minutes})
        if self.anti_passback:
            parts.append(_("anti-passback"))
        return "; ".join(str(p) for p in parts) + "."


class VisitorCategory(Named):
    """A group of visitors with its own price and proof rule (人群): adult, child, senior …"""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    proof_required = models.BooleanField(_("proof required"), default=False)
    proof = models.CharField(
        _("proof"),
        max_length=200,
        blank=True,
        help_text=_("What the visitor shows at the gate, e.g. student card, ID card (60+)."),
    )
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("visitor category")
        verbose_name_plural = _("visitor categories")
        ordering = ["sort_order", "code"]

    def clean(self) -> None:
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            raise ValidationError({"max_age": _("The maximum age is below the minimum age.")})
        if self.proof_required and not self.proof:
            raise ValidationError({"proof": _("Say which proof the visitor must show.")})


class Channel(Named):
    """A way tickets are sold (销售渠道)."""

    class Kind(models.TextChoices):
        WINDOW = "window", _("box office window")
        KIOSK = "kiosk", _("self-service kiosk")
        ONLINE = "online", _("online shop")
        OTA = "ota", _("OTA partner")
        AGENCY = "agency", _("travel agency")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        ordering = ["code"]


class Medium(models.TextChoices):
    QR = "qr", _("QR code")
    BARCODE = "barcode", _("barcode")
    CARD = "card", _("RFID/IC card")
    ID_CARD = "id_card", _("ID card")
    FACE = "face", _("face")


class Product(Named):
    """A ticket type (票种): what is sold."""

    class Kind(models.TextChoices):
        ADMISSION = "admission", _("admission")
        COMBO = "combo", _("combo ticket")
        PASS = "pass", _("pass")
        GROUP = "group", _("group ticket")
        FEE = "fee", _("service fee (no ticket)")

    class Validity(models.TextChoices):
        FIXED_DATE = "fixed_date", _("on the visit date chosen")
        OPEN_DATED = "open_dated", _("any day within N days of purchase")
        FROM_FIRST_USE = "from_first_use", _("N days from first use")
        PASS_PERIOD = "pass_period", _("pass period in months")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="products"
    )
    code = models.SlugField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ADMISSION)
    category = models.ForeignKey(
        VisitorCategory,
        verbose_name=_("visitor category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    zones = models.ManyToManyField(
        Zone,
        verbose_name=_("zones admitted"),
        blank=True,
        related_name="products",
        help_text=_("Zones this ticket admits to. Combos list their zones as components instead."),
    )
    description = models.TextField(_("description"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    persons = models.PositiveSmallIntegerField(
        _("persons per ticket"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("For group tickets: the smallest group."),
    )
    max_persons = models.PositiveSmallIntegerField(
        _("largest group"), null=True, blank=True, help_text=_("Group tickets only.")
    )
    validity = models.CharField(
        _("validity"), max_length=16, choices=Validity.choices, default=Validity.FIXED_DATE
    )
    validity_days = models.PositiveSmallIntegerField(_("validity in days"), null=True, blank=True)
    validity_months = models.PositiveSmallIntegerField(
        _("pass period in months"), null=True, blank=True
    )
    valid_from = models.DateField(_("usable from"), null=True, blank=True)
    valid_until = models.DateField(_("usable until"), null=True, blank=True)
    entries = models.PositiveSmallIntegerField(
        _("entries allowed"),
        null=True,
        blank=True,
        default=1,
        help_text=_("Empty for unlimited (passes)."),
    )
    entries_per_day = models.PositiveSmallIntegerField(_("entries per day"), null=True, blank=True)
    reentry = models.BooleanField(_("re-entry after exit the same day"), default=False)
    real_name_required = models.BooleanField(_("real name required"), default=False)
    slot_required = models.BooleanField(_("time slot booking required"), default=False)
    allowed_media = models.JSONField(
        _("allowed media"),
        default=list,
        blank=True,
        help_text=_("Any of: qr, barcode, card, id_card, face."),
    )
    channels = models.ManyToManyField(
        Channel, verbose_name=_("sold on"), blank=True, related_name="products"
    )
    limit_per_id_per_day = models.PositiveSmallIntegerField(
        _("tickets per ID number per day"),
        null=True,
        blank=True,
        help_text=_("Against scalpers: how many tickets one ID number may hold for one day."),
    )
    refundable = models.BooleanField(_("refundable"), default=True)
    refund_fee_percent = models.DecimalField(
        _("refund fee (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    refund_deadline_hours = models.PositiveIntegerField(
        _("refund until (hours before the visit day)"),
        null=True,
        blank=True,
        help_text=_("Empty: until the end of the visit day."),
    )
    reschedule_allowed = models.BooleanField(_("date change allowed"), default=True)
    reschedule_deadline_hours = models.PositiveIntegerField(
        _("date change until (hours before the visit day)"), null=True, blank=True
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["site", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="product_site_code_unique")
        ]

    @property
    def capacity_zones(self) -> list[Zone]:
        """The zones whose capacity a ticket of this product takes (combos: each component's)."""
        if self.kind == self.Kind.COMBO:
            return [c.zone for c in self.components.all()]
        return list(self.zones.all())

    @property
    def takes_capacity(self) -> bool:
        """Dated tickets take capacity; passes and open-dated tickets do not."""
        return self.kind not in (self.Kind.PASS, self.Kind.FEE) and self.validity in (
            self.Validity.FIXED_DATE,
            self.Validity.FROM_FIRST_USE,
        )

    def clean(self) -> None:
        errors: dict[str, object] = {}
        kind, validity = self.kind, self.validity
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The validity window ends before it starts.")
        if kind == self.Kind.GROUP:
            if self.max_persons is None or self.max_persons < self.persons:
                errors["max_persons"] = _(
                    "A group ticket needs a largest group at least as big as the smallest."
                )
        elif self.max_persons is not None:
            errors["max_persons"] = _("Only group tickets have a largest group.")
        if validity in (self.Validity.OPEN_DATED, self.Validity.FROM_FIRST_USE):
            if not self.validity_days:
                errors["validity_days"] = _("Say for how many days the ticket is valid.")
        elif self.validity_days:
            errors["validity_days"] = _("Only open-dated tickets have a validity in days.")
        if validity == self.Validity.PASS_PERIOD:
            if not self.validity_months:
                errors["validity_months"] = _("Say how many months the pass runs.")
            if kind != self.Kind.PASS:
                errors["validity"] = _("Only passes have a pass period.")
        elif self.validity_months:
            errors["validity_months"] = _("Only passes have a period in months.")
        if kind == self.Kind.PASS and validity != self.Validity.PASS_PERIOD:
            errors["validity"] = _("A pass is valid for its pass period.")
        if self.refund_fee_percent is not None and self.refund_fee_percent > 100:
            errors["refund_fee_percent"] = _("A refund fee cannot exceed 100 %.")
        if self.entries_per_day and self.entries and self.entries_per_day > self.entries:
            errors["entries_per_day"] = _("More entries per day than entries in all.")
        media = self.allowed_media or []
        if not isinstance(media, list) or any(m not in Medium.values for m in media):
            errors["allowed_media"] = _("Allowed media are: %(media)s.") % {
                "media": ", ".join(Medium.values)
            }
        if errors:
            raise ValidationError(errors)


class ComboComponent(Named):
    """One part of a combo (联票): it admits once to its zone."""

    combo = models.ForeignKey(
        Product, verbose_name=_("combo"), on_delete=models.CASCADE, related_name="components"
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="combo_components"
    )
    entries = models.PositiveSmallIntegerField(
        _("entries"), default=1, validators=[MinValueValidator(1)]
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("combo component")
        verbose_name_plural = _("combo components")
        ordering = ["combo", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["combo", "zone"], name="combocomponent_zone_unique")
        ]

    def clean(self) -> None:
        if self.combo_id and self.combo.kind != Product.Kind.COMBO:
            raise ValidationError(_("Only combo tickets have components."))
        if self.combo_id and self.zone_id and self.zone.site_id != self.combo.site_id:
            raise ValidationError({"zone": _("The zone belongs to another site.")})


class Price(models.Model):
    """A price of a product, per channel and day type, effective over a date range.

    For group tickets the amount is per person.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="prices"
    )
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="prices",
        help_text=_("Empty: every channel without a price of its own."),
    )
    day_type = models.CharField(
        _("day type"),
        max_length=16,
        choices=DAY_TYPE_CHOICES,
        blank=True,
        help_text=_("Empty: every day without a price of its own."),
    )
    amount = models.DecimalField(
        _("amount (CNY)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    valid_from = models.DateField(_("effective from"))
    valid_until = models.DateField(_("effective until"), null=True, blank=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["product", "channel", "day_type", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="price_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="price_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        channel = self.channel.code if self.channel_id and self.channel else "*"
        return f"{self.product_id}/{channel}/{self.day_type or '*'} {self.amount}"

    def clean(self) -> None:
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": _("A price cannot be negative.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The price period ends before it starts.")})
        if not (self.product_id and self.valid_from):
            return
        clash = self.overlapping().first()
        if clash is not None:
            raise ValidationError(
                _(
                    "This price overlaps another price of the same product, channel and day type "
                    "(from %(start)s until %(end)s)."
                ),
                params={"start": clash.valid_from, "end": clash.valid_until or "—"},
                code="price_overlap",
            )

    def overlapping(self) -> models.QuerySet[Price]:
        """Other prices of the same product, channel and day type whose periods overlap."""
        same = Price.objects.filter(
            product_id=self.product_id, channel=self.channel_id, day_type=self.day_type
        ).exclude(pk=self.pk)
        ids = [
            p.pk
            for p in same
            if periods_overlap(self.valid_from, self.valid_until, p.valid_from, p.valid_until)
        ]
        return Price.objects.filter(pk__in=ids).order_by("valid_from")
