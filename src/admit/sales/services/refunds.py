"""Refunds and date changes (改签) of paid orders."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from admit.catalog.models import Product, Site
from admit.catalog.selectors import product_price, site_day
from admit.core import hooks
from admit.core.money import FEN
from admit.core.services import actor_label
from admit.customers.models import Book
from admit.customers.services import account_draw, account_refund, guide_credit, points_reverse
from admit.inventory.models import Pool
from admit.inventory.services import (
    InvalidSlot,
    SiteClosed,
    capacity_confirm,
    capacity_return,
    capacity_take,
    line_pools,
    pools_ensure,
    slot_still_open,
    takes_save,
)
from admit.tickets.models import Ticket
from admit.tickets.services import pass_period_refresh, tickets_end, tickets_issue

from .. import errors, window
from ..models import Order, OrderLine, Payment, PaymentMethod, Refund
from ..providers import provider as get_provider
from .common import ZERO, event, money_record, order_lock
from .orders import site_today
from .payments import ACCOUNT_METHODS


def refund_deadline_open(
    *, site: Site, first: dt.date, last: dt.date, hours: int | None, now: dt.datetime
) -> bool:
    """Whether a ticket valid ``first``..``last`` may still be refunded at ``now``: until
    ``hours`` before its first day opens (the site's opening time), or with no deadline set
    until the end of its last day. Partners' APIs show the same rule (``cancellable``)."""
    if hours is None:
        return site_today(site, now) <= last
    opens = dt.datetime.combine(first, site.opens_at, tzinfo=zoneinfo.ZoneInfo(site.time_zone))
    return now <= opens - dt.timedelta(hours=hours)


def _deadline_ok(order: Order, ticket: Ticket, hours: int | None, now: dt.datetime) -> bool:
    day = ticket.valid_until or ticket.valid_from
    if day is None:
        return True
    first = ticket.valid_from or day
    return refund_deadline_open(site=order.site, first=first, last=day, hours=hours, now=now)


def _tickets(order: Order, ticket_ids: Sequence[int] | None) -> list[Ticket]:
    qs = Ticket.objects.filter(order=order).select_related("product", "line", "line__slot")
    if ticket_ids is None:
        tickets = list(qs.filter(status=Ticket.Status.VALID, entries_used=0))
        if not tickets:
            raise errors.TicketNotValid(details={"order": order.code})
        return tickets
    ids = list(dict.fromkeys(ticket_ids))
    tickets = list(qs.filter(pk__in=ids))
    if len(tickets) != len(ids):
        missing = sorted(set(ids) - {t.pk for t in tickets})
        raise errors.TicketNotFound(details={"tickets": missing})
    for t in tickets:
        if t.entries_used or t.status == Ticket.Status.USED:
            raise errors.TicketUsed(details={"ticket": t.pk})
        if t.status != Ticket.Status.VALID:
            raise errors.TicketNotValid(details={"ticket": t.pk, "status": t.status})
    return tickets


def _pay_back(
    *,
    order: Order,
    amount: Decimal,
    fee: Decimal,
    reason: str,
    actor: Any,
    tickets: Sequence[int],
) -> list[Refund]:
    """Pay ``amount`` back against the order's payments, latest first; online payments are
    refunded through their provider. The fee kept is written on the first refund row."""
    shift_id = window.shift_of(actor)
    payments = list(Payment.objects.filter(order=order).order_by("-id"))
    refunded = {
        row["payment"]: row["s"]
        for row in Refund.objects.filter(order=order).values("payment").annotate(s=Sum("amount"))
    }
    rows: list[Refund] = []
    left = amount
    for payment in payments:
        if left <= 0 and (rows or fee == 0):
            break
        room = payment.amount - refunded.get(payment.pk, ZERO)
        part = min(room, left)
        if part <= 0 and (rows or fee == 0):
            continue
        provider_ref = ""
        if part > 0 and payment.method == PaymentMethod.ONLINE:
            provider_ref = get_provider(payment.provider).refund(
                ref=payment.reference,
                amount=part,
                refund_id=f"{order.code}-{payment.pk}-"
                f"{Refund.objects.filter(order=order).count() + len(rows)}",
            )
        if part > 0 and payment.method in (PaymentMethod.ACCOUNT, PaymentMethod.PREPAID):
            assert order.account_id is not None
            account_refund(
                account_id=order.account_id,
                book=Book.PREPAID if payment.method == PaymentMethod.PREPAID else Book.CREDIT,
                amount=part,
                order_id=order.pk,
                actor=actor,
            )
        row = Refund(
            order=order,
            payment=payment,
            method=payment.method,
            amount=max(part, ZERO),
            fee=fee if not rows else ZERO,
            provider_ref=provider_ref,
            reason=reason[:200],
            tickets=list(tickets),
            actor_label=actor_label(actor)[:150],
            shift_id=shift_id,
        )
        money_record(order, row)
        rows.append(row)
        left -= max(part, ZERO)
    if left > 0:  # cannot happen while balance == live tickets + fees; refuse rather than lose
        raise errors.AmountExceedsBalance(details={"left": str(left)})
    return rows


def order_refund(
    *,
    order: Order,
    actor: Any,
    ticket_ids: Sequence[int] | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
    apply_rules: bool = True,
) -> list[Refund]:
    """Refund unused tickets (all of the order's when none are named), minus the product's fee,
    within its deadline; give their places back where the pool says so. ``apply_rules=False``
    (a void at the window) pays everything back: no deadline, no refundability, no fee."""
    now = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order.pk, "site", known=order)
        if order.status != Order.Status.PAID:
            raise errors.OrderNotPaid(details={"order": order.code, "status": order.status})
        tickets = _tickets(order, ticket_ids)
        fee = ZERO
        for t in tickets:
            product: Product = t.product
            if apply_rules:
                if not product.refundable:
                    raise errors.TicketNotRefundable(details={"ticket": t.pk})
                if not _deadline_ok(order, t, product.refund_deadline_hours, now):
                    raise errors.DeadlinePassed(details={"ticket": t.pk})
                fee += (t.price * product.refund_fee_percent / 100).quantize(FEN, ROUND_HALF_UP)
        if tickets_end(tickets=tickets, status=Ticket.Status.REFUNDED) != len(tickets):
            raise errors.TicketUsed(details={"reason": "used_meanwhile"})
        amount = sum((t.price for t in tickets), ZERO)
        # The money first, the places last: an account's row before the pools, in the order a
        # payment takes them (a charge and a refund racing would otherwise deadlock), and a busy
        # pool's row locked only for the end of the transaction.
        rows = _pay_back(
            order=order,
            amount=amount - fee,
            fee=fee,
            reason=reason or "refund",
            actor=actor,
            tickets=[t.pk for t in tickets],
        )
        persons: dict[Any, int] = defaultdict(int)
        for t in tickets:
            persons[t.line] += t.persons
        capacity_return(persons=dict(persons))
        if order.member_id is not None:
            points_reverse(
                member_id=order.member_id, refunded=amount - fee, order_id=order.pk, actor=actor
            )
        if order.guide_id is not None:
            guide_credit(
                guide_id=order.guide_id,
                site_id=order.site_id,
                order_id=order.pk,
                visitors=-sum(t.persons for t in tickets),
            )
        passes = {t.holder_pass_id for t in tickets if t.holder_pass_id}
        if passes:
            pass_period_refresh(pass_ids=passes)
        event(
            order,
            "refunded",
            actor,
            tickets=[t.serial for t in tickets],
            amount=amount - fee,
            fee=fee,
            reason=reason,
        )
        # The report rows last, as a sale bumps them after its money and places (no deadlock).
        hooks.publish(
            hooks.TICKETS_REFUNDED, order=order, tickets=tickets, void=not apply_rules, now=now
        )
        hooks.publish(
            hooks.ORDER_REFUNDED,
            order_id=order.pk,
            tickets=[t.serial for t in tickets],
            amount=amount - fee,
        )
    return rows


def order_reschedule(
    *,
    order: Order,
    actor: Any,
    date: dt.date,
    slot: int | None = None,
    ticket_ids: Sequence[int] | None = None,
    payment: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> list[Ticket]:
    """Move unused tickets of one line to another date/slot (改签) when capacity allows.

    The new tickets cost the old price plus the change in the channel's price; a higher price is
    paid with ``payment`` ({"method", "amount"[, "tendered"]}), a lower one is paid back. The old
    tickets become ``exchanged`` and their places go back to their pools.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = order_lock(order.pk, "site", "channel", known=order)
        if order.status != Order.Status.PAID:
            raise errors.OrderNotPaid(details={"order": order.code, "status": order.status})
        tickets = _tickets(order, ticket_ids)
        old_line: OrderLine = tickets[0].line
        if any(t.line_id != old_line.pk for t in tickets):
            raise errors.RescheduleNotAllowed(details={"reason": "several_lines"})
        product = tickets[0].product
        if not product.reschedule_allowed or not product.takes_capacity:
            raise errors.RescheduleNotAllowed(details={"product": product.code})
        for t in tickets:
            if not _deadline_ok(order, t, product.reschedule_deadline_hours, now):
                raise errors.DeadlinePassed(details={"ticket": t.pk})
        site = order.site
        if date < site_today(site, now):
            raise errors.PastDate(details={"date": date.isoformat()})
        info = site_day(site=site, day=date)
        if info.closed:
            raise SiteClosed(details={"date": date.isoformat()})
        new_unit = product_price(
            product=product, channel=order.channel.code, day=date, day_type=info.day_type
        )
        if new_unit is None:
            raise errors.NotOnSale(details={"date": date.isoformat()})
        zones = product.capacity_zones
        pools_ensure(site=site, day=date, zones=zones)
        day_pools = list(Pool.objects.filter(zone__in=zones, date=date))
        chosen = next((p for p in day_pools if p.pk == slot), None) if slot else None
        if slot is not None and chosen is None:
            raise InvalidSlot(details={"slot": slot})
        if chosen is not None:
            slot_still_open(slot=chosen, day=date, now=now, time_zone=site.time_zone)
        pools = line_pools(
            product=product,
            day=date,
            slot=chosen if chosen and chosen.start else None,
            pools=day_pools,
        )
        per_ticket_change = (new_unit - old_line.unit_price) * (
            old_line.persons if product.kind == Product.Kind.GROUP else 1
        )
        new_prices = [max(t.price + per_ticket_change, ZERO) for t in tickets]
        difference = sum(new_prices, ZERO) - sum((t.price for t in tickets), ZERO)
        head_count = sum(t.persons for t in tickets)
        takes = capacity_take(
            requests=[("new", p, head_count) for p in pools], channel=order.channel, now=now
        )
        new_line = OrderLine.objects.create(
            order=order,
            product=product,
            date=date,
            slot=chosen if chosen else next((p for p in pools if p.start), None),
            quantity=len(tickets),
            persons=old_line.persons,
            unit_price=new_unit,
            base=sum(new_prices, ZERO),
            total=sum(new_prices, ZERO),
            ticket_prices=[str(p) for p in new_prices],
            replaces=old_line,
        )
        takes_save(takes=takes, lines={"new": new_line})
        capacity_confirm(lines=[new_line])
        if tickets_end(tickets=tickets, status=Ticket.Status.EXCHANGED) != len(tickets):
            raise errors.TicketUsed(details={"reason": "used_meanwhile"})
        capacity_return(persons={old_line: head_count}, always=True)
        new_line.product = product
        issued = tickets_issue(
            line=new_line,
            prices=new_prices,
            holders=[(t.holder_name, t.holder_id_number) for t in tickets],
        )
        for old, new in zip(tickets, issued, strict=True):
            old.visitors.update(ticket=new)
        if difference > 0:
            asked = payment or {}
            on_account = asked.get("method") in ACCOUNT_METHODS and asked.get("amount") is None
            if not payment or (_as_money(asked.get("amount")) != difference and not on_account):
                raise errors.PaymentRequired(details={"amount": str(difference)})
            _pay_difference(order, difference, payment, actor)
        elif difference < 0:
            _pay_back(
                order=order,
                amount=-difference,
                fee=ZERO,
                reason="date change",
                actor=actor,
                tickets=[t.pk for t in tickets],
            )
        event(
            order,
            "rescheduled",
            actor,
            date=date.isoformat(),
            tickets=len(tickets),
            difference=difference,
        )
        hooks.publish(
            hooks.ORDER_CHANGED,
            order_id=order.pk,
            tickets=[t.serial for t in tickets],
            new_tickets=[t.serial for t in issued],
            date=date,
        )
    return issued


def _as_money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(FEN)
    except ArithmeticError:
        return None


def _pay_difference(order: Order, amount: Decimal, payment: dict[str, Any], actor: Any) -> None:
    """A date change that costs more is paid at once with cash or card, or charged to the
    order's B2B account (a partner's booking: ``{"method": "account"}``, the amount may be left
    out)."""
    method = payment.get("method", "")
    if method in ACCOUNT_METHODS:
        if order.account_id is None:
            raise errors.MethodNotAllowed(details={"method": method, "reason": "no_account"})
        account_draw(
            account_id=order.account_id,
            book=Book.PREPAID if method == PaymentMethod.PREPAID else Book.CREDIT,
            amount=amount,
            order_id=order.pk,
            actor=actor,
        )
        row = Payment(
            order=order, method=method, amount=amount, actor_label=actor_label(actor)[:150]
        )
        money_record(order, row)
        return
    if method not in (PaymentMethod.CASH, PaymentMethod.CARD):
        raise errors.MethodNotAllowed(details={"method": method})
    tendered = payment.get("tendered")
    change = None
    if method == PaymentMethod.CASH and tendered is not None:
        tendered_value = _as_money(tendered)
        if tendered_value is None or tendered_value < amount:
            raise errors.TenderedTooLittle(details={"amount": str(amount)})
        change = tendered_value - amount
    row = Payment(
        order=order,
        method=method,
        amount=amount,
        tendered=_as_money(tendered) if tendered is not None else None,
        change=change,
        reference=str(payment.get("reference", ""))[:100],
        actor_label=actor_label(actor)[:150],
    )
    money_record(order, row)
