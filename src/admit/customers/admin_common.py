"""What the customers' back-office pages share: the intermediate page of an action (a form
shown until it is applied, then a service called with its data; a refusal is shown on the form
with what was typed) and forms whose check is the service itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from admit.core.errors import DomainError
from admit.core.money import money_str

MAX_AMOUNT = Decimal("99999999.99")


def amount_field(label: Any = None) -> forms.DecimalField:
    """An amount of money in yuan: positive, two places, at most 99 999 999.99. Django's
    translated messages say what is wrong with "abc", "-5" or "1e20"."""
    return forms.DecimalField(
        label=label or _("amount (yuan)"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        localize=False,
    )


class MoneyForm(forms.Form):
    amount = amount_field()
    reference = forms.CharField(
        label=_("reference"),
        max_length=100,
        required=False,
        help_text=_("The bank transfer's or receipt's number."),
    )


class PeriodForm(forms.Form):
    period_start = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise ValidationError(gettext("The period ends before it starts."), code="period")
        return data


def local_time(at: dt.datetime) -> str:
    """A moment as the back office shows it: in the server's time zone, to the minute."""
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def money(amount: Decimal | None) -> str:
    return "—" if amount is None else money_str(amount)


def money_column(
    field: str, description: Any, *, sortable: bool = True
) -> Callable[[Any, Any], str]:
    """A list or page column showing an amount of money: ``field`` names the model's field or
    property (``sortable=False`` for a property, which the database cannot sort by)."""

    @admin.display(description=description, ordering=field if sortable else None)
    def column(model_admin: Any, obj: Any) -> str:
        return money(getattr(obj, field))

    return column


class ObjectActionsMixin:
    """Buttons on an object's page for the actions named in ``object_actions`` that the user
    may run (each posts the action for this one object to the list, as the list would)."""

    object_actions: tuple[str, ...] = ()
    change_form_template: Any = "admin/customers/change_form.html"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        allowed = self.get_actions(request)  # type: ignore[attr-defined]
        opts = self.model._meta  # type: ignore[attr-defined]
        extra = {
            **(extra_context or {}),
            "object_actions": [
                (name, allowed[name][2]) for name in self.object_actions if name in allowed
            ],
            "object_actions_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        return super().change_view(request, object_id, form_url, extra)  # type: ignore[misc]


def change_link(obj: Any) -> str:
    """A link to an object's back-office page (or its name if it has none)."""
    if obj is None:
        return "—"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj)


def one_selected(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any, noun: str
) -> Any | None:
    """The one object an action applies to, or None after saying to choose exactly one."""
    picked = list(queryset[:2])
    if len(picked) != 1:
        model_admin.message_user(
            request,
            gettext("Choose exactly one %(noun)s.") % {"noun": noun},
            level=messages.WARNING,
        )
        return None
    return picked[0]


def back(request: HttpRequest) -> HttpResponse | None:
    """After an action started on an object's page, back to that page (None: to the list)."""
    page = request.POST.get("_next", "")
    if page.startswith(reverse("admin:index")) and url_has_allowed_host_and_scheme(
        page, allowed_hosts={request.get_host()}
    ):
        return HttpResponseRedirect(page)
    return None


def action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    objects: Sequence[Any],
    action: str,
    title: str,
    form: forms.Form,
    apply: Callable[[dict[str, Any]], str | None],
    intro: str = "",
    submit: str = "",
    facts: Sequence[tuple[str, str]] = (),
) -> HttpResponse | None:
    """The intermediate page of an action on ``objects``. Once the form is valid ``apply``
    calls the service and returns the success message (None: it has said what happened); a
    domain error is shown on the form and the page again, nothing written."""
    if form.is_bound and form.is_valid():
        try:
            done = apply(form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            if done:
                model_admin.message_user(request, done, level=messages.SUCCESS)
            return back(request)
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "objects": objects,
        "form": form,
        "action": action,
        "intro": intro,
        "facts": facts,
        "submit": submit or gettext("Confirm"),
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "next": request.POST.get("_next", ""),
    }
    return TemplateResponse(request, "admin/customers/action_form.html", context)


def bound(form_class: type[forms.Form], request: HttpRequest, **kwargs: Any) -> forms.Form:
    """The action's form, bound once the intermediate page was submitted."""
    return form_class(request.POST if "apply" in request.POST else None, **kwargs)


def each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Sequence[Any],
    service: Callable[[Any], Any],
    done_message: Callable[[int], str],
) -> None:
    """Apply a service to each object; say how many it did and why the others were refused."""
    done, refused = 0, []
    for obj in objects:
        try:
            service(obj)
            done += 1
        except DomainError as exc:
            refused.append(f"{obj}: {exc.message}")
    if done:
        model_admin.message_user(request, done_message(done), level=messages.SUCCESS)
    for line in refused[:10]:
        model_admin.message_user(request, line, level=messages.ERROR)


def all_or_nothing(objects: Sequence[Any], service: Callable[[Any], Any]) -> list[Any]:
    """Apply a service to each object in one transaction: all written, or (on the first
    refusal, which then names the object it was refused for) nothing."""
    made = []
    with transaction.atomic():
        for obj in objects:
            try:
                made.append(service(obj))
            except DomainError as exc:
                raise DomainError(f"{obj}: {exc.message}", code=exc.code) from exc
    return made


class ServiceModelForm(forms.ModelForm):
    """A model form whose last check is the service that writes: ``apply()`` runs once the
    fields are valid, and a domain error becomes a form error (the page keeps what was typed).
    The admin's ``save_model`` then has nothing left to do (``ServiceFormAdminMixin``)."""

    actor: Any = None

    def apply(self) -> Any:
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        try:
            saved = self.apply()
        except DomainError as exc:
            fields = (exc.details or {}).get("fields") or {}
            for name, texts in fields.items():
                if name in self.fields:
                    for text in texts:
                        self.add_error(name, text)
            if not any(name in self.fields for name in fields):
                self.add_error(None, str(exc.message))
        else:
            self.instance = saved


class ServiceFormAdminMixin:
    """For admins whose form saves through its service (``ServiceModelForm``)."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kw)  # type: ignore[misc]
        form.actor = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # the form's service wrote it, in this request's transaction

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)  # type: ignore[attr-defined]
