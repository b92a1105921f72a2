"""Back office for guides and drivers (导游/司机): registration through ``guide_register``, the
rules of what they earn per site, their credits (read-only), and rebate statements with the
money paid out against them."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .admin_common import (
    MoneyForm,
    ObjectActionsMixin,
    PeriodForm,
    ServiceFormAdminMixin,
    ServiceModelForm,
    action_page,
    all_or_nothing,
    bound,
    local_time,
    money,
    money_column,
    one_selected,
)
from .models import ZERO, Guide, GuideCredit, GuideRule, RebatePayment, RebateStatement
from .services import (
    guide_register,
    guide_rule_save,
    guide_save,
    rebate_statement_issue,
    rebate_statement_pay,
    rebate_statement_void,
)


class GuideForm(ServiceModelForm):
    """Registration (``guide_register``: licence number checked and upper-cased, phone
    checked) on add, ``guide_save`` on change."""

    class Meta:
        model = Guide
        fields = ("kind", "licence_number", "name", "phone", "account", "is_active")

    def clean_licence_number(self) -> str:
        # As the service stores it, so that the uniqueness check sees the same on every
        # database (MariaDB compares case-insensitively, SQLite and PostgreSQL do not).
        return str(self.cleaned_data.get("licence_number") or "").strip().upper()

    def apply(self) -> Guide:
        data = self.cleaned_data
        if self.instance.pk is None:
            return guide_register(
                name=data["name"],
                licence_number=data["licence_number"],
                phone=data.get("phone") or "",
                kind=data["kind"],
                account=data.get("account"),
                actor=self.actor,
            )
        return guide_save(instance=self.instance, actor=self.actor)


@admin.register(Guide)
class GuideAdmin(ObjectActionsMixin, ServiceFormAdminMixin, AuditedModelAdmin):
    form = GuideForm
    list_display = ("licence_number", "name", "kind", "phone", "account", "points", "is_active")
    list_filter = ("kind", "is_active", ("account", admin.RelatedOnlyFieldListFilter))
    search_fields = ("licence_number", "name", "phone")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    readonly_fields = ("points",)
    actions = ["issue_rebate_statements"]
    object_actions = ("issue_rebate_statements",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = GuideForm.Meta.fields
        return fields[:-1] if obj is None else (*fields, "points")

    def has_issue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.add_rebatestatement")

    @admin.action(description=_("Issue a rebate statement…"), permissions=["issue"])
    def issue_rebate_statements(self, request: HttpRequest, queryset: QuerySet[Guide]) -> Any:
        guides = list(queryset[:100])

        def issue(data: dict[str, Any]) -> str:
            made = all_or_nothing(
                guides,
                lambda g: rebate_statement_issue(
                    guide=g,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    actor=request.user,
                ),
            )
            total = sum((s.rebate for s in made), ZERO)
            return ngettext(
                "%(n)d rebate statement issued, %(rebate)s in all.",
                "%(n)d rebate statements issued, %(rebate)s in all.",
                len(made),
            ) % {"n": len(made), "rebate": money(total)}

        return action_page(
            self,
            request,
            objects=guides,
            action="issue_rebate_statements",
            title=gettext("Issue rebate statements"),
            intro=gettext(
                "A rebate statement fixes the visitors a guide or driver brought in an ended "
                "period and the rebate they earned."
            ),
            form=bound(PeriodForm, request),
            apply=issue,
            submit=gettext("Issue"),
        )


@admin.register(GuideRule)
class GuideRuleAdmin(AuditedModelAdmin):
    list_display = (
        "site",
        "kind",
        "min_group",
        "entry_discount_percent",
        "rebate_per_visitor",
        "points_per_visitor",
    )
    list_filter = ("site", "kind")
    save_services = {GuideRule: guide_rule_save}


@admin.register(GuideCredit)
class GuideCreditAdmin(ReadOnlyAdmin):
    list_display = ("at", "guide", "order", "visitors", "points", "rebate_display")
    list_filter = (("guide", admin.RelatedOnlyFieldListFilter), ("at", admin.DateFieldListFilter))
    search_fields = ("=order__code", "guide__licence_number", "guide__name")
    list_select_related = ("guide", "order")
    ordering = ("-at", "-id")

    rebate_display = money_column("rebate", _("rebate"))


class RebatePaymentForm(MoneyForm):
    method = forms.ChoiceField(label=_("method"), choices=RebatePayment.Method.choices)
    # Made when the page is first shown: submitting the same page twice pays once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=200)

    field_order = ("amount", "method", "reference")


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200)


def _payments_table(payments: list[RebatePayment]) -> str:
    if not payments:
        return gettext("Nothing paid yet.")
    head = (
        gettext("time"),
        gettext("amount"),
        gettext("method"),
        gettext("reference"),
        gettext("by"),
    )
    rows = format_html_join(
        "",
        "<tr>" + "<td>{}</td>" * len(head) + "</tr>",
        (
            (
                local_time(p.at),
                money(p.amount),
                p.get_method_display(),
                p.reference or "—",
                p.actor_label,
            )
            for p in payments
        ),
    )
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    return format_html('<table class="customers-ledger"><tr>{}</tr>{}</table>', header, rows)


@admin.register(RebateStatement)
class RebateStatementAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    """Issued from the guides' list and fixed once issued; paid out (at once or in parts) or
    voided with the actions."""

    list_display = (
        "guide",
        "period_start",
        "period_end",
        "orders",
        "visitors",
        "rebate_display",
        "paid_display",
        "outstanding_display",
        "status",
        "issued_at",
        "paid_at",
    )
    list_filter = ("status", ("guide", admin.RelatedOnlyFieldListFilter), "period_start")
    search_fields = ("guide__licence_number", "guide__name")
    list_select_related = ("guide",)
    fields = (
        "guide",
        "period_start",
        "period_end",
        "orders",
        "visitors",
        "rebate_display",
        "paid_display",
        "outstanding_display",
        "status",
        "issued_at",
        "paid_at",
        "payments_display",
    )
    readonly_fields = fields
    actions = ["record_rebate_payment", "void_rebate_statements"]
    object_actions = ("record_rebate_payment", "void_rebate_statements")

    rebate_display = money_column("rebate", _("rebate"))
    paid_display = money_column("paid", _("paid"))
    outstanding_display = money_column("outstanding", _("outstanding"), sortable=False)

    def has_pay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.change_rebatestatement")

    @admin.display(description=_("money paid out"))
    def payments_display(self, obj: RebateStatement) -> str:
        return _payments_table(list(obj.payments.order_by("at", "id")))

    @admin.action(description=_("Pay out the rebate…"), permissions=["pay"])
    def record_rebate_payment(
        self, request: HttpRequest, queryset: QuerySet[RebateStatement]
    ) -> Any:
        statement = one_selected(
            self, request, queryset.select_related("guide"), gettext("rebate statement")
        )
        if statement is None:
            return None

        def pay(data: dict[str, Any]) -> str:
            rebate_statement_pay(
                statement=statement,
                amount=data["amount"],
                method=data["method"],
                reference=data["reference"],
                key=data["key"],
                actor=request.user,
            )
            return gettext("%(amount)s paid out to %(guide)s; %(left)s still to pay.") % {
                "amount": money(data["amount"]),
                "guide": statement.guide,
                "left": money(statement.outstanding),
            }

        form = bound(RebatePaymentForm, request)
        if not form.is_bound:
            form = RebatePaymentForm(
                initial={
                    "amount": statement.outstanding,
                    "method": RebatePayment.Method.TRANSFER,
                    "key": uuid.uuid4().hex,
                }
            )
        return action_page(
            self,
            request,
            objects=[statement],
            action="record_rebate_payment",
            title=gettext("Pay out the rebate of %(statement)s") % {"statement": statement},
            facts=[
                (gettext("rebate"), money(statement.rebate)),
                (gettext("paid"), money(statement.paid)),
                (gettext("outstanding"), money(statement.outstanding)),
            ],
            form=form,
            apply=pay,
            submit=gettext("Record the payment"),
        )

    @admin.action(description=_("Void…"), permissions=["pay"])
    def void_rebate_statements(
        self, request: HttpRequest, queryset: QuerySet[RebateStatement]
    ) -> Any:
        statements = list(queryset.select_related("guide")[:100])

        def void(data: dict[str, Any]) -> str:
            done = all_or_nothing(
                statements,
                lambda s: rebate_statement_void(
                    statement=s, reason=data["reason"], actor=request.user
                ),
            )
            return ngettext(
                "%(n)d rebate statement voided.", "%(n)d rebate statements voided.", len(done)
            ) % {"n": len(done)}

        return action_page(
            self,
            request,
            objects=statements,
            action="void_rebate_statements",
            title=gettext("Void rebate statements"),
            intro=gettext(
                "A statement issued in error is voided before anything is paid against it; "
                "nothing is paid out for it, and its period can then be issued again, correctly."
            ),
            form=bound(VoidForm, request),
            apply=void,
            submit=gettext("Void"),
        )


@admin.register(RebatePayment)
class RebatePaymentAdmin(ReadOnlyAdmin):
    """Money paid out to guides and drivers; written by ``rebate_statement_pay`` only."""

    list_display = ("at", "statement", "amount_display", "method", "reference", "actor_label")
    list_filter = ("method", ("at", admin.DateFieldListFilter))
    search_fields = ("reference", "statement__guide__licence_number", "statement__guide__name")
    list_select_related = ("statement__guide",)
    ordering = ("-at", "-id")

    amount_display = money_column("amount", _("amount"))
