"""Customers: B2B accounts (旅行社, 协议单位) with contracts, credit (挂账) and prepaid money
(预存款); members (会员) with levels and points; passes (年卡) bound to a member; guides and
drivers (导游/司机) with their rebates.

Money and points move only through append-only ledgers (``LedgerEntry``, ``PointsEntry``,
``GuideCredit``); the figures kept on the account, member and guide rows are the ledger's running
sums, changed by one conditional UPDATE in the same transaction as the ledger row, so that two
bookings at once can never draw beyond a credit limit or below a zero balance
(``admit check-ledgers`` compares both).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from admit.core.models import AppendOnlyModel, money_field

ZERO = Decimal("0.00")
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def percent_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(
        verbose_name, max_digits=5, decimal_places=2, validators=PERCENT, **kwargs
    )


class Account(models.Model):
    class Kind(models.TextChoices):
        AGENCY = "agency", _("travel agency")
        CORPORATE = "corporate", _("corporate client")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.AGENCY)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    credit_limit = money_field(
        _("credit limit"),
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
        help_text=_("How much the account may owe on credit (挂账); 0: no credit."),
    )
    credit_used = money_field(_("owed on credit"), default=ZERO, editable=False)
    prepaid_balance = money_field(_("prepaid balance"), default=ZERO, editable=False)

    class Meta:
        verbose_name = _("B2B account")
        verbose_name_plural = _("B2B accounts")
        ordering = ["code"]
        permissions = [("record_topup", _("Can record money received into prepaid balances"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(prepaid_balance__gte=0), name="account_prepaid_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(credit_used__gte=0), name="account_credit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def credit_available(self) -> Decimal:
        return max(self.credit_limit - self.credit_used, ZERO)


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


class Contract(models.Model):
    """An account's contract (合同): when it runs, what the account may buy on which channels,
    at what discount, and how often it settles."""

    class Cycle(models.TextChoices):
        WEEKLY = "weekly", _("weekly")
        MONTHLY = "monthly", _("monthly")
        QUARTERLY = "quarterly", _("quarterly")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="contracts"
    )
    number = models.CharField(_("contract number"), max_length=40, unique=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    discount_percent = percent_field(
        _("discount (%)"),
        default=Decimal("0.00"),
        help_text=_("The discount class for products without a discount of their own."),
    )
    channels = models.ManyToManyField(
        "catalog.Channel",
        verbose_name=_("channels"),
        blank=True,
        related_name="+",
        help_text=_("Where the account may book; empty: any channel it can reach."),
    )
    settlement_cycle = models.CharField(
        _("settlement cycle"), max_length=16, choices=Cycle.choices, default=Cycle.MONTHLY
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["account", "-valid_from"]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The contract ends before it starts.")})


class ContractProduct(models.Model):
    """A product the contract allows, with its own discount. A contract that lists products
    allows only those."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    discount_percent = percent_field(_("discount (%)"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract product")
        verbose_name_plural = _("contract products")
        constraints = [
            models.UniqueConstraint(fields=["contract", "product"], name="contractproduct_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contract} / {self.product}"


class Book(models.TextChoices):
    PREPAID = "prepaid", _("prepaid balance (预存款)")
    CREDIT = "credit", _("credit (挂账)")


class LedgerEntry(AppendOnlyModel):
    """One movement of an account's prepaid balance or credit (append-only). ``amount`` is the
    change of the book's figure: the prepaid balance, or what is owed on credit."""

    class Kind(models.TextChoices):
        TOPUP = "topup", _("top-up")
        DRAW = "draw", _("booking paid from prepaid")
        CHARGE = "charge", _("booking charged to credit")
        REFUND = "refund", _("refund")
        REPAY = "repay", _("settlement payment received")
        ADJUST = "adjust", _("adjustment")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="ledger"
    )
    book = models.CharField(_("book"), max_length=16, choices=Book.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = money_field(_("amount"))
    balance_after = money_field(_("balance after"))
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    statement = models.ForeignKey(
        "customers.Statement",
        verbose_name=_("statement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["account", "book", "at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.book} {self.kind} {self.amount}"


class Statement(models.Model):
    """A settlement statement (结算单) of an account's credit for a period: what was charged,
    what was refunded, what is due, and what has been paid against it. Its figures are fixed
    when it is issued; payments received are ledger entries that point at it."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("statement", "open")
        SETTLED = "settled", _("settled")

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="statements"
    )
    number = models.CharField(_("statement number"), max_length=40, unique=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    orders = models.PositiveIntegerField(_("orders"), default=0)
    charged = money_field(_("charged"))
    refunded = money_field(_("refunded"))
    due = money_field(_("amount due"))
    paid = money_field(_("paid"), default=ZERO, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    issued_by = models.CharField(_("issued by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        ordering = ["account", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period_start"], name="statement_account_period_unique"
            ),
            models.CheckConstraint(condition=Q(paid__lte=F("due")), name="statement_not_overpaid"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self) -> Decimal:
        return self.due - self.paid


# --- Members and passes -------------------------------------------------------------------------


class MemberLevel(models.Model):
    """A membership level (会员等级) and its benefits."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    discount_percent = percent_field(
        _("member price discount (%)"), default=Decimal("0.00"), help_text=_("Off the price.")
    )
    booking_days_ahead = models.PositiveSmallIntegerField(
        _("extra days of booking ahead"),
        default=0,
        help_text=_("Priority booking: how many days before everyone else members may book."),
    )
    points_per_yuan = models.DecimalField(
        _("points per yuan spent"), max_digits=6, decimal_places=2, default=Decimal("1.00")
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """A registered person (会员): the holder of passes, who earns and redeems points."""

    number = models.CharField(_("member number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, unique=True)
    id_number = models.CharField(_("ID number"), max_length=40, null=True, blank=True, unique=True)
    level = models.ForeignKey(
        MemberLevel,
        verbose_name=_("level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    photo = models.TextField(
        _("photo"), blank=True, help_text=_("A small photo as a data URL, shown at the gate.")
    )
    points = models.IntegerField(_("points"), default=0, editable=False)
    province = models.CharField(_("province"), max_length=6, blank=True)
    city = models.CharField(_("city"), max_length=6, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shop login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    is_active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="member_points_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class PointsEntry(AppendOnlyModel):
    """Points earned or redeemed (append-only); the member's points are their sum."""

    class Kind(models.TextChoices):
        EARN = "earn", _("earned")
        REDEEM = "redeem", _("redeemed")
        REVERSE = "reverse", _("taken back (refund)")
        ADJUST = "adjust", _("adjustment")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_entries")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    order = models.ForeignKey(
        "sales.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["at", "id"]


class Pass(models.Model):
    """A pass (年卡/季卡/月卡/次卡) bound to one member. Each paid period is a ticket of the pass
    product (the first sale, then each renewal); cards and face tokens are bound to all of them,
    so a gate finds the one valid on the day."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        FROZEN = "frozen", _("frozen")
        CANCELLED = "cancelled", _("cancelled")

    number = models.CharField(_("pass number"), max_length=20, unique=True)
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="passes"
    )
    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    card_uid = models.CharField(_("card"), max_length=32, blank=True)
    replacements = models.PositiveSmallIntegerField(_("cards replaced"), default=0)
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        ordering = ["-created_at"]
        permissions = [("freeze_pass", _("Can freeze and thaw passes"))]

    def __str__(self) -> str:
        return self.number


# --- Guides and drivers -------------------------------------------------------------------------


class Guide(models.Model):
    """A tour guide or coach driver (导游/司机) who brings groups."""

    class Kind(models.TextChoices):
        GUIDE = "guide", _("tour guide")
        DRIVER = "driver", _("driver")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.GUIDE)
    licence_number = models.CharField(_("licence number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guides",
    )
    points = models.IntegerField(_("points"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("guide or driver")
        verbose_name_plural = _("guides and drivers")
        ordering = ["licence_number"]

    def __str__(self) -> str:
        return f"{self.name} ({self.licence_number})"


class GuideRule(models.Model):
    """What a guide or driver gets for a group brought to a site: free or discounted entry of
    their own once the group is large enough, and points and a rebate per visitor."""

    site = models.ForeignKey("catalog.Site", verbose_name=_("site"), on_delete=models.CASCADE)
    kind = models.CharField(
        _("for"), max_length=16, choices=Guide.Kind.choices, default=Guide.Kind.GUIDE
    )
    min_group = models.PositiveSmallIntegerField(
        _("smallest group"), default=10, validators=[MinValueValidator(1)]
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("own entry on"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The ticket type of the guide's own entry; empty: no entry of their own."),
    )
    entry_discount_percent = percent_field(
        _("own entry discount (%)"), default=Decimal("100.00"), help_text=_("100: free entry.")
    )
    rebate_per_visitor = money_field(_("rebate per visitor"), default=ZERO)
    points_per_visitor = models.PositiveSmallIntegerField(_("points per visitor"), default=0)

    class Meta:
        verbose_name = _("guide rule")
        verbose_name_plural = _("guide rules")
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="guiderule_site_kind_unique")
        ]

    def __str__(self) -> str:
        return f"{self.site} / {self.get_kind_display()}"

    def clean(self) -> None:
        product = self.product if self.product_id is not None else None
        if product is not None and self.site_id is not None:
            if product.site_id != self.site_id:
                raise ValidationError({"product": _("A ticket type of this site.")})
            if product.real_name_required or product.kind not in ("admission", "combo"):
                raise ValidationError(
                    {"product": _("An admission or combo ticket without real names.")}
                )


class GuideCredit(AppendOnlyModel):
    """Visitors a guide brought in one order, with the points and rebate earned (append-only;
    a refund appends a negative row)."""

    guide = models.ForeignKey(Guide, on_delete=models.PROTECT, related_name="credits")
    order = models.ForeignKey("sales.Order", on_delete=models.PROTECT, related_name="+")
    visitors = models.IntegerField(_("visitors"))
    points = models.IntegerField(_("points"))
    rebate = money_field(_("rebate"))
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("guide credit")
        verbose_name_plural = _("guide credits")
        ordering = ["at", "id"]


class RebateStatement(models.Model):
    """A guide's rebate statement (返利结算单) for a period, fixed when issued. The venue pays it
    out, at once or in parts (``RebatePayment`` rows, append-only; ``paid`` is their running
    sum), until it is paid; a statement issued in error is voided before anything is paid."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("statement", "open")
        PAID = "paid", pgettext_lazy("statement", "paid")
        VOID = "void", pgettext_lazy("statement", "void")

    guide = models.ForeignKey(
        Guide, verbose_name=_("guide"), on_delete=models.PROTECT, related_name="statements"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    orders = models.PositiveIntegerField(_("orders"))
    visitors = models.IntegerField(_("visitors"))
    rebate = money_field(_("rebate"))
    paid = money_field(_("paid"), default=ZERO, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)

    class Meta:
        verbose_name = _("rebate statement")
        verbose_name_plural = _("rebate statements")
        ordering = ["guide", "-period_start"]
        constraints = [
            # Issuing locks the guide's row and checks for overlaps; this is the backstop
            # where the database has partial indexes (not MariaDB: Django's check W036).
            models.UniqueConstraint(
                fields=["guide", "period_start"],
                condition=~Q(status="void"),
                name="rebatestatement_period_unique",
            ),
            models.CheckConstraint(
                condition=Q(paid=0) | (Q(paid__gt=0) & Q(paid__lte=F("rebate"))),
                name="rebatestatement_not_overpaid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guide} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"

    @property
    def outstanding(self) -> Decimal:
        """What is still to pay out (nothing once paid or voided)."""
        if self.status != self.Status.OPEN:
            return ZERO
        return max(self.rebate - self.paid, ZERO)


class RebatePayment(AppendOnlyModel):
    """Money paid out to a guide against a rebate statement (append-only). ``key`` makes a
    repeat of the same payment (a double submit, a retried request) find the first one."""

    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        TRANSFER = "transfer", _("bank transfer")
        WECHAT = "wechat", _("WeChat transfer")
        ALIPAY = "alipay", _("Alipay transfer")

    statement = models.ForeignKey(
        RebateStatement,
        verbose_name=_("rebate statement"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    amount = money_field(_("amount"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("rebate payment")
        verbose_name_plural = _("rebate payments")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "key"], name="rebatepayment_key_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="rebatepayment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.method} {self.amount}"
