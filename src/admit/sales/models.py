"""Orders, payments, refunds and coupons.

Money rows (``Payment``, ``Refund``) are append-only: corrections are new rows. An order's
balance is payments − refunds; what it is worth is the price of its live tickets plus the fees
kept on refunds, and once paid the two are equal (``admit check-money``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from admit.core.models import AppendOnlyModel, money_field


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting payment")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    code = models.CharField(_("order code"), max_length=16, unique=True)
    site = models.ForeignKey(
        "catalog.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="orders"
    )
    channel = models.ForeignKey(
        "catalog.Channel",
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
    )
    subtotal = money_field(_("subtotal"))
    discount = money_field(_("discount"), default=Decimal("0.00"))
    total = money_field(_("total"))
    currency = models.CharField(max_length=3, default="CNY")
    coupon = models.ForeignKey(
        "sales.Coupon",
        verbose_name=_("coupon"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    manual_discount_reason = models.CharField(_("discount reason"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sold by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("B2B account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("The agency or company the order was booked for; only its users see it."),
    )
    shift = models.ForeignKey(
        "boxoffice.Shift",
        verbose_name=_("shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    member = models.ForeignKey(
        "customers.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    guide = models.ForeignKey(
        "customers.Guide",
        verbose_name=_("guide or driver"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    origin_province = models.CharField(_("visitors from (province)"), max_length=6, blank=True)
    origin_city = models.CharField(_("visitors from (city)"), max_length=6, blank=True)
    placed_at = models.DateTimeField(_("placed"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("hold expires"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("cancelled or expired"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [
            ("refund_order", _("Can refund paid orders")),
            ("reschedule_order", _("Can change the date of tickets")),
        ]
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.code


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("visit date"))
    slot = models.ForeignKey(
        "inventory.Pool",
        verbose_name=_("time slot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    quantity = models.PositiveIntegerField(_("tickets"), validators=[MinValueValidator(1)])
    persons = models.PositiveSmallIntegerField(_("persons per ticket"), default=1)
    unit_price = money_field(_("unit price"))
    base = money_field(_("before discounts"))
    total = money_field(_("line total"))
    adjustments = models.JSONField(_("discounts"), default=list, blank=True)
    ticket_prices = models.JSONField(default=list, blank=True)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        help_text=_("The line whose tickets a date change exchanged for this one."),
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.product_id} × {self.quantity}"

    @property
    def head_count(self) -> int:
        return self.quantity * self.persons


class Visitor(models.Model):
    """A named person on a real-name ticket (实名制)."""

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("PRC resident ID card")
        PASSPORT = "passport", _("passport")
        HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for HK/Macao residents")
        TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
        FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID card")

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="visitors")
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visitors",
    )
    name = models.CharField(_("name"), max_length=100)
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices)
    id_number = models.CharField(_("ID number"), max_length=40, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self) -> str:
        return self.name


class IdentityQuota(models.Model):
    """How many tickets one ID number holds for one site and day (against scalpers)."""

    site = models.ForeignKey("catalog.Site", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    id_number = models.CharField(max_length=40)
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "date", "id_number"], name="identityquota_unique"
            )
        ]


class OrderEvent(AppendOnlyModel):
    """The order's timeline: placed, paid, tickets issued, refunded, … (append-only)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=32)
    actor_label = models.CharField(max_length=150, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("cash")
    CARD = "card", _("bank card")
    ONLINE = "online", _("online (QR) payment")
    ACCOUNT = "account", _("charged to a B2B account's credit")
    PREPAID = "prepaid", _("paid from a B2B account's prepaid balance")


class MoneyRow(AppendOnlyModel):
    """A payment or a refund: append-only, and written only by
    ``admit.sales.services.common.money_record``, which also tells the reports (a row saved
    any other way would be money the takings never count)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            f"{type(self).__name__} rows are written by "
            "admit.sales.services.common.money_record, which the reports listen to"
        )


class Payment(MoneyRow):
    """Money received for an order."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    provider_txn = models.CharField(
        _("provider transaction"), max_length=100, null=True, blank=True
    )
    amount = money_field(_("amount"))
    tendered = money_field(_("tendered"), null=True, blank=True)
    change = money_field(_("change"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    shift = models.ForeignKey(
        "boxoffice.Shift",
        verbose_name=_("shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_txn"], name="payment_provider_txn_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
        ]


class Refund(MoneyRow):
    """Money paid back, against one payment."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    amount = money_field(_("amount"))
    fee = money_field(_("fee kept"), default=Decimal("0.00"))
    provider_ref = models.CharField(max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    tickets = models.JSONField(default=list, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    shift = models.ForeignKey(
        "boxoffice.Shift",
        verbose_name=_("shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(fee__gte=0), name="refund_not_negative"
            ),
        ]


class PaymentIntent(models.Model):
    """An online payment in progress at a provider (a QR code waiting to be paid)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SUCCEEDED = "succeeded", _("paid")
        CLOSED = "closed", _("closed")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="intents")
    provider = models.CharField(max_length=32)
    provider_ref = models.CharField(max_length=100)
    amount = money_field()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    pay_url = models.CharField(max_length=300, blank=True)
    shift = models.ForeignKey(
        "boxoffice.Shift",
        verbose_name=_("shift"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_ref"], name="intent_unique")
        ]


class Coupon(models.Model):
    """A code worth an amount or a percentage off (优惠券)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    percent = models.DecimalField(
        _("percent off"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    amount = money_field(_("amount off"), null=True, blank=True)
    min_spend = money_field(_("minimum spend"), default=Decimal("0.00"))
    products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("products"), blank=True, related_name="+"
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("uses in all"), null=True, blank=True)
    max_uses_per_customer = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True
    )
    used = models.PositiveIntegerField(_("used"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(used__lte=models.F("max_uses")),
                name="coupon_within_uses",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (self.percent is None) == (self.amount is None):
            raise ValidationError(_("A coupon takes either a percentage or an amount off."))
        if self.percent is not None and not (0 < self.percent <= 100):
            raise ValidationError({"percent": _("Between 0 and 100 %.")})
        if self.amount is not None and self.amount <= 0:
            raise ValidationError({"amount": _("The amount must be positive.")})
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The coupon ends before it starts.")})


class CouponUse(models.Model):
    """How often one customer (by phone or ID number) has used a coupon."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="uses")
    customer = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coupon", "customer"], name="couponuse_unique")
        ]


class SandboxPayment(models.Model):
    """The sandbox payment provider's own records: what a real provider keeps on its side."""

    class Status(models.TextChoices):
        WAITING = "waiting", "waiting"
        PAID = "paid", "paid"
        CLOSED = "closed", "closed"

    ref = models.CharField(max_length=40, unique=True)
    merchant_order = models.CharField(max_length=40)
    amount = money_field()
    refunded = money_field(default=Decimal("0.00"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    txn_id = models.CharField(max_length=40, blank=True)
    notify_url = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
