"""Back office for members (会员): levels, registration and edits through the member services,
points (read-only, redeemed with an action), and passes (年卡) sold, renewed, frozen, thawed and
given a new card through the pass services of ``sales`` (imported where used: the back office is
the edge, ``customers`` sits below ``sales``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Product
from admit.core.admin import AuditedModelAdmin, ReadOnlyAdmin
from admit.core.errors import DomainError
from admit.core.text import mask

from .admin_common import (
    ObjectActionsMixin,
    ServiceFormAdminMixin,
    ServiceModelForm,
    action_page,
    back,
    bound,
    each,
    local_time,
    money,
    one_selected,
)
from .models import Member, MemberLevel, Pass, PointsEntry
from .services import member_level_save, member_register, member_save, points_redeem

RECENT = 20
# Payment methods of the back office's pass sales (values of sales.PaymentMethod).
METHODS = [("cash", _("cash")), ("card", _("bank card"))]


def masked(value: str) -> str:
    return mask(value) if value else "—"


def _table(head: list[str], rows: list[tuple[Any, ...]], empty: str) -> str:
    if not rows:
        return empty
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    body = format_html_join("", "<tr>" + "<td>{}</td>" * len(head) + "</tr>", rows)
    return format_html('<table class="customers-table"><tr>{}</tr>{}</table>', header, body)


# --- Levels -------------------------------------------------------------------------------------


@admin.register(MemberLevel)
class MemberLevelAdmin(AuditedModelAdmin):
    list_display = (
        "code",
        "name",
        "discount_percent",
        "booking_days_ahead",
        "points_per_yuan",
        "sort_order",
    )
    search_fields = ("code", "name")
    save_services = {MemberLevel: member_level_save}


# --- Members ------------------------------------------------------------------------------------


class MemberForm(ServiceModelForm):
    """Registration (``member_register``) on add, ``member_save`` on change; a bad phone or ID
    number, or a member already registered, is shown on the form."""

    class Meta:
        model = Member
        fields = ("name", "phone", "id_number", "level", "photo", "is_active")

    def apply(self) -> Member:
        data = self.cleaned_data
        if self.instance.pk is None:
            return member_register(
                name=data["name"],
                phone=data["phone"],
                id_number=data.get("id_number") or "",
                level=data.get("level"),
                photo=data.get("photo") or "",
                actor=self.actor,
            )
        return member_save(instance=self.instance, actor=self.actor)


class RedeemForm(forms.Form):
    points = forms.IntegerField(label=_("points"), min_value=1, max_value=10**8)
    reason = forms.CharField(label=_("reason"), max_length=200, help_text=_("What they got."))


@admin.register(Member)
class MemberAdmin(ObjectActionsMixin, ServiceFormAdminMixin, AuditedModelAdmin):
    form = MemberForm
    list_display = (
        "number",
        "name",
        "phone",
        "level",
        "points",
        "province",
        "city",
        "is_active",
        "registered_at",
    )
    list_filter = ("level", "is_active", ("registered_at", admin.DateFieldListFilter))
    search_fields = ("=number", "phone", "name", "=id_number")
    list_select_related = ("level",)
    readonly_fields = (
        "number",
        "points",
        "province",
        "city",
        "registered_at",
        "passes_display",
        "orders_display",
        "points_display",
    )
    actions = ["redeem_points"]
    object_actions = ("redeem_points",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = MemberForm.Meta.fields
        if obj is None:
            return editable[:-1]
        return ("number", *editable, *self.readonly_fields[1:])

    def has_redeem_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.change_member")

    @admin.display(description=_("passes"))
    def passes_display(self, obj: Member) -> str:
        rows = [
            (
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:customers_pass_change", args=[p.pk]),
                    p.number,
                ),
                str(p.product),
                p.get_status_display(),
                p.valid_from,
                p.valid_until,
                masked(p.card_uid),
            )
            for p in obj.passes.select_related("product").order_by("-created_at")
        ]
        head = [
            gettext("pass number"),
            gettext("product"),
            gettext("status"),
            gettext("valid from"),
            gettext("valid until"),
            gettext("card"),
        ]
        return _table(head, rows, gettext("No passes."))

    @admin.display(description=_("latest orders"))
    def orders_display(self, obj: Member) -> str:
        from admit.sales.models import Order

        orders = Order.objects.filter(member=obj).order_by("-placed_at")[:RECENT]
        rows = [
            (
                format_html(
                    '<a href="{}">{}</a>', reverse("admin:sales_order_change", args=[o.pk]), o.code
                ),
                local_time(o.placed_at),
                o.get_status_display(),
                money(o.total),
            )
            for o in orders
        ]
        head = [gettext("order"), gettext("placed"), gettext("status"), gettext("total")]
        return _table(head, rows, gettext("No orders."))

    @admin.display(description=_("latest points entries"))
    def points_display(self, obj: Member) -> str:
        entries = PointsEntry.objects.filter(member=obj).order_by("-at", "-id")[:RECENT]
        rows = [
            (
                local_time(e.at),
                e.get_kind_display(),
                e.points,
                e.balance_after,
                e.reason or "—",
                e.actor_label,
            )
            for e in entries
        ]
        head = [
            gettext("time"),
            gettext("kind"),
            gettext("points"),
            gettext("balance after"),
            gettext("reason"),
            gettext("by"),
        ]
        return _table(head, rows, gettext("No points yet."))

    @admin.action(description=_("Redeem points…"), permissions=["redeem"])
    def redeem_points(self, request: HttpRequest, queryset: QuerySet[Member]) -> Any:
        member = one_selected(self, request, queryset, gettext("member"))
        if member is None:
            return None

        def redeem(data: dict[str, Any]) -> str:
            entry = points_redeem(
                member=member, points=data["points"], reason=data["reason"], actor=request.user
            )
            return gettext("%(points)d points redeemed; %(member)s has %(left)d left.") % {
                "points": -entry.points,
                "member": member,
                "left": entry.balance_after,
            }

        return action_page(
            self,
            request,
            objects=[member],
            action="redeem_points",
            title=gettext("Redeem points of %(member)s") % {"member": member},
            facts=[(gettext("points"), str(member.points))],
            form=bound(RedeemForm, request),
            apply=redeem,
            submit=gettext("Redeem"),
        )


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "member", "kind", "points", "balance_after", "order", "reason")
    list_filter = ("kind", ("at", admin.DateFieldListFilter))
    search_fields = ("=member__number", "member__phone", "=order__code")
    list_select_related = ("member", "order")
    ordering = ("-at", "-id")


# --- Passes -------------------------------------------------------------------------------------


def _pass_products() -> QuerySet[Product]:
    return Product.objects.filter(kind=Product.Kind.PASS, is_active=True).order_by("sort_order")


class PassSellForm(ServiceModelForm):
    """Selling a pass (``pass_sell``): today's price, paid at once, the card bound."""

    method = forms.ChoiceField(label=_("payment"), choices=METHODS)

    class Meta:
        model = Pass
        fields = ("member", "product", "card_uid")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "product" in self.fields:  # the add form (a pass's own page shows, never edits)
            self.fields["product"].queryset = _pass_products()  # type: ignore[attr-defined]
            self.fields["card_uid"].help_text = _("Optional: the UID of the card to bind.")

    def _post_clean(self) -> None:
        # The pass row is the service's to make (number, period): only the fields are checked.
        if self.errors:
            return
        try:
            self.instance = self.apply()
        except DomainError as exc:
            self.add_error(None, str(exc.message))

    def apply(self) -> Pass:
        from admit.sales.services.passes import pass_sell

        data = self.cleaned_data
        return pass_sell(
            member=data["member"],
            product=data["product"],
            card_uid=(data.get("card_uid") or "").strip(),
            method=data["method"],
            actor=self.actor,
        )


class FreezeForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class ReplaceCardForm(forms.Form):
    card_uid = forms.CharField(label=_("new card UID"), max_length=32)
    fee_product = forms.ModelChoiceField(
        label=_("fee"), queryset=Product.objects.none(), required=False
    )
    method = forms.ChoiceField(label=_("payment of the fee"), choices=METHODS)

    def __init__(self, *args: Any, site_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fee_product"].queryset = Product.objects.filter(  # type: ignore[attr-defined]
            kind=Product.Kind.FEE, site_id=site_id, is_active=True
        )


class RenewForm(forms.Form):
    method = forms.ChoiceField(label=_("payment"), choices=METHODS)


@admin.register(Pass)
class PassAdmin(ObjectActionsMixin, ServiceFormAdminMixin, admin.ModelAdmin):
    """Passes are sold through the add form and changed only by the actions."""

    form = PassSellForm
    list_display = (
        "number",
        "member",
        "product",
        "status",
        "valid_from",
        "valid_until",
        "card_display",
        "replacements",
    )
    list_filter = ("status", "product", ("valid_until", admin.DateFieldListFilter))
    search_fields = ("=number", "=member__number", "member__phone", "member__name", "=card_uid")
    search_help_text = _("Pass or member number, phone, name or card UID")
    list_select_related = ("member", "product")
    autocomplete_fields = ("member",)
    readonly_fields = (
        "number",
        "member",
        "product",
        "status",
        "valid_from",
        "valid_until",
        "card_display",
        "replacements",
        "created_at",
        "changed_at",
        "periods_display",
    )
    actions = ["freeze", "unfreeze", "replace_card", "renew"]
    object_actions = ("freeze", "unfreeze", "replace_card", "renew")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("member", "product", "method", "card_uid")
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # No edit form: passes change only through the actions (each with its own right).
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # The rights the customers API asks for the same things (sales.api_passes).
    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.freeze_pass")

    def has_renew_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["customers.change_pass", "sales.add_order"])

    def has_card_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["customers.change_pass", "tickets.add_ticketmedium"])

    @admin.display(description=_("card"))
    def card_display(self, obj: Pass) -> str:
        return masked(obj.card_uid)

    @admin.display(description=_("periods"))
    def periods_display(self, obj: Pass) -> str:
        from admit.tickets.models import Ticket

        tickets = Ticket.objects.filter(holder_pass=obj).select_related("order")
        rows = [
            (
                t.serial,
                format_html(
                    '<a href="{}">{}</a>',
                    reverse("admin:sales_order_change", args=[t.order_id]),
                    t.order.code,
                ),
                t.get_status_display(),
                t.valid_from or "—",
                t.valid_until or "—",
                money(t.price),
            )
            for t in tickets.order_by("valid_from", "pk")
        ]
        head = [
            gettext("ticket number"),
            gettext("order"),
            gettext("status"),
            gettext("valid from"),
            gettext("valid until"),
            gettext("price"),
        ]
        return _table(head, rows, "—")

    @admin.action(description=_("Freeze…"), permissions=["freeze"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[Pass]) -> Any:
        from admit.sales.services.passes import pass_freeze

        passes = list(queryset[:100])

        def apply(data: dict[str, Any]) -> None:
            each(
                self,
                request,
                passes,
                lambda p: pass_freeze(pass_=p, actor=request.user, reason=data["reason"]),
                lambda n: ngettext("%(n)d pass frozen.", "%(n)d passes frozen.", n) % {"n": n},
            )

        return action_page(
            self,
            request,
            objects=passes,
            action="freeze",
            title=gettext("Freeze passes"),
            intro=gettext("Gates refuse a frozen pass until it is unfrozen."),
            form=bound(FreezeForm, request),
            apply=apply,
            submit=gettext("Freeze"),
        )

    @admin.action(description=_("Unfreeze"), permissions=["freeze"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Pass]) -> Any:
        from admit.sales.services.passes import pass_unfreeze

        each(
            self,
            request,
            list(queryset[:100]),
            lambda p: pass_unfreeze(pass_=p, actor=request.user),
            lambda n: ngettext("%(n)d pass unfrozen.", "%(n)d passes unfrozen.", n) % {"n": n},
        )
        return back(request)

    @admin.action(description=_("Replace a lost card…"), permissions=["card"])
    def replace_card(self, request: HttpRequest, queryset: QuerySet[Pass]) -> Any:
        from admit.sales.services.passes import pass_replace_card

        pass_ = one_selected(self, request, queryset.select_related("product"), gettext("pass"))
        if pass_ is None:
            return None

        def replace(data: dict[str, Any]) -> str:
            done = pass_replace_card(
                pass_=pass_,
                card_uid=data["card_uid"].strip(),
                fee_product=data.get("fee_product"),
                method=data["method"],
                actor=request.user,
            )
            return gettext("Pass %(number)s now opens with card %(card)s only.") % {
                "number": done.number,
                "card": masked(done.card_uid),
            }

        return action_page(
            self,
            request,
            objects=[pass_],
            action="replace_card",
            title=gettext("Replace the lost card of pass %(number)s") % {"number": pass_.number},
            intro=gettext(
                "The old card stops opening gates at once; the new one is bound to every "
                "current and future period. The fee, if chosen, is sold and paid now."
            ),
            facts=[(gettext("card"), masked(pass_.card_uid))],
            form=bound(ReplaceCardForm, request, site_id=pass_.product.site_id),
            apply=replace,
            submit=gettext("Replace the card"),
        )

    @admin.action(description=_("Renew…"), permissions=["renew"])
    def renew(self, request: HttpRequest, queryset: QuerySet[Pass]) -> Any:
        from admit.sales.services.passes import pass_renew

        pass_ = one_selected(self, request, queryset.select_related("product"), gettext("pass"))
        if pass_ is None:
            return None

        def apply(data: dict[str, Any]) -> str:
            ticket = pass_renew(pass_=pass_, method=data["method"], actor=request.user)
            return gettext("Pass %(number)s renewed: %(start)s to %(end)s.") % {
                "number": pass_.number,
                "start": ticket.valid_from,
                "end": ticket.valid_until,
            }

        return action_page(
            self,
            request,
            objects=[pass_],
            action="renew",
            title=gettext("Renew pass %(number)s") % {"number": pass_.number},
            intro=gettext(
                "A renewal is sold at today's price and runs on from the current expiry, or "
                "from today once the pass has expired. Money taken by a cashier belongs to "
                "their open shift; a supervisor's belongs to no shift."
            ),
            facts=[(gettext("valid until"), str(pass_.valid_until))],
            form=bound(RenewForm, request),
            apply=apply,
            submit=gettext("Renew"),
        )
