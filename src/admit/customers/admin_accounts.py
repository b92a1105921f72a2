"""Back office for B2B accounts (协议单位/旅行社): their users and contracts, prepaid top-ups,
the ledger (read-only), settlement statements with the payments received against them and a
printable statement."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.core.admin import AuditedAdminMixin, AuditedModelAdmin, ReadOnlyAdmin

from .admin_common import (
    MoneyForm,
    ObjectActionsMixin,
    PeriodForm,
    action_page,
    all_or_nothing,
    bound,
    local_time,
    money,
    money_column,
    one_selected,
)
from .models import Account, AccountMember, Book, Contract, ContractProduct, LedgerEntry, Statement
from .services import (
    account_member_save,
    account_save,
    account_topup,
    contract_save,
    statement_issue,
    statement_pay,
)

LEDGER_ROWS = 20


def _ledger_table(entries: list[LedgerEntry], *, with_account: bool = False) -> str:
    if not entries:
        return gettext("No entries yet.")
    head = [
        gettext("time"),
        *([gettext("account")] if with_account else []),
        gettext("book"),
        gettext("kind"),
        gettext("amount"),
        gettext("balance after"),
        gettext("order"),
        gettext("reference"),
        gettext("by"),
    ]

    def order_cell(e: LedgerEntry) -> str:
        if e.order_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:sales_order_change", args=[e.order_id]),
            e.order.code,  # type: ignore[union-attr]
        )

    rows = format_html_join(
        "",
        "<tr>" + "<td>{}</td>" * len(head) + "</tr>",
        (
            (
                local_time(e.at),
                *([str(e.account)] if with_account else []),
                e.get_book_display(),
                e.get_kind_display(),
                money(e.amount),
                money(e.balance_after),
                order_cell(e),
                e.reference or "—",
                e.actor_label,
            )
            for e in entries
        ),
    )
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    return format_html('<table class="customers-ledger"><tr>{}</tr>{}</table>', header, rows)


# --- Accounts -----------------------------------------------------------------------------------


class AccountMemberInline(AuditedAdminMixin, admin.TabularInline):
    model = AccountMember
    extra = 0
    autocomplete_fields = ("user",)


class ContractInline(AuditedAdminMixin, admin.TabularInline):
    """The account's contracts; products and channels are set on the contract's own page."""

    model = Contract
    extra = 0
    fields = (
        "number",
        "valid_from",
        "valid_until",
        "discount_percent",
        "settlement_cycle",
        "is_active",
    )
    show_change_link = True


@admin.register(Account)
class AccountAdmin(ObjectActionsMixin, AuditedModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "is_active",
        "credit_limit_display",
        "credit_used_display",
        "credit_available_display",
        "prepaid_display",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "contact_phone")
    inlines = [AccountMemberInline, ContractInline]
    save_services = {
        Account: account_save,
        AccountMember: account_member_save,
        Contract: contract_save,
    }
    readonly_fields = (
        "credit_used_display",
        "credit_available_display",
        "prepaid_display",
        "ledger_display",
    )
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "contact_phone", "is_active")}),
        (
            _("Money"),
            {
                "fields": (
                    "credit_limit",
                    "credit_used_display",
                    "credit_available_display",
                    "prepaid_display",
                )
            },
        ),
        (_("Ledger"), {"fields": ("ledger_display",)}),
    )
    actions = ["record_topup", "issue_statements"]
    object_actions = ("record_topup", "issue_statements")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fieldsets if obj is not None else self.fieldsets[:2]

    def has_topup_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.record_topup")

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.add_statement")

    credit_limit_display = money_column("credit_limit", _("credit limit"))
    credit_used_display = money_column("credit_used", _("owed on credit"))
    credit_available_display = money_column(
        "credit_available", _("credit available"), sortable=False
    )
    prepaid_display = money_column("prepaid_balance", _("prepaid balance"))

    @admin.display(description=_("latest ledger entries"))
    def ledger_display(self, obj: Account) -> str:
        entries = list(
            LedgerEntry.objects.filter(account=obj)
            .select_related("order")
            .order_by("-at", "-id")[:LEDGER_ROWS]
        )
        url = reverse("admin:customers_ledgerentry_changelist") + f"?account__id__exact={obj.pk}"
        total = LedgerEntry.objects.filter(account=obj).count()
        return format_html(
            '{}<p><a href="{}" id="account-ledger-link">{}</a></p>',
            _ledger_table(entries),
            url,
            ngettext("All %(n)d entry", "All %(n)d entries", total) % {"n": total},
        )

    @admin.action(description=_("Record a top-up…"), permissions=["topup"])
    def record_topup(self, request: HttpRequest, queryset: QuerySet[Account]) -> Any:
        account = one_selected(self, request, queryset, gettext("account"))
        if account is None:
            return None

        def topup(data: dict[str, Any]) -> str:
            entry = account_topup(
                account=account,
                amount=data["amount"],
                reference=data["reference"],
                actor=request.user,
            )
            return gettext(
                "%(amount)s received; the prepaid balance of %(account)s is now %(balance)s."
            ) % {
                "amount": money(entry.amount),
                "account": account,
                "balance": money(entry.balance_after),
            }

        return action_page(
            self,
            request,
            objects=[account],
            action="record_topup",
            title=gettext("Record a top-up of %(account)s") % {"account": account},
            intro=gettext("Money received into the account's prepaid balance (预存款)."),
            facts=[(gettext("prepaid balance"), money(account.prepaid_balance))],
            form=bound(MoneyForm, request),
            apply=topup,
            submit=gettext("Record the top-up"),
        )

    @admin.action(description=_("Issue a settlement statement…"), permissions=["issue"])
    def issue_statements(self, request: HttpRequest, queryset: QuerySet[Account]) -> Any:
        accounts = list(queryset[:100])

        def issue_all(data: dict[str, Any]) -> str:
            made = all_or_nothing(
                accounts,
                lambda a: statement_issue(
                    account=a,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    actor=request.user,
                ),
            )
            return ngettext(
                "%(n)d statement issued: %(numbers)s.",
                "%(n)d statements issued: %(numbers)s.",
                len(made),
            ) % {"n": len(made), "numbers": ", ".join(s.number for s in made)}

        return action_page(
            self,
            request,
            objects=accounts,
            action="issue_statements",
            title=gettext("Issue settlement statements"),
            intro=gettext(
                "A statement fixes what the account charged to credit in an ended period, "
                "what was refunded and what is due."
            ),
            form=bound(PeriodForm, request),
            apply=issue_all,
            submit=gettext("Issue"),
        )


class ContractProductInline(AuditedAdminMixin, admin.TabularInline):
    model = ContractProduct
    extra = 0
    autocomplete_fields = ("product",)


@admin.register(Contract)
class ContractAdmin(AuditedModelAdmin):
    list_display = (
        "number",
        "account",
        "valid_from",
        "valid_until",
        "discount_percent",
        "settlement_cycle",
        "is_active",
    )
    list_filter = ("is_active", "settlement_cycle", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("number", "account__code", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    filter_horizontal = ("channels",)
    inlines = [ContractProductInline]
    save_services = {Contract: contract_save}


# --- Ledger -------------------------------------------------------------------------------------


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Every movement of prepaid money and credit; written by the services only."""

    list_display = (
        "at",
        "account",
        "book",
        "kind",
        "amount_display",
        "balance_display",
        "order",
        "statement",
        "reference",
        "actor_label",
    )
    # A date filter rather than a date hierarchy: that one needs MariaDB's time zone tables.
    list_filter = (
        ("account", admin.RelatedOnlyFieldListFilter),
        "book",
        "kind",
        ("at", admin.DateFieldListFilter),
    )
    search_fields = ("=order__code", "reference", "=statement__number", "account__code")
    list_select_related = ("account", "order", "statement")
    list_per_page = 100
    ordering = ("-at", "-id")

    amount_display = money_column("amount", _("amount"))
    balance_display = money_column("balance_after", _("balance after"), sortable=False)


# --- Statements ---------------------------------------------------------------------------------


@admin.register(Statement)
class StatementAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    """Statements are issued from the accounts' list and never edited; money received against
    them is recorded with the action."""

    list_display = (
        "number",
        "account",
        "period_start",
        "period_end",
        "orders",
        "charged_display",
        "refunded_display",
        "due_display",
        "paid_display",
        "outstanding_display",
        "status",
        "print_link",
    )
    list_filter = ("status", ("account", admin.RelatedOnlyFieldListFilter), "period_start")
    search_fields = ("number", "account__code", "account__name")
    list_select_related = ("account",)
    fields = (
        "number",
        "account",
        "period_start",
        "period_end",
        "status",
        "orders",
        "charged_display",
        "refunded_display",
        "due_display",
        "paid_display",
        "outstanding_display",
        "issued_at",
        "issued_by",
        "print_link",
        "payments_display",
        "entries_display",
    )
    readonly_fields = fields
    actions = ["record_payment"]
    object_actions = ("record_payment",)

    def has_pay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.change_statement")

    charged_display = money_column("charged", _("charged"))
    refunded_display = money_column("refunded", _("refunded"))
    due_display = money_column("due", _("amount due"))
    paid_display = money_column("paid", _("paid"))
    outstanding_display = money_column("outstanding", _("outstanding"), sortable=False)

    @admin.display(description=_("print"))
    def print_link(self, obj: Statement) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("admin:customers_statement_print", args=[obj.pk]),
            gettext("printable statement"),
        )

    @admin.display(description=_("payments received"))
    def payments_display(self, obj: Statement) -> str:
        return _ledger_table(list(LedgerEntry.objects.filter(statement=obj).order_by("at", "id")))

    @admin.display(description=_("orders behind it"))
    def entries_display(self, obj: Statement) -> str:
        return _ledger_table(statement_entries(obj))

    # --- The printable statement ----------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:statement_id>/print/",
                self.admin_site.admin_view(self.print_view),
                name="customers_statement_print",
            ),
            *super().get_urls(),
        ]

    def print_view(self, request: HttpRequest, statement_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement = get_object_or_404(Statement.objects.select_related("account"), pk=statement_id)
        context = {
            "statement": statement,
            "entries": statement_entries(statement),
            "payments": [
                {"at": e.at, "reference": e.reference, "amount": -e.amount}
                for e in LedgerEntry.objects.filter(statement=statement).order_by("at", "id")
            ],
            "site_header": self.admin_site.site_header,
        }
        return TemplateResponse(request, "admin/customers/statement_print.html", context)

    # --- Payments received ----------------------------------------------------------------------

    @admin.action(description=_("Record a payment received…"), permissions=["pay"])
    def record_payment(self, request: HttpRequest, queryset: QuerySet[Statement]) -> Any:
        statement = one_selected(self, request, queryset, gettext("statement"))
        if statement is None:
            return None

        def pay(data: dict[str, Any]) -> str:
            statement_pay(
                statement=statement,
                amount=data["amount"],
                reference=data["reference"],
                actor=request.user,
            )
            statement.refresh_from_db()
            return gettext("%(amount)s received against %(number)s; %(left)s outstanding.") % {
                "amount": money(data["amount"]),
                "number": statement.number,
                "left": money(statement.outstanding),
            }

        form = bound(MoneyForm, request)
        if not form.is_bound:
            form = MoneyForm(initial={"amount": statement.outstanding})
        return action_page(
            self,
            request,
            objects=[statement],
            action="record_payment",
            title=gettext("Record a payment received against %(number)s")
            % {"number": statement.number},
            facts=[
                (gettext("amount due"), money(statement.due)),
                (gettext("paid"), money(statement.paid)),
                (gettext("outstanding"), money(statement.outstanding)),
            ],
            form=form,
            apply=pay,
            submit=gettext("Record the payment"),
        )


def statement_entries(statement: Statement) -> list[LedgerEntry]:
    """The credit ledger's charges and refunds of the statement's period: the orders behind
    its figures."""
    from .services import _local_bounds

    lo, hi = _local_bounds(statement.period_start, statement.period_end)
    return list(
        LedgerEntry.objects.filter(
            account_id=statement.account_id,
            book=Book.CREDIT,
            kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.REFUND],
            at__gte=lo,
            at__lt=hi,
        )
        .select_related("order")
        .order_by("at", "id")
    )
