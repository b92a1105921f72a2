"""Back office: ticket templates and their designer (a template designer light).

The change page shows the page at its real proportions with every placed field drawn from a
made-up ticket of the site; fields are added from a list, dragged (or moved with the arrow keys)
and resized, and the designer writes the layout's JSON into the form. "Preview PDF" renders the
form's layout with the real renderer. Saving goes through ``template_save`` (checked, audited);
only users with ``boxoffice.change_tickettemplate`` (supervisors) change templates.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from admit.catalog.models import Product, Site
from admit.core.admin import AuditedModelAdmin
from admit.core.errors import DomainError
from admit.tickets import qr

from .models import TicketTemplate
from .printing import (
    MAX_LOGO_BYTES,
    PAPER_HEIGHT_MM,
    PAPER_WIDTH_MM,
    PREVIEW,
    ROLL_MAX_MM,
    LayoutInvalid,
    LogoInvalid,
    PrintPage,
    TicketData,
    designer_fields,
    layout_clean,
    layout_problems,
    logo_bytes,
    logo_check,
    png_size,
    render,
    sample_data,
    starter_layout,
)
from .services.printing import template_clash, template_save


class TicketTemplateForm(forms.ModelForm):
    logo_file = forms.FileField(
        label=_("logo (PNG)"),
        required=False,
        help_text=_("A small PNG picture, at most 200 KB; black on white prints best."),
    )
    logo_clear = forms.BooleanField(label=_("remove the logo"), required=False)

    class Meta:
        model = TicketTemplate
        fields = ("name", "site", "paper", "products", "is_active", "terms", "layout")
        widgets = {
            "layout": forms.Textarea(attrs={"rows": 8, "cols": 90, "spellcheck": "false"}),
            "terms": forms.Textarea(attrs={"rows": 3, "cols": 90}),
        }
        help_texts = {
            "layout": _(
                "Written by the designer below; one placed field per line: "
                "field, x, y and width in mm from the top left corner, size in points."
            ),
            "terms": _("Leave empty to print each product's own terms."),
        }

    def clean_logo_file(self) -> str | None:
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        try:
            data = logo_check(upload.read(MAX_LOGO_BYTES + 1))
        except LogoInvalid as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from exc
        return base64.b64encode(data).decode()

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        paper, layout = data.get("paper"), data.get("layout")
        if paper and "layout" in data:
            problems = layout_problems(layout, paper)
            if problems:
                self.add_error(
                    "layout",
                    [forms.ValidationError(p.message, code=p.code) for p in problems],
                )
        site: Site | None = data.get("site")
        products = list(data.get("products") or [])
        if site is not None:
            elsewhere = [str(p) for p in products if p.site_id != site.pk]
            if elsewhere:
                self.add_error(
                    "products",
                    gettext("Not products of this site: %(names)s.")
                    % {"names": ", ".join(elsewhere)},
                )
            elif paper and data.get("is_active"):
                clash = template_clash(
                    site_id=site.pk,
                    paper=paper,
                    product_ids=[p.pk for p in products],
                    exclude=self.instance.pk,
                )
                if clash is not None:
                    message = (
                        gettext("“%(name)s” already prints these products on this paper.")
                        if products
                        else gettext("“%(name)s” is already the site's default for this paper.")
                    )
                    self.add_error("products", message % {"name": clash.name})
        return data

    def save(self, commit: bool = True) -> TicketTemplate:
        instance: TicketTemplate = super().save(commit=False)
        if self.cleaned_data.get("logo_file"):
            instance.logo = self.cleaned_data["logo_file"]
        elif self.cleaned_data.get("logo_clear"):
            instance.logo = ""
        if commit:
            instance.save()
            self.save_m2m()
        return instance


def _sample(site: Site | None, product: Product | None, terms: str = "") -> TicketData | None:
    if site is None:
        return None
    english = (translation.get_language() or "").startswith("en")
    return sample_data(site=site, product=product, english=english, now=timezone.now(), terms=terms)


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@admin.register(TicketTemplate)
class TicketTemplateAdmin(AuditedModelAdmin):
    form = TicketTemplateForm
    save_services = {TicketTemplate: template_save}
    change_form_template = "admin/boxoffice/tickettemplate/change_form.html"
    list_display = ("name", "site", "paper", "product_list", "is_active", "updated_at")
    list_filter = ("site", "paper", "is_active")
    search_fields = ("name",)
    filter_horizontal = ("products",)
    fieldsets = (
        (None, {"fields": ("name", "site", "paper", "products", "is_active")}),
        (_("Logo and terms"), {"fields": ("logo_file", "logo_clear", "terms")}),
        (_("Layout (JSON)"), {"fields": ("layout",), "classes": ("collapse",)}),
    )

    class Media:
        css = {"all": ("boxoffice/designer.css",)}
        js = ("boxoffice/designer.js",)

    @admin.display(description=_("products"))
    def product_list(self, obj: TicketTemplate) -> str:
        names = [str(p) for p in obj.products.all()]
        return ", ".join(names) if names else str(_("all (the site's default)"))

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("site").prefetch_related("products")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        paper = initial.get("paper") or TicketTemplate.paper.field.default
        initial.setdefault("layout", starter_layout(str(paper)))
        if "site" not in initial:
            sites = list(Site.objects.filter(is_active=True).values_list("pk", flat=True)[:2])
            if len(sites) == 1:
                initial["site"] = sites[0]
        return initial

    def get_urls(self) -> list[Any]:
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview.pdf", preview, name="boxoffice_tickettemplate_preview"),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: TicketTemplate | None = None,
    ) -> Any:
        context["designer_config"] = self.designer_config(request, obj)
        context["designer_fields"] = designer_fields()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def designer_config(self, request: HttpRequest, obj: TicketTemplate | None) -> dict[str, Any]:
        """What the designer's script needs: papers, fields, a sample ticket, the words it shows."""
        site = obj.site if obj is not None else Site.objects.filter(is_active=True).first()
        product = obj.products.first() if obj is not None else None
        sample = _sample(site, product, obj.terms if obj is not None else "")
        values: dict[str, str] = asdict(sample) if sample is not None else {}
        logo = ""
        logo_ratio = 1.0
        if obj is not None and obj.logo:
            try:
                raw = logo_bytes(obj.logo)
                w, h = png_size(raw)
                logo, logo_ratio = _data_url("image/png", raw), h / w
            except DomainError:
                logo = ""
        return {
            "paper": obj.paper if obj is not None else TicketTemplate.paper.field.default,
            "papers": {
                name: {"width": PAPER_WIDTH_MM[name], "height": PAPER_HEIGHT_MM[name]}
                for name in PAPER_WIDTH_MM
            },
            "roll_max": ROLL_MAX_MM,
            "fields": designer_fields(),
            "sample": values,
            "qr": _data_url("image/svg+xml", qr.svg(values.get("code") or "ADMIT")),
            "logo": logo,
            "logo_ratio": logo_ratio,
            "starters": {name: starter_layout(name) for name in PAPER_WIDTH_MM},
            "layout": obj.layout if obj is not None else [],
            "readonly": not self.has_change_permission(request, obj),
            "preview_url": reverse("admin:boxoffice_tickettemplate_preview"),
            "template": obj.pk if obj is not None else None,
            "words": {
                "x": gettext("x (mm)"),
                "y": gettext("y (mm)"),
                "width": gettext("width (mm)"),
                "height": gettext("height (mm)"),
                "size": gettext("type size (pt)"),
                "bold": gettext("bold"),
                "label": gettext("with its label"),
                "align": gettext("align"),
                "left": gettext("left"),
                "center": gettext("centre"),
                "right": gettext("right"),
                "text": gettext("text"),
                "remove": gettext("Remove field"),
                "none": gettext(
                    "Click a field on the page to change it; drag it, or move it with the "
                    "arrow keys (Shift: 5 mm)."
                ),
                "bad_json": gettext("The layout's JSON cannot be read; correct it below."),
                "outside": gettext("Some fields lie outside this paper."),
                "custom": gettext("Your text"),
            },
        }

    @xframe_options_sameorigin
    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """A sample ticket drawn with the layout in the query (the form's, unsaved) as a PDF."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        paper = request.GET.get("paper", "80mm")
        try:
            layout = json.loads(request.GET.get("layout", "[]"))
        except ValueError:
            return HttpResponseBadRequest(
                gettext("The layout cannot be read."), content_type="text/plain; charset=utf-8"
            )
        try:
            clean = layout_clean(layout, paper)
        except LayoutInvalid as exc:
            return HttpResponseBadRequest(
                "\n".join(e["message"] for e in exc.details["errors"]),
                content_type="text/plain; charset=utf-8",
            )
        template = None
        if request.GET.get("template", "").isdigit():
            template = TicketTemplate.objects.filter(pk=request.GET["template"]).first()
        site = None
        if request.GET.get("site", "").isdigit():
            site = Site.objects.filter(pk=request.GET["site"]).first()
        site = site or (template.site if template else None) or Site.objects.first()
        product = template.products.first() if template is not None else None
        sample = _sample(site, product, request.GET.get("terms", ""))
        if sample is None:
            return HttpResponseBadRequest(
                gettext("Choose a site first."), content_type="text/plain; charset=utf-8"
            )
        logo = b""
        if template is not None and template.logo:
            logo = logo_bytes(template.logo)
        pdf = render([PrintPage(data=sample, layout=clean, logo=logo, mark=PREVIEW)], paper=paper)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = 'inline; filename="ticket-preview.pdf"'
        return response
