"""Back office for paper ticket stock (票证库存): batches received through the add form, ranges
issued to cashiers and returned, paper voided with a reason — all through the stock services —
and the reconciliation of every serial's fate and every gap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.core.admin import ReadOnlyAdmin
from admit.core.errors import DomainError

from . import stock_report
from .models import StockBatch, StockMovement, StockSerial
from .services import stock_issue, stock_receive, stock_return, stock_void

RUNS_PER_PAGE = 100
S = StockSerial.Status


def _cashiers() -> QuerySet[Any]:
    """Active users who sell at the window, by role or by their own permission."""
    perm = Permission.objects.filter(
        content_type__app_label="boxoffice", codename="sell_at_window"
    ).first()
    return (
        get_user_model()
        .objects.filter(Q(groups__permissions=perm) | Q(user_permissions=perm), is_active=True)
        .distinct()
        .order_by("username")
    )


def _context(
    model_admin: admin.ModelAdmin, request: HttpRequest, title: str, **extra: Any
) -> dict[str, Any]:
    """What an admin page of the model needs besides ``extra``."""
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        **extra,
    }


# --- Forms ------------------------------------------------------------------------------------


class ReceiveForm(forms.ModelForm):
    """The add form: receiving a batch (入库) calls ``stock_receive`` when the form is checked,
    so that a refusal (overlap, bad numbers) is shown on the form with what was typed."""

    class Meta:
        model = StockBatch
        fields = (
            "code",
            "site",
            "product",
            "prefix",
            "first_number",
            "last_number",
            "digits",
            "note",
        )

    actor: Any = None
    batch: StockBatch | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.batch = stock_receive(
                site=data["site"],
                code=data["code"],
                first_number=data["first_number"],
                last_number=data["last_number"],
                prefix=data.get("prefix") or "",
                digits=data["digits"],
                product=data.get("product"),
                actor=self.actor,
                note=data.get("note") or "",
            )
        except DomainError as exc:
            raise ValidationError(str(exc.message), code=exc.code) from exc
        return data

    def _post_clean(self) -> None:
        # The service checked the batch and wrote it; the model's checks would see it as taken.
        pass


class RangeForm(forms.Form):
    first = forms.IntegerField(label=_("from number"), min_value=0)
    last = forms.IntegerField(label=_("to number"), min_value=0)


class IssueForm(RangeForm):
    cashier = forms.ModelChoiceField(label=_("cashier"), queryset=get_user_model().objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cashier"].queryset = _cashiers()  # type: ignore[attr-defined]


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200)


# --- Batches ----------------------------------------------------------------------------------


@admin.register(StockBatch)
class StockBatchAdmin(admin.ModelAdmin):
    """Batches are received through the add form and never edited; their paper moves through
    the actions (issue, return) and the serials' void action."""

    form = ReceiveForm
    change_list_template = "admin/boxoffice/stockbatch/change_list.html"
    change_form_template = "admin/boxoffice/stockbatch/change_form.html"
    list_display = (
        "code",
        "site",
        "kind",
        "range_display",
        "received_at",
        "in_store",
        "issued",
        "used",
        "voided",
        "reconciliation_link",
    )
    # Date filters rather than a date hierarchy: that one needs MariaDB's time zone tables.
    list_filter = (
        "site",
        ("product", admin.RelatedOnlyFieldListFilter),
        ("received_at", admin.DateFieldListFilter),
    )
    search_fields = ("code", "note")
    actions = ["issue_range", "return_range"]
    readonly_fields = (
        "range_display",
        "received_at",
        "received_by",
        "figures_display",
        "reconciliation_link",
    )

    # Rows are written by the services only: no edit form, no delete.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ReceiveForm.Meta.fields
        return (
            "code",
            "site",
            "product",
            "range_display",
            "received_at",
            "received_by",
            "note",
            "figures_display",
            "reconciliation_link",
        )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kw)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        batch = form.batch  # received by the form's check, in this request's transaction
        for f in StockBatch._meta.concrete_fields:
            setattr(obj, f.attname, getattr(batch, f.attname))
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockBatch]:
        return (
            super()
            .get_queryset(request)
            .select_related("site", "product")
            .annotate(
                n_in_store=Count("serials", filter=Q(serials__status=S.IN_STORE)),
                n_issued=Count("serials", filter=Q(serials__status=S.ISSUED)),
                n_used=Count("serials", filter=Q(serials__status=S.USED)),
                n_voided=Count("serials", filter=Q(serials__status=S.VOIDED)),
            )
        )

    @admin.display(description=_("paper"))
    def kind(self, obj: StockBatch) -> str:
        if obj.product_id is None:
            return gettext("blank")
        return gettext("pre-printed: %(product)s") % {"product": obj.product}

    @admin.display(description=_("numbers"))
    def range_display(self, obj: StockBatch) -> str:
        label = stock_report.range_label(obj, obj.first_number, obj.last_number)
        return f"{label} ({obj.last_number - obj.first_number + 1})"

    @admin.display(description=_("in the store"), ordering="n_in_store")
    def in_store(self, obj: Any) -> int:
        return int(obj.n_in_store)

    @admin.display(description=_("issued"), ordering="n_issued")
    def issued(self, obj: Any) -> int:
        return int(obj.n_issued)

    @admin.display(description=_("used"), ordering="n_used")
    def used(self, obj: Any) -> int:
        return int(obj.n_used)

    @admin.display(description=_("voided"), ordering="n_voided")
    def voided(self, obj: Any) -> int:
        return int(obj.n_voided)

    @admin.display(description=_("figures"))
    def figures_display(self, obj: StockBatch) -> str:
        f = stock_report.batch_figures([obj])[obj.pk]
        return gettext(
            "received %(received)d = in the store %(in_store)d + issued %(issued)d + "
            "used %(used)d + voided %(voided)d"
        ) % {
            "received": f.received,
            "in_store": f.in_store,
            "issued": f.issued,
            "used": f.used,
            "voided": f.voided,
        }

    @admin.display(description=_("reconciliation"))
    def reconciliation_link(self, obj: StockBatch) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:boxoffice_stockbatch_reconciliation", args=[obj.pk]),
            gettext("reconcile"),
        )

    # --- Pages ------------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        return [
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.overview_view),
                name="boxoffice_stockbatch_overview",
            ),
            path(
                "<int:batch_id>/reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="boxoffice_stockbatch_reconciliation",
            ),
            *super().get_urls(),
        ]

    def overview_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batches, total = stock_report.overview()
        context = _context(
            self,
            request,
            gettext("Paper stock reconciliation"),
            batches=batches,
            total=total,
            cashiers=stock_report.cashier_figures(),
        )
        return TemplateResponse(request, "admin/boxoffice/stock_overview.html", context)

    def reconciliation_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(StockBatch.objects.select_related("site", "product"), pk=batch_id)
        report = stock_report.batch_report(batch)
        page = Paginator(report.runs, RUNS_PER_PAGE).get_page(request.GET.get("p"))
        context = _context(
            self,
            request,
            gettext("Paper stock reconciliation: %(batch)s") % {"batch": batch},
            batch=batch,
            report=report,
            page=page,
        )
        return TemplateResponse(request, "admin/boxoffice/stock_reconciliation.html", context)

    # --- Actions ----------------------------------------------------------------------------

    def _one_batch(self, request: HttpRequest, queryset: QuerySet[StockBatch]) -> StockBatch | None:
        batches = list(queryset[:2])
        if len(batches) != 1:
            self.message_user(request, gettext("Choose exactly one batch."), level=messages.WARNING)
            return None
        return batches[0]

    def _range_action(
        self,
        request: HttpRequest,
        batch: StockBatch,
        *,
        action: str,
        title: str,
        form: RangeForm,
        apply: Callable[[dict[str, Any]], str],
    ) -> HttpResponse | None:
        """The intermediate page of a range action: ``form`` shown until it is applied, then
        ``apply`` (a stock service) called with its data; a refusal is shown on the form."""
        if form.is_bound and form.is_valid():
            try:
                done = apply(form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                self.message_user(request, done, level=messages.SUCCESS)
                return None
        context = _context(
            self,
            request,
            title,
            batch=batch,
            form=form,
            action=action,
            figures=stock_report.batch_figures([batch])[batch.pk],
            action_checkbox_name=ACTION_CHECKBOX_NAME,
        )
        return TemplateResponse(request, "admin/boxoffice/stock_range.html", context)

    @admin.action(description=_("Issue a range to a cashier…"), permissions=["change"])
    def issue_range(
        self, request: HttpRequest, queryset: QuerySet[StockBatch]
    ) -> HttpResponse | None:
        batch = self._one_batch(request, queryset)
        if batch is None:
            return None
        if "apply" in request.POST:
            form = IssueForm(request.POST)
        else:  # proposes the next hundred numbers in the store
            first = (
                StockSerial.objects.filter(batch=batch, status=S.IN_STORE)
                .order_by("number")
                .values_list("number", flat=True)
                .first()
            )
            form = IssueForm(
                initial={"first": first, "last": min(batch.last_number, (first or 0) + 99)}
            )

        def issue(data: dict[str, Any]) -> str:
            done = stock_issue(
                batch=batch,
                first_number=data["first"],
                last_number=data["last"],
                cashier=data["cashier"],
                actor=request.user,
            )
            return ngettext(
                "%(n)d paper ticket issued to %(cashier)s.",
                "%(n)d paper tickets issued to %(cashier)s.",
                done,
            ) % {"n": done, "cashier": data["cashier"]}

        return self._range_action(
            request,
            batch,
            action="issue_range",
            title=gettext("Issue paper of %(batch)s to a cashier") % {"batch": batch.code},
            form=form,
            apply=issue,
        )

    @admin.action(description=_("Return a range to the store…"), permissions=["change"])
    def return_range(
        self, request: HttpRequest, queryset: QuerySet[StockBatch]
    ) -> HttpResponse | None:
        batch = self._one_batch(request, queryset)
        if batch is None:
            return None

        def give_back(data: dict[str, Any]) -> str:
            done = stock_return(
                batch=batch, first=data["first"], last=data["last"], actor=request.user
            )
            return ngettext(
                "%(n)d paper ticket returned to the store.",
                "%(n)d paper tickets returned to the store.",
                done,
            ) % {"n": done}

        return self._range_action(
            request,
            batch,
            action="return_range",
            title=gettext("Return paper of %(batch)s to the store") % {"batch": batch.code},
            form=RangeForm(request.POST if "apply" in request.POST else None),
            apply=give_back,
        )


# --- Serials ----------------------------------------------------------------------------------


@admin.register(StockSerial)
class StockSerialAdmin(admin.ModelAdmin):
    """Every paper ticket and its fate; looked at, voided with a reason, never edited."""

    list_display = (
        "serial",
        "batch",
        "status",
        "holder",
        "shift_link",
        "ticket",
        "changed_at",
        "void_reason",
    )
    list_filter = (
        "status",
        ("batch", admin.RelatedOnlyFieldListFilter),
        ("holder", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("=serial", "=ticket__serial")
    search_help_text = _("Paper serial or ticket number")
    list_select_related = ("batch", "holder", "ticket")
    list_per_page = 100
    fields = (
        "serial",
        "batch",
        "number",
        "status",
        "holder",
        "shift",
        "ticket",
        "void_reason",
        "changed_at",
    )
    readonly_fields = fields
    actions = ["void_selected"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("shift"), ordering="shift_id")
    def shift_link(self, obj: StockSerial) -> str:
        if obj.shift_id is None:
            return "—"
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:boxoffice_shift_change", args=[obj.shift_id]),
            obj.shift_id,
        )

    @admin.action(description=_("Void the selected paper tickets…"), permissions=["change"])
    def void_selected(
        self, request: HttpRequest, queryset: QuerySet[StockSerial]
    ) -> HttpResponse | None:
        serials = list(queryset.select_related("batch").order_by("batch", "number")[:500])
        form = VoidForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for serial in serials:
                try:
                    stock_void(
                        serial=serial, reason=form.cleaned_data["reason"], actor=request.user
                    )
                    done += 1
                except DomainError as exc:
                    refused.append(f"{serial.serial}: {exc.message}")
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d paper ticket voided.", "%(n)d paper tickets voided.", done)
                    % {"n": done},
                    level=messages.SUCCESS,
                )
            for line in refused[:10]:
                self.message_user(request, line, level=messages.ERROR)
            return None
        context = _context(
            self,
            request,
            gettext("Void paper tickets"),
            serials=serials,
            form=form,
            action_checkbox_name=ACTION_CHECKBOX_NAME,
        )
        return TemplateResponse(request, "admin/boxoffice/stock_void.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = (
        "at",
        "batch",
        "kind",
        "range_display",
        "count",
        "cashier",
        "shift",
        "ticket",
        "reason",
        "actor_label",
    )
    list_filter = (
        "kind",
        ("batch", admin.RelatedOnlyFieldListFilter),
        ("at", admin.DateFieldListFilter),
    )
    search_fields = ("batch__code", "ticket__serial", "actor_label", "reason")
    list_select_related = ("batch", "cashier", "shift", "ticket")
    list_per_page = 100

    @admin.display(description=_("numbers"))
    def range_display(self, obj: StockMovement) -> str:
        return stock_report.range_label(obj.batch, obj.first_number, obj.last_number)
