"""Back office for guides and drivers (导游/司机): registration through ``guide_register``, the
rules of what they earn per site, their credits (read-only) and rebate statements."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin

from .admin_common import (
    ObjectActionsMixin,
    PeriodForm,
    ServiceFormAdminMixin,
    ServiceModelForm,
    action_page,
    all_or_nothing,
    bound,
    money,
    money_column,
)
from .models import ZERO, Guide, GuideCredit, GuideRule, RebateStatement
from .services import guide_register, guide_rule_save, guide_save, rebate_statement_issue


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


@admin.register(RebateStatement)
class RebateStatementAdmin(ReadOnlyAdmin):
    """Issued from the guides' list; fixed once issued."""

    list_display = (
        "guide",
        "period_start",
        "period_end",
        "orders",
        "visitors",
        "rebate_display",
        "issued_at",
        "paid_at",
    )
    list_filter = (("guide", admin.RelatedOnlyFieldListFilter), "period_start")
    search_fields = ("guide__licence_number", "guide__name")
    list_select_related = ("guide",)

    rebate_display = money_column("rebate", _("rebate"))
