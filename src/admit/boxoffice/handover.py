"""The handover report (交班统计) of one shift, computed from the rows behind it.

Every figure is a sum over rows that point at the shift: payments and refunds (money), the
shift's orders and their tickets (what was sold), and the shift's actions (voids, reprints,
approvals). Nothing is counted twice and nothing comes from elsewhere, so the report always
adds up with the database; ``check`` says where it would not.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from admit.core.money import money_str
from admit.sales.models import Order, Payment, PaymentMethod, Refund
from admit.tickets.models import Ticket

from .models import Shift, ShiftAction, TicketPrint

ZERO = Decimal("0.00")


def _m(value: Decimal | None) -> str:
    return money_str(value or ZERO)


def compute(shift: Shift, *, counted_cash: Decimal | None = None) -> dict[str, Any]:
    """The report as plain JSON values (money as decimal strings), in a fixed shape."""
    paid_in: dict[str, dict[str, Any]] = {}
    for row in (
        Payment.objects.filter(shift=shift)
        .values("method")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("method")
    ):
        paid_in[row["method"]] = {"count": row["n"], "amount": row["amount"]}
    paid_out: dict[str, dict[str, Any]] = {}
    fees = ZERO
    for row in (
        Refund.objects.filter(shift=shift)
        .values("method")
        .annotate(n=Count("id"), amount=Sum("amount"), fee=Sum("fee"))
        .order_by("method")
    ):
        paid_out[row["method"]] = {"count": row["n"], "amount": row["amount"]}
        fees += row["fee"] or ZERO
    methods = []
    for method, label in PaymentMethod.choices:
        pin = paid_in.get(method, {"count": 0, "amount": ZERO})
        pout = paid_out.get(method, {"count": 0, "amount": ZERO})
        if pin["count"] or pout["count"]:
            methods.append(
                {
                    "method": method,
                    "label": str(label),
                    "payments": pin["count"],
                    "taken": _m(pin["amount"]),
                    "refunds": pout["count"],
                    "paid_back": _m(pout["amount"]),
                    "net": _m(pin["amount"] - pout["amount"]),
                }
            )
    taken = sum((v["amount"] for v in paid_in.values()), ZERO)
    paid_back = sum((v["amount"] for v in paid_out.values()), ZERO)
    cash_in = paid_in.get(PaymentMethod.CASH, {"amount": ZERO})["amount"]
    cash_out = paid_out.get(PaymentMethod.CASH, {"amount": ZERO})["amount"]
    expected = shift.opening_float + cash_in - cash_out

    products: dict[int, dict[str, Any]] = {}
    for row in (
        Ticket.objects.filter(order__shift=shift, order__status=Order.Status.PAID)
        .values("product_id", "product__name", "product__name_en", "status")
        .annotate(n=Count("id"), persons=Sum("persons"), amount=Sum("price"))
        .order_by("product_id", "status")
    ):
        entry = products.setdefault(
            row["product_id"],
            {
                "product": row["product_id"],
                "name": row["product__name"],
                "name_en": row["product__name_en"] or row["product__name"],
                "tickets": 0,
                "persons": 0,
                "amount": ZERO,
                "returned": 0,
            },
        )
        entry["tickets"] += row["n"]
        entry["persons"] += row["persons"] or 0
        entry["amount"] += row["amount"] or ZERO
        if row["status"] not in Ticket.LIVE:
            entry["returned"] += row["n"]
    sold = sorted(products.values(), key=lambda e: e["product"])
    paid = Q(status=Order.Status.PAID)
    orders = Order.objects.filter(shift=shift).aggregate(
        n=Count("id"),
        paid=Count("id", filter=paid),
        discounted=Count("id", filter=paid & Q(discount__gt=0)),
        subtotal=Sum("subtotal", filter=paid),
        total=Sum("total", filter=paid),
        discount=Sum("discount", filter=paid),
    )
    actions: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "amount": ZERO})
    for row in (
        ShiftAction.objects.filter(shift=shift)
        .values("kind")
        .annotate(n=Count("id"), amount=Sum("amount"))
    ):
        actions[row["kind"]] = {"count": row["n"], "amount": row["amount"] or ZERO}
    reprints = TicketPrint.objects.filter(shift=shift, kind=TicketPrint.Kind.REPRINT).count()
    prints = TicketPrint.objects.filter(shift=shift).count()
    report: dict[str, Any] = {
        "shift": shift.pk,
        "terminal": shift.terminal.code,
        "cashier": shift.cashier.get_username(),
        "cashier_name": str(shift.cashier),
        "opened_at": shift.opened_at.isoformat(),
        "closed_at": shift.closed_at.isoformat() if shift.closed_at else None,
        "currency": "CNY",
        "products": [{**e, "amount": _m(e["amount"])} for e in sold],
        "tickets": sum(e["tickets"] for e in sold),
        "persons": sum(e["persons"] for e in sold),
        "orders": orders["n"] or 0,
        "paid_orders": orders["paid"] or 0,
        "sales_subtotal": _m(orders["subtotal"]),
        "sales_total": _m(orders["total"]),
        "methods": methods,
        "taken": _m(taken),
        "paid_back": _m(paid_back),
        "net": _m(taken - paid_back),
        "refund_fees": _m(fees),
        "refunds": sum(v["count"] for v in paid_out.values()),
        "discounts": {"orders": orders["discounted"], "amount": _m(orders["discount"])},
        "approvals": actions[ShiftAction.Kind.APPROVAL]["count"],
        "approvals_refused": actions[ShiftAction.Kind.APPROVAL_REFUSED]["count"],
        "voids": {
            "count": actions[ShiftAction.Kind.VOID]["count"],
            "amount": _m(actions[ShiftAction.Kind.VOID]["amount"]),
        },
        "prints": prints,
        "reprints": reprints,
        "cash": {
            "float": _m(shift.opening_float),
            "in": _m(cash_in),
            "out": _m(cash_out),
            "expected": _m(expected),
            "counted": _m(counted_cash) if counted_cash is not None else None,
            "difference": _m(counted_cash - expected) if counted_cash is not None else None,
        },
    }
    return report


def check(shift: Shift) -> list[str]:
    """Where the shift's figures disagree with the rows behind them (empty when they agree):
    money by method equals the payments and refunds, and what the paid orders are worth equals
    the money kept for them."""
    problems = []
    report = shift.report if shift.status != Shift.Status.OPEN and shift.report else None
    live = compute(shift, counted_cash=shift.counted_cash)
    if report is not None:
        # Money rows point at the shift and never change; tickets may be refunded later by
        # another shift, so what was sold is compared at close only.
        for key in ("taken", "paid_back", "net", "methods", "cash"):
            if report.get(key) != live.get(key):
                problems.append(f"{key}: at close {report.get(key)!r}, now {live.get(key)!r}")
    taken = sum((Decimal(m["taken"]) for m in live["methods"]), ZERO)
    if taken != Decimal(live["taken"]):
        problems.append("methods do not add up to the money taken")
    sold = sum((Decimal(p["amount"]) for p in live["products"]), ZERO)
    if sold != Decimal(live["sales_total"]):
        problems.append(f"tickets {sold} ≠ paid orders {live['sales_total']}")
    return problems
