"""Passes (年卡/季卡/月卡/次卡) over their life: sold to a member, renewed, a lost card
replaced, frozen and thawed. Each paid period is a ticket of the pass product sold through the
sales engine (so its money, capacity rules and refunds are every other sale's); the pass row in
``customers`` ties the periods to the member and their card."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Product
from admit.core.errors import Conflict, NotFound, ValidationFailed
from admit.core.services import audit_record
from admit.customers.models import Member, Pass
from admit.tickets.models import Ticket, TicketMedium
from admit.tickets.services import (
    add_months,
    pass_media_move,
    pass_period_refresh,
    pass_tickets_freeze,
    tickets_sign,
)

from ..models import Order, PaymentMethod
from .common import passes_register
from .orders import LineRequest, VisitorIn, order_place, site_today
from .payments import order_pay


class PassNotFound(NotFound):
    code = "pass_not_found"
    default_message = _("No such pass.")


class NotAPass(ValidationFailed):
    code = "not_a_pass"
    default_message = _("This product is not a pass.")


class PassNotActive(Conflict):
    code = "pass_not_active"
    default_message = _("This pass is frozen or cancelled.")


class PassNotFrozen(Conflict):
    code = "pass_not_frozen"
    default_message = _("This pass is not frozen.")


class FeeProductInvalid(ValidationFailed):
    code = "not_a_fee"
    default_message = _("The replacement fee must be a service-fee product of the pass's site.")


def _sell(
    *,
    product: Product,
    member: Member,
    actor: Any,
    method: str,
    tendered: Decimal | str | None,
    channel: str,
    now: dt.datetime,
) -> Order:
    visitors: tuple[VisitorIn, ...] = ()
    if member.id_number:
        visitors = (VisitorIn(member.name, "resident_id", member.id_number, member.phone),)
    order = order_place(
        channel=channel,
        lines=[
            LineRequest(
                product=product.pk,
                date=site_today(product.site, now),
                quantity=1,
                visitors=visitors if product.real_name_required or visitors else (),
            )
        ],
        actor=actor,
        contact_name=member.name,
        contact_phone=member.phone,
        member=member,
        now=now,
    )
    if order.status == Order.Status.PENDING:
        order = order_pay(
            order=order, method=method, amount=None, actor=actor, tendered=tendered, now=now
        ).order
    return order


def _pass_locked(pass_: Pass) -> Pass:
    return (
        Pass.objects.select_for_update().select_related("product__site", "member").get(pk=pass_.pk)
    )


@transaction.atomic
def pass_sell(
    *,
    member: Member,
    product: Product,
    actor: Any,
    method: str = PaymentMethod.CASH,
    tendered: Decimal | str | None = None,
    card_uid: str = "",
    channel: str = "window",
    now: dt.datetime | None = None,
) -> Pass:
    """Sell a pass to a member at today's price and bind their card, in one transaction."""
    if product.kind != Product.Kind.PASS:
        raise NotAPass(details={"product": product.pk})
    now = now or timezone.now()
    order = _sell(
        product=product,
        member=member,
        actor=actor,
        method=method,
        tendered=tendered,
        channel=channel,
        now=now,
    )
    (pass_,) = passes_register(order=order)
    if card_uid:
        pass_media_move(
            pass_id=pass_.pk,
            kind=TicketMedium.Kind.CARD,
            value=card_uid,
            actor=actor,
            today=site_today(product.site, now),
        )
        pass_.card_uid = (
            TicketMedium.objects.filter(ticket__holder_pass=pass_, active_value__isnull=False)
            .values_list("value", flat=True)
            .first()
            or ""
        )
        pass_.save(update_fields=["card_uid"])
    audit_record(
        actor=actor,
        action="create",
        obj=pass_,
        verb="pass_sold",
        after={"member": member.number, "order": order.code, "until": str(pass_.valid_until)},
    )
    return pass_


def renewal_period(*, valid_until: dt.date, today: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """A renewal runs on from the current expiry, or from the renewal day once expired."""
    start = valid_until + dt.timedelta(days=1) if valid_until >= today else today
    return start, add_months(start, months) - dt.timedelta(days=1)


@transaction.atomic
def pass_renew(
    *,
    pass_: Pass,
    actor: Any,
    method: str = PaymentMethod.CASH,
    tendered: Decimal | str | None = None,
    channel: str = "window",
    now: dt.datetime | None = None,
) -> Ticket:
    """Renew a pass at today's price: a new period, bound to the pass's card."""
    now = now or timezone.now()
    locked = _pass_locked(pass_)
    if locked.status != Pass.Status.ACTIVE:
        raise PassNotActive(details={"pass": locked.number, "status": locked.status})
    product = locked.product
    today = site_today(product.site, now)
    start, end = renewal_period(
        valid_until=locked.valid_until, today=today, months=product.validity_months or 12
    )
    order = _sell(
        product=product,
        member=locked.member,
        actor=actor,
        method=method,
        tendered=tendered,
        channel=channel,
        now=now,
    )
    ticket = Ticket.objects.get(order=order)
    ticket.valid_from, ticket.valid_until, ticket.holder_pass = start, end, locked
    ticket.save(update_fields=["valid_from", "valid_until", "holder_pass"])
    tickets_sign(tickets=[ticket])  # the code carries the new period
    if locked.card_uid:
        pass_media_move(
            pass_id=locked.pk,
            kind=TicketMedium.Kind.CARD,
            value=locked.card_uid,
            actor=actor,
            today=today,
        )
    pass_period_refresh(pass_ids={locked.pk})
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        verb="pass_renewed",
        before={"valid_until": str(locked.valid_until)},
        after={"valid_from": str(start), "valid_until": str(end), "order": order.code},
    )
    return ticket


@transaction.atomic
def pass_replace_card(
    *,
    pass_: Pass,
    card_uid: str,
    actor: Any,
    fee_product: Product | None = None,
    method: str = PaymentMethod.CASH,
    tendered: Decimal | str | None = None,
    now: dt.datetime | None = None,
) -> Pass:
    """A lost card (挂失补卡): the old card stops opening gates at once, the new one is bound to
    every current and future period, and the fee (a service-fee product) is charged."""
    now = now or timezone.now()
    locked = _pass_locked(pass_)
    if locked.status == Pass.Status.CANCELLED:
        raise PassNotActive(details={"pass": locked.number, "status": locked.status})
    if fee_product is not None:
        if fee_product.kind != Product.Kind.FEE or fee_product.site_id != locked.product.site_id:
            raise FeeProductInvalid(details={"product": fee_product.pk})
        _sell(
            product=fee_product,
            member=locked.member,
            actor=actor,
            method=method,
            tendered=tendered,
            channel="window",
            now=now,
        )
    old = locked.card_uid
    pass_media_move(
        pass_id=locked.pk,
        kind=TicketMedium.Kind.CARD,
        value=card_uid,
        actor=actor,
        today=site_today(locked.product.site, now),
    )
    locked.card_uid = (
        TicketMedium.objects.filter(ticket__holder_pass=locked, active_value__isnull=False)
        .values_list("value", flat=True)
        .first()
        or ""
    )
    locked.replacements += 1 if old else 0
    locked.save(update_fields=["card_uid", "replacements", "changed_at"])
    audit_record(
        actor=actor,
        action="update",
        obj=locked,
        verb="pass_card_replaced",
        before={"card": TicketMedium(value=old).masked if old else ""},
        after={"card": TicketMedium(value=locked.card_uid).masked},
    )
    return locked


@transaction.atomic
def pass_freeze(*, pass_: Pass, actor: Any, reason: str = "") -> Pass:
    """Freeze a pass (the holder asked, or it was misused): gates refuse it until thawed."""
    locked = _pass_locked(pass_)
    if locked.status != Pass.Status.ACTIVE:
        raise PassNotActive(details={"pass": locked.number, "status": locked.status})
    pass_tickets_freeze(pass_id=locked.pk, frozen=True)
    locked.status = Pass.Status.FROZEN
    locked.save(update_fields=["status", "changed_at"])
    audit_record(
        actor=actor, action="update", obj=locked, verb="pass_frozen", after={"reason": reason}
    )
    return locked


@transaction.atomic
def pass_unfreeze(*, pass_: Pass, actor: Any) -> Pass:
    locked = _pass_locked(pass_)
    if locked.status != Pass.Status.FROZEN:
        raise PassNotFrozen(details={"pass": locked.number, "status": locked.status})
    pass_tickets_freeze(pass_id=locked.pk, frozen=False)
    locked.status = Pass.Status.ACTIVE
    locked.save(update_fields=["status", "changed_at"])
    audit_record(actor=actor, action="update", obj=locked, verb="pass_unfrozen")
    return locked
