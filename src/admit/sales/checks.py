"""Consistency checks over the whole database (read-only): capacity and money.

``admit check-capacity`` and ``admit check-money`` print what these return; the tests call them
after every scenario, including races.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from admit.catalog.models import Product
from admit.inventory.models import Allocation, Pool, Take
from admit.tickets.models import Ticket

from .models import Order, OrderLine, Payment, Refund

ZERO = Decimal("0.00")


def capacity_problems() -> list[str]:
    """Every place where a pool's counters differ from the takes and tickets behind them."""
    problems: list[str] = []
    take_sums = {
        row["pool"]: (row["h"] or 0, row["s"] or 0)
        for row in Take.objects.values("pool").annotate(h=Sum("held"), s=Sum("sold"))
    }
    alloc_sums = {
        row["allocation"]: (row["h"] or 0, row["s"] or 0)
        for row in Take.objects.exclude(allocation=None)
        .values("allocation")
        .annotate(h=Sum("held"), s=Sum("sold"))
    }
    reserved: dict[int, int] = defaultdict(int)
    for a in Allocation.objects.all():
        if (a.held, a.sold) != alloc_sums.get(a.pk, (0, 0)):
            problems.append(
                f"allocation {a.pk}: held/sold {a.held}/{a.sold} but takes say "
                f"{alloc_sums.get(a.pk, (0, 0))}"
            )
        if not a.released:
            reserved[a.pool_id] += a.quota - a.held - a.sold
    for pool in Pool.objects.all():
        if (pool.held, pool.sold) != take_sums.get(pool.pk, (0, 0)):
            problems.append(
                f"pool {pool.pk} ({pool}): held/sold {pool.held}/{pool.sold} but "
                f"takes say {take_sums.get(pool.pk, (0, 0))}"
            )
        if pool.reserved != reserved.get(pool.pk, 0):
            problems.append(
                f"pool {pool.pk}: reserved {pool.reserved} but allocations say "
                f"{reserved.get(pool.pk, 0)}"
            )
        if pool.held + pool.sold + pool.reserved > pool.capacity:
            problems.append(
                f"pool {pool.pk}: OVERSOLD {pool.held}+{pool.sold}+{pool.reserved} "
                f"> {pool.capacity}"
            )

    persons: dict[tuple[int, str], int] = defaultdict(int)
    for row in Ticket.objects.values("line", "status").annotate(p=Sum("persons")):
        persons[(row["line"], row["status"])] += row["p"] or 0
    for take in Take.objects.select_related("line__order", "pool"):
        line, order = take.line, take.line.order
        head = line.quantity * line.persons
        expected_held = head if order.status == Order.Status.PENDING else 0
        live = persons[(line.pk, Ticket.Status.VALID)] + persons[(line.pk, Ticket.Status.USED)]
        kept = 0 if take.pool.returns_on_refund else persons[(line.pk, Ticket.Status.REFUNDED)]
        expected_sold = live + kept if order.status == Order.Status.PAID else 0
        if (take.held, take.sold) != (expected_held, expected_sold):
            problems.append(
                f"order {order.code} line {line.pk} pool {take.pool_id}: takes "
                f"{take.held}/{take.sold}, tickets say {expected_held}/"
                f"{expected_sold}"
            )
    return problems


def money_problems() -> list[str]:
    """Orders whose money does not add up: paid orders must hold exactly the price of their
    live tickets plus the fees kept; line totals add up to the order; tickets to their line."""
    problems: list[str] = []
    paid = dict(Payment.objects.values_list("order").annotate(s=Sum("amount")))
    refunded = {
        row["order"]: (row["a"] or ZERO, row["f"] or ZERO)
        for row in Refund.objects.values("order").annotate(a=Sum("amount"), f=Sum("fee"))
    }
    live = dict(
        Ticket.objects.filter(status__in=Ticket.LIVE).values_list("order").annotate(s=Sum("price"))
    )
    # Service fees (a replaced card) are money kept without a ticket.
    service = dict(
        OrderLine.objects.filter(product__kind=Product.Kind.FEE, replaces=None)
        .values_list("order")
        .annotate(s=Sum("total"))
    )
    for order in Order.objects.prefetch_related("lines"):
        out, fees = refunded.get(order.pk, (ZERO, ZERO))
        balance = paid.get(order.pk, ZERO) - out
        original = [ln for ln in order.lines.all() if ln.replaces_id is None]
        if sum((ln.total for ln in original), ZERO) != order.total:
            problems.append(
                f"order {order.code}: lines add up to "
                f"{sum((ln.total for ln in original), ZERO)}, total {order.total}"
            )
        if order.subtotal - order.discount != order.total:
            problems.append(f"order {order.code}: subtotal − discount ≠ total")
        for ln in order.lines.all():
            if sum((Decimal(p) for p in ln.ticket_prices), ZERO) != ln.total:
                problems.append(f"order {order.code} line {ln.pk}: ticket prices ≠ line total")
        if order.status == Order.Status.PAID:
            expected = live.get(order.pk, ZERO) + fees + service.get(order.pk, ZERO)
            if balance != expected:
                problems.append(
                    f"order {order.code}: holds {balance}, tickets and fees say {expected}"
                )
        elif balance != ZERO and order.status != Order.Status.PENDING:
            problems.append(f"order {order.code} ({order.status}): still holds {balance}")
        if balance < 0:
            problems.append(f"order {order.code}: refunded more than paid")
    return problems
