"""The box office: terminals, cashiers' shifts, printing, paper ticket stock (票证库存).

A shift (班次) is one cashier's session at one terminal, from the cash float to the handover
(交班). Cash and card money taken or paid back by a cashier points at their open shift
(``sales.Payment.shift``, ``sales.Refund.shift``), and so does every order they sell; the
handover report is computed from those rows, so it always adds up with them. What the report said
when the shift closed is kept in ``Shift.report`` and never changes afterwards.

Paper stock: a batch of numbered tickets is received; each number is a ``StockSerial`` row whose
status says its fate (in the store, issued to a cashier, printed on or bound to a ticket,
voided). ``StockMovement`` rows are the append-only history of every step.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from admit.core.models import AppendOnlyModel, money_field


class Terminal(models.Model):
    """A ticket window's computer (售票窗口) or a self-service kiosk (自助售取票机)."""

    class Kind(models.TextChoices):
        WINDOW = "window", _("ticket window")
        KIOSK = "kiosk", _("self-service kiosk")

    class Paper(models.TextChoices):
        ROLL_80MM = "80mm", _("80 mm thermal roll")
        A4 = "a4", _("A4 sheet")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    site = models.ForeignKey(
        "catalog.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.WINDOW)
    paper = models.CharField(
        _("printer paper"), max_length=8, choices=Paper.choices, default=Paper.ROLL_80MM
    )
    products = models.ManyToManyField(
        "catalog.Product",
        verbose_name=_("products sold here"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to sell every product of the site's channel."),
    )
    device = models.OneToOneField(
        "accounts.Device",
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="terminal",
        help_text=_("For a kiosk: the device whose token it uses."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def channel_code(self) -> str:
        return "kiosk" if self.kind == self.Kind.KIOSK else "window"


class CashierRights(models.Model):
    """What one cashier may sell at the window; with no row, every product of the terminal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cashier"),
        on_delete=models.CASCADE,
        related_name="cashier_rights",
    )
    products = models.ManyToManyField(
        "catalog.Product",
        verbose_name=_("products this cashier may sell"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty for every product of the terminal."),
    )
    pin_hash = models.CharField(_("approval PIN"), max_length=128, blank=True)

    class Meta:
        verbose_name = _("cashier rights")
        verbose_name_plural = _("cashier rights")

    def __str__(self) -> str:
        return str(self.user)


class DiscountPreset(models.Model):
    """A discount a cashier may pick at the window (军人优惠, 本地居民, 员工亲属, …)."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    percent = models.DecimalField(_("percent off"), max_digits=5, decimal_places=2)
    groups = models.ManyToManyField(
        "auth.Group",
        verbose_name=_("roles that see it"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty for every cashier."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("window discount")
        verbose_name_plural = _("window discounts")
        ordering = ["sort", "percent"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="discountpreset_percent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent}%)"


class Shift(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("shift status", "open")
        CLOSED = "closed", _("closed, awaiting confirmation")
        CONFIRMED = "confirmed", _("confirmed")

    terminal = models.ForeignKey(
        Terminal, verbose_name=_("terminal"), on_delete=models.PROTECT, related_name="shifts"
    )
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cashier"),
        on_delete=models.PROTECT,
        related_name="shifts",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    # Set while open, NULL afterwards: unique, so that a terminal and a cashier each have at
    # most one open shift on every database (MariaDB has no partial unique indexes).
    open_terminal = models.PositiveIntegerField(null=True, blank=True, unique=True, editable=False)
    open_cashier = models.PositiveIntegerField(null=True, blank=True, unique=True, editable=False)
    opening_float = money_field(_("cash float"))
    opened_at = models.DateTimeField(_("opened"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    expected_cash = money_field(_("expected cash"), null=True, blank=True)
    counted_cash = money_field(_("counted cash"), null=True, blank=True)
    difference = money_field(_("difference"), null=True, blank=True)
    close_note = models.CharField(_("note at close"), max_length=300, blank=True)
    report = models.JSONField(_("handover report at close"), null=True, blank=True, editable=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirm_note = models.CharField(_("supervisor's note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["-opened_at"]
        permissions = [
            ("sell_at_window", _("Sells at the window (needs an open shift)")),
            ("confirm_shift", _("Can confirm a cashier's handover")),
            ("approve_discount", _("Can approve discounts beyond a cashier's limit")),
            ("void_sale", _("Can void a sale of the own shift")),
            ("reprint_ticket", _("Can reprint tickets")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(opening_float__gte=0), name="shift_float"),
            models.CheckConstraint(
                condition=Q(counted_cash__isnull=True) | Q(counted_cash__gte=0),
                name="shift_counted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.terminal.code} · {self.cashier} · {self.opened_at:%Y-%m-%d %H:%M}"


class ShiftAction(AppendOnlyModel):
    """Things a shift did besides taking money: voids, reprints, approvals (append-only)."""

    class Kind(models.TextChoices):
        VOID = "void", _("void")
        REPRINT = "reprint", _("reprint")
        APPROVAL = "approval", _("discount approved")
        APPROVAL_REFUSED = "approval_refused", _("approval refused")

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    order = models.ForeignKey(
        "sales.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(_("amount"), default=Decimal("0.00"))
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shift action")
        verbose_name_plural = _("shift actions")
        ordering = ["at", "id"]


class TicketTemplate(models.Model):
    """How a product's ticket is printed: which fields go where, on 80 mm rolls or A4."""

    name = models.CharField(_("name"), max_length=100)
    site = models.ForeignKey(
        "catalog.Site", verbose_name=_("site"), on_delete=models.CASCADE, related_name="+"
    )
    products = models.ManyToManyField(
        "catalog.Product",
        verbose_name=_("products"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to make this the site's default for the paper size."),
    )
    paper = models.CharField(
        _("paper"), max_length=8, choices=Terminal.Paper.choices, default=Terminal.Paper.ROLL_80MM
    )
    layout = models.JSONField(_("layout"), default=list, blank=True)
    logo = models.TextField(_("logo (PNG, base64)"), blank=True)
    terms = models.TextField(_("terms printed"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("ticket template")
        verbose_name_plural = _("ticket templates")
        ordering = ["site", "paper", "name"]

    def __str__(self) -> str:
        return self.name


class TicketPrint(AppendOnlyModel):
    """One ticket printed once: first print, reprint (marked on the paper) or kiosk pick-up."""

    class Kind(models.TextChoices):
        FIRST = "first", _("first print")
        REPRINT = "reprint", _("reprint")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="prints")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="prints"
    )
    terminal = models.ForeignKey(
        Terminal, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        TicketTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    serial = models.ForeignKey(
        "boxoffice.StockSerial", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ticket print")
        verbose_name_plural = _("ticket prints")
        ordering = ["at", "id"]


class StockBatch(models.Model):
    """Numbered paper tickets received into the store (入库), e.g. A0000001–A0005000."""

    code = models.SlugField(_("batch"), max_length=40, unique=True)
    site = models.ForeignKey(
        "catalog.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("pre-printed for product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "Pre-printed stock: selling binds the next number to the ticket. "
            "Leave empty for blank stock that tickets are printed on."
        ),
    )
    prefix = models.CharField(_("prefix"), max_length=8, blank=True)
    first_number = models.PositiveIntegerField(_("first number"))
    last_number = models.PositiveIntegerField(_("last number"))
    digits = models.PositiveSmallIntegerField(_("digits"), default=7)
    received_at = models.DateTimeField(_("received"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ticket stock batch")
        verbose_name_plural = _("ticket stock batches")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_number__gte=models.F("first_number")), name="stockbatch_range"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.code} ({self.serial_of(self.first_number)}–{self.serial_of(self.last_number)})"
        )

    def serial_of(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}"


class StockSerial(models.Model):
    """One numbered paper ticket and its fate."""

    class Status(models.TextChoices):
        IN_STORE = "in_store", _("in the store")
        ISSUED = "issued", _("issued to a cashier")
        USED = "used", _("used for a ticket")
        VOIDED = "voided", _("voided")

    batch = models.ForeignKey(StockBatch, on_delete=models.PROTECT, related_name="serials")
    number = models.PositiveIntegerField(_("number"))
    serial = models.CharField(_("paper serial"), max_length=24, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IN_STORE
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="serials"
    )
    ticket = models.OneToOneField(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="paper",
    )
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("paper ticket")
        verbose_name_plural = _("paper tickets")
        ordering = ["batch", "number"]
        indexes = [models.Index(fields=["holder", "status", "number"])]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="stockserial_unique")
        ]

    def __str__(self) -> str:
        return self.serial


class StockMovement(AppendOnlyModel):
    """One step in paper stock's life: received, issued, returned, used, voided (append-only)."""

    class Kind(models.TextChoices):
        RECEIVE = "receive", _("received")
        ISSUE = "issue", _("issued")
        RETURN = "return", _("returned")
        USE = "use", _("used")
        VOID = "void", _("voided")

    batch = models.ForeignKey(StockBatch, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    first_number = models.PositiveIntegerField(_("from"))
    last_number = models.PositiveIntegerField(_("to"))
    count = models.PositiveIntegerField(_("count"))
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["at", "id"]
