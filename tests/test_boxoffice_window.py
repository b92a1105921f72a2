"""Selling at the window: one checkout with every kind of payment, discounts within the
cashier's limit or with a supervisor's PIN, refunds, voids and reprints within the cashier's
rights, and a cashier who sees and may sell only their products."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Sum

from admit.accounts.models import User
from admit.boxoffice.models import CashierRights, Shift, ShiftAction, Terminal, TicketPrint
from admit.boxoffice.selectors import open_shift
from admit.boxoffice.services import (
    Tender,
    approval_check,
    sellable_products,
    window_pay,
    window_refund,
    window_sell,
    window_void,
)
from admit.boxoffice.services.printing import tickets_print
from admit.catalog.models import Channel, Product
from admit.catalog.selectors import product_price, site_day
from admit.core.errors import DomainError
from admit.customers.models import Account
from admit.demo.data import SUPERVISOR_PIN, cashier_on_shift
from admit.inventory.models import Pool
from admit.inventory.selectors import availability
from admit.inventory.services import pools_ensure
from admit.sales.models import Order, Payment, Refund
from admit.sales.services import LineRequest, VisitorIn
from admit.tickets.models import Ticket
from tests.sales_helpers import IDS, MON

pytestmark = pytest.mark.django_db


def unit(code: str, day: dt.date = MON) -> Decimal:
    """The window price of a product on a day, read from the catalog."""
    p = Product.objects.get(code=code)
    price = product_price(
        product=p, channel="window", day=day, day_type=site_day(site=p.site, day=day).day_type
    )
    assert price is not None
    return price


def slot(code: str, day: dt.date = MON) -> int | None:
    p = Product.objects.get(code=code)
    if not p.takes_capacity:
        return None
    pools_ensure(site=p.site, day=day, zones=p.capacity_zones)
    options = availability(product=p, day=day, channel=Channel.objects.get(code="window"))
    chosen = next(s for s in options if s.remaining)
    return chosen.pool.pk if chosen.pool else None


def req(code: str, quantity: int = 1, day: dt.date = MON, **extra: Any) -> LineRequest:
    p = Product.objects.get(code=code)
    return LineRequest(product=p.pk, date=day, quantity=quantity, slot=slot(code, day), **extra)


@pytest.fixture
def cashier(demo: None, clock: Any) -> User:
    return cashier_on_shift("cashier", "window-1")


@pytest.fixture
def shift(cashier: User) -> Shift:
    s = open_shift(cashier)
    assert s is not None
    return s


def refunded(order: Order) -> Decimal:
    return Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or Decimal(0)


# --- Selling ------------------------------------------------------------------------------


def test_sell_for_cash_gives_change(cashier: User, shift: Shift) -> None:
    expected = unit("adult") * 2 + unit("child")
    tendered = (expected // 100 + 1) * 100
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("adult", 2), req("child")],
        tenders=[Tender("cash", None, tendered)],
    )
    assert order.status == Order.Status.PAID and order.shift_id == shift.pk
    assert order.total == expected
    (payment,) = Payment.objects.filter(order=order)
    assert payment.method == "cash" and payment.amount == expected
    assert payment.tendered == tendered and payment.change == tendered - expected
    assert payment.shift_id == shift.pk
    assert Ticket.objects.filter(order=order, status="valid").count() == 3


def test_combined_card_and_cash(cashier: User, shift: Shift) -> None:
    expected = unit("adult") * 3
    card = Decimal("100.00")
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("adult", 3)],
        tenders=[Tender("card", card, None, "POS-778812"), Tender("cash", None, expected)],
    )
    rows = {p.method: p for p in Payment.objects.filter(order=order)}
    assert rows["card"].amount == card and rows["card"].reference == "POS-778812"
    assert rows["cash"].amount == expected - card
    assert rows["cash"].change == expected - (expected - card)
    assert sum(p.amount for p in rows.values()) == order.total == expected


def test_payments_must_cover_the_total_or_nothing_is_written(cashier: User, shift: Shift) -> None:
    before = (Order.objects.count(), Payment.objects.count())
    with pytest.raises(DomainError) as short:
        window_sell(
            shift=shift,
            actor=cashier,
            lines=[req("adult", 2)],
            tenders=[Tender("card", Decimal("10.00"))],
        )
    assert short.value.code == "payment_short"
    with pytest.raises(DomainError) as little:
        window_sell(
            shift=shift,
            actor=cashier,
            lines=[req("adult")],
            tenders=[Tender("cash", None, Decimal("1.00"))],
        )
    assert little.value.code == "tendered_too_little"
    with pytest.raises(DomainError) as much:
        window_sell(
            shift=shift,
            actor=cashier,
            lines=[req("adult")],
            tenders=[Tender("card", unit("adult") + 1)],
        )
    assert much.value.code == "payment_too_much"
    for quantity in (0, -3, 100000):
        with pytest.raises(DomainError) as bad:
            window_sell(
                shift=shift,
                actor=cashier,
                lines=[req("adult", quantity)],
                tenders=[Tender("cash")],
            )
        assert bad.value.code == "invalid_quantity"
    assert (Order.objects.count(), Payment.objects.count()) == before
    assert Pool.objects.aggregate(s=Sum("held"))["s"] in (0, None)


def test_charge_a_b2b_account(cashier: User, shift: Shift) -> None:
    account = Account.objects.get(code="sunshine")
    assert account is not None
    expected = unit("adult") * 4
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("adult", 4)],
        tenders=[Tender("account")],
        account=account,
    )
    assert order.account_id == account.pk and order.status == Order.Status.PAID
    (payment,) = Payment.objects.filter(order=order)
    assert payment.method == "account" and payment.amount == expected
    with pytest.raises(DomainError) as exc:
        window_sell(shift=shift, actor=cashier, lines=[req("adult")], tenders=[Tender("account")])
    assert exc.value.code == "account_required"


def test_group_ticket_and_real_name_pass(cashier: User, shift: Shift) -> None:
    group = Product.objects.get(code="group")
    persons = group.persons + 5
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("group", persons=persons)],
        tenders=[Tender("card", reference="G1")],
    )
    (ticket,) = Ticket.objects.filter(order=order)
    assert ticket.persons == persons and order.total == unit("group") * persons
    with pytest.raises(DomainError) as exc:
        window_sell(
            shift=shift,
            actor=cashier,
            lines=[req("group", persons=(group.max_persons or 0) + 1)],
            tenders=[Tender("cash")],
        )
    assert exc.value.code == "invalid_quantity"
    annual = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("annual", visitors=(VisitorIn("张三", "resident_id", IDS[3]),))],
        tenders=[Tender("cash")],
    )
    (pass_ticket,) = Ticket.objects.filter(order=annual)
    assert pass_ticket.holder_name == "张三"


# --- Discounts ----------------------------------------------------------------------------


def test_discount_within_the_cashier_limit(cashier: User, shift: Shift) -> None:
    percent = cashier.discount_limit_percent
    base = unit("adult") * 2
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("adult", 2)],
        tenders=[Tender("cash")],
        discount_percent=percent,
        discount_reason="本地居民",
    )
    assert order.subtotal == base
    assert order.discount == (base * percent / 100).quantize(Decimal("0.01"))
    assert order.total == base - order.discount
    assert order.manual_discount_reason == "本地居民"
    assert not ShiftAction.objects.filter(shift=shift, kind="approval").exists()


def test_discount_beyond_the_limit_needs_a_supervisor_pin(cashier: User, shift: Shift) -> None:
    percent = cashier.discount_limit_percent + 20
    orders_before = Order.objects.count()
    with pytest.raises(DomainError) as exc:
        window_sell(
            shift=shift,
            actor=cashier,
            lines=[req("adult")],
            tenders=[Tender("cash")],
            discount_percent=percent,
        )
    assert exc.value.code == "discount_over_limit"
    assert Order.objects.count() == orders_before

    with pytest.raises(DomainError) as wrong:
        approval_check(
            shift=shift, approver_username="supervisor", pin="0000", percent=percent, actor=cashier
        )
    assert wrong.value.code == "approval_refused"
    refused = ShiftAction.objects.get(shift=shift, kind="approval_refused")
    assert refused.percent == percent and refused.reason == "supervisor"
    # A cashier cannot approve their own discount.
    with pytest.raises(DomainError):
        approval_check(
            shift=shift,
            approver_username="cashier",
            pin=SUPERVISOR_PIN,
            percent=percent,
            actor=cashier,
        )

    approver = approval_check(
        shift=shift,
        approver_username="supervisor",
        pin=SUPERVISOR_PIN,
        percent=percent,
        actor=cashier,
    )
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("adult")],
        tenders=[Tender("cash")],
        discount_percent=percent,
        discount_reason="员工亲属",
        approver=approver,
    )
    assert order.discount == (unit("adult") * percent / 100).quantize(Decimal("0.01"))
    approval = ShiftAction.objects.get(shift=shift, kind="approval")
    assert approval.order_id == order.pk and approval.approver_id == approver.pk
    assert approval.percent == percent and approval.amount == order.discount


# --- Rights -------------------------------------------------------------------------------


def test_products_hidden_by_cashier_rights_are_refused_at_checkout(
    cashier: User, shift: Shift
) -> None:
    adult, child = Product.objects.get(code="adult"), Product.objects.get(code="child")
    rights, _ = CashierRights.objects.get_or_create(user=cashier)
    rights.products.set([adult])
    assert [p.code for p in sellable_products(terminal=shift.terminal, cashier=cashier)] == [
        "adult"
    ]
    with pytest.raises(DomainError) as exc:
        window_sell(shift=shift, actor=cashier, lines=[req("child")], tenders=[Tender("cash")])
    assert exc.value.code == "product_not_allowed"
    # The terminal's list narrows it further.
    rights.products.clear()
    terminal = shift.terminal
    terminal.products.set([child])
    assert [p.code for p in sellable_products(terminal=terminal, cashier=cashier)] == ["child"]
    with pytest.raises(DomainError) as exc:
        window_sell(shift=shift, actor=cashier, lines=[req("adult")], tenders=[Tender("cash")])
    assert exc.value.code == "product_not_allowed"
    assert not Order.objects.exists()


def test_a_cashier_without_the_refund_right_cannot_refund(cashier: User, shift: Shift) -> None:
    order = window_sell(
        shift=shift, actor=cashier, lines=[req("adult", 2)], tenders=[Tender("cash")]
    )
    ticket = Ticket.objects.filter(order=order).first()
    assert ticket is not None
    # Take the right away from this one user: their role grants it, so move them to a copy.
    from django.contrib.auth.models import Group

    role = Group.objects.get(name="cashier")
    narrow = Group.objects.create(name="cashier-no-refund")
    narrow.permissions.set(role.permissions.exclude(codename="refund_order"))
    cashier.groups.set([narrow])
    cashier = User.objects.get(pk=cashier.pk)
    with pytest.raises(DomainError) as exc:
        window_refund(shift=shift, actor=cashier, order=order, ticket_ids=[ticket.pk])
    assert exc.value.code == "refund_not_allowed" and exc.value.status == 403
    assert not Refund.objects.exists()
    cashier.groups.set([role])
    cashier = User.objects.get(pk=cashier.pk)
    rows = window_refund(shift=shift, actor=cashier, order=order, ticket_ids=[ticket.pk])
    assert sum(r.amount for r in rows) == ticket.price
    assert all(r.shift_id == shift.pk for r in rows)


def test_void_a_sale_of_the_shift(cashier: User, shift: Shift) -> None:
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("adult"), req("child")],
        tenders=[Tender("card", unit("adult"), reference="X"), Tender("cash")],
    )
    amount = window_void(shift=shift, actor=cashier, order=order, reason="wrong ticket type")
    assert amount == order.total == refunded(order)
    assert set(Ticket.objects.filter(order=order).values_list("status", flat=True)) == {"refunded"}
    void = ShiftAction.objects.get(shift=shift, kind="void")
    assert void.order_id == order.pk and void.amount == order.total
    # Voided once; not again, and not another cashier's sale.
    with pytest.raises(DomainError) as again:
        window_void(shift=shift, actor=cashier, order=order)
    assert again.value.code == "void_not_allowed"
    other = cashier_on_shift("cashier2", "window-2")
    other_shift = open_shift(other)
    assert other_shift is not None
    theirs = window_sell(
        shift=other_shift, actor=other, lines=[req("adult")], tenders=[Tender("cash")]
    )
    with pytest.raises(DomainError) as foreign:
        window_void(shift=shift, actor=cashier, order=theirs)
    assert foreign.value.code == "void_not_allowed"
    with pytest.raises(DomainError) as foreign_refund:
        window_refund(shift=shift, actor=cashier, order=theirs)
    assert foreign_refund.value.code == "order_of_another_shift"
    with pytest.raises(DomainError) as foreign_shift:
        window_sell(
            shift=other_shift, actor=cashier, lines=[req("adult")], tenders=[Tender("cash")]
        )
    assert foreign_shift.value.code == "not_your_shift"


def test_void_needs_the_right_and_unused_tickets(cashier: User, shift: Shift) -> None:
    order = window_sell(
        shift=shift, actor=cashier, lines=[req("adult", 2)], tenders=[Tender("cash")]
    )
    first = Ticket.objects.filter(order=order).first()
    assert first is not None
    window_refund(shift=shift, actor=cashier, order=order, ticket_ids=[first.pk])
    with pytest.raises(DomainError) as exc:
        window_void(shift=shift, actor=cashier, order=order)
    assert exc.value.code == "void_not_allowed"
    second = window_sell(shift=shift, actor=cashier, lines=[req("adult")], tenders=[Tender("cash")])
    cashier.user_permissions.clear()
    from django.contrib.auth.models import Group

    role = Group.objects.get(name="cashier")
    narrow = Group.objects.create(name="cashier-no-void")
    narrow.permissions.set(role.permissions.exclude(codename="void_sale"))
    cashier.groups.set([narrow])
    cashier = User.objects.get(pk=cashier.pk)
    with pytest.raises(DomainError) as denied:
        window_void(shift=shift, actor=cashier, order=second)
    assert denied.value.code == "permission_denied"
    assert not ShiftAction.objects.filter(kind="void").exists()


def _without_reprint_right() -> None:
    """Cashiers may reprint in the demo's roles; a venue can take the right away."""
    from django.contrib.auth.models import Group

    perm = Permission.objects.get(codename="reprint_ticket")
    Group.objects.get(name="cashier").permissions.remove(perm)


def test_reprint_needs_the_right(cashier: User, shift: Shift) -> None:
    _without_reprint_right()
    cashier = User.objects.get(pk=cashier.pk)
    order = window_sell(shift=shift, actor=cashier, lines=[req("adult")], tenders=[Tender("cash")])
    tickets = list(Ticket.objects.filter(order=order))
    pdf = tickets_print(tickets=tickets, actor=cashier, shift=shift)
    assert pdf.startswith(b"%PDF")
    assert TicketPrint.objects.filter(ticket__in=tickets, kind="first").count() == 1
    with pytest.raises(DomainError) as exc:
        tickets_print(tickets=tickets, actor=cashier, shift=shift, reason="paper jam")
    assert exc.value.code == "permission_denied"
    cashier.user_permissions.add(Permission.objects.get(codename="reprint_ticket"))
    cashier = User.objects.get(pk=cashier.pk)
    tickets_print(tickets=tickets, actor=cashier, shift=shift, reason="paper jam")
    reprint = TicketPrint.objects.get(ticket__in=tickets, kind="reprint")
    assert reprint.reason == "paper jam" and reprint.shift_id == shift.pk
    assert ShiftAction.objects.filter(shift=shift, kind="reprint").count() == 1


def test_collect_a_booking_and_pay_what_is_due(cashier: User, shift: Shift) -> None:
    # Booked and left awaiting payment (what an online visitor does before paying at the window).
    order = window_sell(
        shift=shift, actor=cashier, lines=[req("adult", 2)], tenders=[], leave_pending=True
    )
    assert order.status == Order.Status.PENDING
    paid = window_pay(
        shift=shift,
        actor=cashier,
        order=order,
        tenders=[Tender("card", unit("adult"), reference="A"), Tender("cash")],
    )
    assert paid.status == Order.Status.PAID
    assert Payment.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] == order.total
    with pytest.raises(DomainError) as exc:
        window_pay(shift=shift, actor=cashier, order=order, tenders=[Tender("cash")])
    assert exc.value.code == "nothing_due"


def test_no_sale_without_an_open_shift(demo: None, clock: Any) -> None:
    cashier = User.objects.get(username="cashier")
    shift = Shift(pk=999999, terminal=Terminal.objects.get(code="window-1"), cashier=cashier)
    with pytest.raises(DomainError) as exc:
        window_sell(shift=shift, actor=cashier, lines=[req("adult")], tenders=[Tender("cash")])
    assert exc.value.code == "not_your_shift"
    assert json.dumps(exc.value.as_dict())  # the error is JSON-able for the POS


# --- The point of sale's pages and JSON -----------------------------------------------------


@pytest.fixture
def pos(cashier: User, client: Any) -> Any:
    client.force_login(cashier)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post(client: Any, url: str, body: Any, status: int = 200) -> dict[str, Any]:
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == status, response.content
    return response.json() if response["Content-Type"].startswith("application/json") else {}


def basket(code: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    r = req(code, quantity)
    return {
        "product": r.product,
        "date": r.date.isoformat(),
        "slot": r.slot,
        "quantity": quantity,
        **extra,
    }


def test_the_pages_login_refusal_and_opening_a_shift(demo: None, clock: Any, client: Any) -> None:
    assert client.get("/boxoffice/")["Location"].startswith("/admin/login/?next=/boxoffice/")
    client.force_login(User.objects.get(username="finance"))
    refused = client.get("/boxoffice/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403 and b"You may not sell at the window" in refused.content
    assert client.get("/boxoffice/pos/recent").json()["error"]["code"] == "permission_denied"

    cashier = User.objects.get(username="cashier")
    client.force_login(cashier)
    page = client.get("/boxoffice/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and b"Open a shift" in page.content
    assert client.get("/boxoffice/pos/recent").json()["error"]["code"] == "no_open_shift"
    window = Terminal.objects.get(code="window-1")
    bad = client.post("/boxoffice/open", {"terminal": window.pk, "opening_float": "-5"})
    assert bad.status_code == 400 and not Shift.objects.exists()
    unknown = client.post("/boxoffice/open", {"terminal": "x", "opening_float": "5"})
    assert unknown.status_code == 404
    opened = client.post("/boxoffice/open", {"terminal": window.pk, "opening_float": "300.00"})
    assert opened.status_code == 302
    shift = Shift.objects.get(cashier=cashier, status="open")
    assert shift.opening_float == Decimal("300.00") and shift.terminal == window
    # A second cashier cannot open the same window.
    client.force_login(User.objects.get(username="cashier2"))
    taken = client.post(
        "/boxoffice/open", {"terminal": window.pk, "opening_float": "1"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert taken.status_code == 409 and b"shift_already_open" in taken.content
    client.force_login(cashier)
    sale = client.get("/boxoffice/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert sale.status_code == 200 and b'id="pos-config"' in sale.content
    assert "售票".encode() in sale.content
    assert f"/boxoffice/shifts/{shift.pk}/close".encode() in sale.content


def test_day_quote_and_checkout_with_change(pos: Any, cashier: User, shift: Shift) -> None:
    day = pos.get(f"/boxoffice/pos/day?date={MON.isoformat()}").json()
    adult = next(p for p in day["products"] if p["code"] == "adult")
    assert Decimal(adult["price"]) == unit("adult") and adult["slots"]
    assert {p["code"] for p in day["products"]} == {
        p.code for p in sellable_products(terminal=shift.terminal, cashier=cashier)
    }
    lines = [basket("adult", 2), basket("senior")]
    quoted = post(pos, "/boxoffice/pos/quote", {"lines": lines})
    expected = unit("adult") * 2 + unit("senior")
    assert Decimal(quoted["total"]) == expected and not quoted["needs_approval"]
    over = post(
        pos,
        "/boxoffice/pos/quote",
        {"lines": lines, "discount": {"percent": "30"}},
    )
    assert over["needs_approval"] and Decimal(over["discount"]) == (expected * 3 / 10).quantize(
        Decimal("0.01")
    )
    # The senior ticket needs a name at checkout.
    missing = post(
        pos,
        "/boxoffice/pos/checkout",
        {"lines": lines, "tenders": [{"method": "cash"}]},
        400,
    )
    assert missing["error"]["code"] == "visitors_required"
    lines[1]["visitors"] = [{"name": "王奶奶", "id_type": "resident_id", "id_number": IDS[4]}]
    sold = post(
        pos,
        "/boxoffice/pos/checkout",
        {"key": "k-1", "lines": lines, "tenders": [{"method": "cash", "tendered": "500"}]},
    )
    order = Order.objects.get(code=sold["order"]["code"])
    assert order.total == expected and order.status == "paid" and order.shift_id == shift.pk
    assert Decimal(sold["order"]["payments"][0]["change"]) == Decimal(500) - expected
    # The same key again (a double click) answers the first sale and sells nothing more.
    again = post(
        pos,
        "/boxoffice/pos/checkout",
        {"key": "k-1", "lines": lines, "tenders": [{"method": "cash", "tendered": "500"}]},
    )
    assert again["order"]["code"] == order.code and Order.objects.count() == 1
    reused = post(
        pos,
        "/boxoffice/pos/checkout",
        {"key": "k-1", "lines": [basket("adult")], "tenders": [{"method": "cash"}]},
        409,
    )
    assert reused["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "invalid_json"),
        ({"lines": []}, "no_lines"),
        (
            {"lines": [{"product": 999999, "date": "2027-01-11", "quantity": 1}]},
            "product_not_allowed",
        ),
        ({"lines": [{"product": "x", "date": "2027-01-11", "quantity": 1}]}, "invalid_number"),
        ({"lines": [{"product": 1, "date": "11/01/2027", "quantity": 1}]}, "invalid_date"),
        ({"lines": "adult"}, "no_lines"),
        (
            {"lines": [{"product": 1, "date": "2027-01-11", "quantity": 1}], "phone": "1\x00"},
            "nul_character",
        ),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
    ],
)
def test_bad_input_gets_a_code_and_writes_nothing(
    pos: Any, shift: Shift, body: Any, code: str
) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = pos.post("/boxoffice/pos/checkout", raw, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] == code
    assert not Order.objects.exists()


def test_bad_quantities_and_money_at_checkout(pos: Any, shift: Shift) -> None:
    for quantity in (-1, 0, 10**6, 2**40):
        out = post(
            pos,
            "/boxoffice/pos/checkout",
            {
                "lines": [basket("adult", 1) | {"quantity": quantity}],
                "tenders": [{"method": "cash"}],
            },
            400,
        )
        assert out["error"]["code"] in ("invalid_quantity", "invalid_number")
    short = post(
        pos,
        "/boxoffice/pos/checkout",
        {"lines": [basket("adult")], "tenders": [{"method": "cash", "tendered": "1.00"}]},
        400,
    )
    assert short["error"]["code"] == "tendered_too_little"
    weird = post(
        pos,
        "/boxoffice/pos/checkout",
        {"lines": [basket("adult")], "tenders": [{"method": "cash", "tendered": "abc"}]},
        400,
    )
    assert weird["error"]["code"] in ("invalid", "invalid_amount")
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_over_limit_discount_by_pin_through_the_page(pos: Any, cashier: User, shift: Shift) -> None:
    body = {
        "lines": [basket("adult")],
        "tenders": [{"method": "card", "reference": "R"}],
        "discount": {"percent": "50", "reason": "军人优抚"},
    }
    refused = post(pos, "/boxoffice/pos/checkout", body, 403)
    assert refused["error"]["code"] == "discount_over_limit"
    wrong = post(
        pos,
        "/boxoffice/pos/checkout",
        body | {"discount": body["discount"] | {"approver": "supervisor", "pin": "1111"}},
        403,
    )
    assert wrong["error"]["code"] == "approval_refused"
    assert ShiftAction.objects.filter(shift=shift, kind="approval_refused").count() == 1
    ok = post(
        pos,
        "/boxoffice/pos/checkout",
        body | {"discount": body["discount"] | {"approver": "supervisor", "pin": SUPERVISOR_PIN}},
    )
    order = Order.objects.get(code=ok["order"]["code"])
    assert order.discount == (unit("adult") / 2).quantize(Decimal("0.01"))
    assert ShiftAction.objects.get(shift=shift, kind="approval").order_id == order.pk


def test_qr_payment_is_polled_until_paid(pos: Any, shift: Shift, client: Any) -> None:
    started = post(pos, "/boxoffice/pos/checkout", {"lines": [basket("adult")], "qr": True})
    assert "<svg" in started["qr"]["svg"] and "/sandbox-pay/" in started["qr"]["pay_url"]
    code = started["order"]["code"]
    assert pos.get(f"/boxoffice/pos/orders/{code}").json()["order"]["status"] == "pending"
    ref = started["qr"]["pay_url"].rsplit("/", 1)[1]
    from django.test import Client

    Client().post(f"/sandbox-pay/{ref}")  # the visitor pays on their phone
    polled = pos.get(f"/boxoffice/pos/orders/{code}").json()["order"]
    assert polled["status"] == "paid"
    (payment,) = Payment.objects.filter(order__code=code)
    assert payment.method == "online" and payment.shift_id == shift.pk
    assert payment.amount == unit("adult")


def test_print_refund_void_and_reprint_through_the_page(
    pos: Any, cashier: User, shift: Shift
) -> None:
    _without_reprint_right()
    sold = post(
        pos,
        "/boxoffice/pos/checkout",
        {"lines": [basket("adult", 2)], "tenders": [{"method": "cash"}]},
    )
    code = sold["order"]["code"]
    pdf = pos.post(f"/boxoffice/pos/orders/{code}/print", "{}", content_type="application/json")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert TicketPrint.objects.filter(ticket__order__code=code, kind="first").count() == 2
    ticket = sold["order"]["tickets"][0]["id"]
    denied = post(
        pos, f"/boxoffice/pos/orders/{code}/print", {"tickets": [ticket], "reason": "jam"}, 403
    )
    assert denied["error"]["code"] == "permission_denied"
    refund = post(pos, f"/boxoffice/pos/orders/{code}/refund", {"tickets": [ticket]})
    assert Decimal(refund["refunded"]) == Ticket.objects.get(pk=ticket).price
    assert refunded(Order.objects.get(code=code)) == Decimal(refund["refunded"])
    bad = post(pos, f"/boxoffice/pos/orders/{code}/refund", {"tickets": [-4]}, 400)
    assert bad["error"]["code"] == "invalid_number"
    voided = post(pos, f"/boxoffice/pos/orders/{code}/void", {}, 409)
    assert voided["error"]["code"] == "void_not_allowed"
    recent = pos.get("/boxoffice/pos/recent").json()
    assert [o["code"] for o in recent["orders"]] == [code]
    cash = Payment.objects.filter(shift=shift, method="cash").aggregate(s=Sum("amount"))["s"]
    back = Refund.objects.filter(shift=shift, method="cash").aggregate(s=Sum("amount"))["s"]
    assert Decimal(recent["totals"]["cash_expected"]) == shift.opening_float + cash - back


def test_another_cashiers_orders_and_unknown_codes_are_refused(
    pos: Any, cashier: User, shift: Shift
) -> None:
    other = cashier_on_shift("cashier2", "window-2")
    other_shift = open_shift(other)
    assert other_shift is not None
    theirs = window_sell(
        shift=other_shift, actor=other, lines=[req("adult")], tenders=[Tender("cash")]
    )
    for tail, method in (("", "get"), ("/refund", "post"), ("/void", "post"), ("/print", "post")):
        url = f"/boxoffice/pos/orders/{theirs.code}{tail}"
        response = (
            pos.get(url)
            if method == "get"
            else pos.post(url, "{}", content_type="application/json")
        )
        assert response.status_code == 403, (tail, response.content)
        assert response.json()["error"]["code"] == "order_of_another_shift"
    missing = pos.get("/boxoffice/pos/orders/NOSUCHCODE")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "order_not_found"
    assert not Refund.objects.exists() and not TicketPrint.objects.exists()


def test_a_void_pays_everything_back_even_where_a_refund_keeps_a_fee(
    cashier: User, shift: Shift
) -> None:
    product = Product.objects.get(code="adult")
    product.refund_fee_percent = Decimal("10")
    product.save()
    order = window_sell(
        shift=shift, actor=cashier, lines=[req("adult", 2)], tenders=[Tender("cash")]
    )
    window_void(shift=shift, actor=cashier, order=order, reason="typed the wrong date")
    assert refunded(order) == order.total
    assert Refund.objects.filter(order=order).aggregate(f=Sum("fee"))["f"] == 0


def test_a_pass_sold_at_the_window_gets_the_members_card_bound(
    pos: Any, cashier: User, shift: Shift
) -> None:
    from admit.tickets.models import TicketMedium

    annual = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("annual", visitors=(VisitorIn("张三", "resident_id", IDS[3]),))],
        tenders=[Tender("cash")],
    )
    (ticket,) = Ticket.objects.filter(order=annual)
    url = f"/boxoffice/pos/orders/{annual.code}/tickets/{ticket.pk}/bind"
    body = post(pos, url, {"uid": "04:a2:b3:c4"})
    medium = TicketMedium.objects.get(pk=body["medium"])
    assert medium.ticket_id == ticket.pk and medium.kind == "card"
    # Another pass cannot take the same card; an unknown ticket of the order is refused.
    other = window_sell(
        shift=shift,
        actor=cashier,
        lines=[req("annual", visitors=(VisitorIn("李四", "resident_id", IDS[4]),))],
        tenders=[Tender("cash")],
    )
    (second,) = Ticket.objects.filter(order=other)
    refused = post(
        pos,
        f"/boxoffice/pos/orders/{other.code}/tickets/{second.pk}/bind",
        {"uid": "04A2B3C4"},
        409,
    )
    assert refused["error"]["code"] == "medium_in_use"
    post(pos, f"/boxoffice/pos/orders/{other.code}/tickets/{ticket.pk}/bind", {"uid": "0A0B"}, 404)
    assert TicketMedium.objects.filter(kind="card").count() == 1


@pytest.mark.parametrize("quantity", [1.5, True, "2x"])
def test_a_quantity_that_is_no_whole_number_is_refused_not_rounded(
    pos: Any, cashier: User, shift: Shift, quantity: Any
) -> None:
    refused = post(
        pos,
        "/boxoffice/pos/checkout",
        {"lines": [basket("adult", quantity=quantity)], "tenders": [{"method": "cash"}]},
        400,
    )
    assert refused["error"]["code"] == "invalid_number"
    assert not Order.objects.exists()


def test_a_member_at_the_window_gets_member_prices_points_and_their_pass(
    pos: Any, cashier: User, shift: Shift
) -> None:
    from admit.customers.models import Member, Pass
    from admit.demo.data import DEMO_MEMBER_PHONE

    member = Member.objects.get(phone=DEMO_MEMBER_PHONE)
    found = pos.get(f"/boxoffice/pos/member?q={DEMO_MEMBER_PHONE}").json()
    assert found["number"] == member.number and found["name"] == member.name
    assert pos.get("/boxoffice/pos/member?q=13000000000").status_code == 404
    annual = Product.objects.get(code="annual")
    line = {
        "product": annual.pk,
        "date": "2026-11-22",
        "quantity": 1,
        "visitors": [
            {"name": member.name, "id_type": "resident_id", "id_number": member.id_number}
        ],
    }
    quoted = post(pos, "/boxoffice/pos/quote", {"lines": [line], "member": member.number})
    assert Decimal(quoted["total"]) == Decimal("358.20")  # gold: 10 % off 398
    unknown = post(
        pos,
        "/boxoffice/pos/checkout",
        {"key": "m-0", "lines": [line], "member": "MNOBODY", "tenders": [{"method": "cash"}]},
        404,
    )
    assert unknown["error"]["code"] == "member_not_found" and not Order.objects.exists()
    sold = post(
        pos,
        "/boxoffice/pos/checkout",
        {
            "key": "m-1",
            "lines": [line],
            "member": DEMO_MEMBER_PHONE,
            "tenders": [{"method": "card"}],
        },
    )
    order = Order.objects.get(code=sold["order"]["code"])
    assert order.member_id == member.pk and order.total == Decimal("358.20")
    (sold_pass,) = Pass.objects.filter(member=member)
    ticket = order.tickets.get()
    assert ticket.holder_pass_id == sold_pass.pk and sold_pass.valid_until == ticket.valid_until
    # The card bound after the sale becomes the pass's card.
    bound = post(
        pos, f"/boxoffice/pos/orders/{order.code}/tickets/{ticket.pk}/bind", {"uid": "0A0B0C0D"}
    )
    assert bound
    sold_pass.refresh_from_db()
    assert sold_pass.card_uid == "0A0B0C0D"
    member.refresh_from_db()
    assert member.points == 716  # 358.20 × 2, whole points


@pytest.mark.parametrize("paid_by", ["qr", "cash after the qr was given up"])
def test_a_members_pass_paid_later_at_the_window_is_theirs_once_paid(
    pos: Any, shift: Shift, paid_by: str
) -> None:
    """A pass sold to a member and paid by QR code (or, the QR given up, in cash) becomes the
    member's pass when the money arrives, as one paid at once in cash or by card does."""
    from django.test import Client

    from admit.customers.models import Member, Pass
    from admit.demo.data import DEMO_MEMBER_PHONE

    member = Member.objects.get(phone=DEMO_MEMBER_PHONE)
    line = basket(
        "annual",
        visitors=[{"name": member.name, "id_type": "resident_id", "id_number": member.id_number}],
    )
    started = post(
        pos,
        "/boxoffice/pos/checkout",
        {"key": "m-qr", "lines": [line], "member": member.number, "qr": True},
    )
    code = started["order"]["code"]
    assert started["order"]["status"] == "pending" and not Pass.objects.exists()
    if paid_by == "qr":
        ref = started["qr"]["pay_url"].rsplit("/", 1)[1]
        Client().post(f"/sandbox-pay/{ref}")  # the visitor pays on their phone
        assert pos.get(f"/boxoffice/pos/orders/{code}").json()["order"]["status"] == "paid"
    else:
        post(pos, f"/boxoffice/pos/orders/{code}/pay", {"tenders": [{"method": "cash"}]})
    order = Order.objects.get(code=code)
    assert order.status == Order.Status.PAID and order.member_id == member.pk
    (sold_pass,) = Pass.objects.filter(member=member)
    ticket = order.tickets.get()
    assert ticket.holder_pass_id == sold_pass.pk
    assert (sold_pass.valid_from, sold_pass.valid_until) == (ticket.valid_from, ticket.valid_until)
    # A second notice of the same payment (providers repeat them) makes no second pass.
    if paid_by == "qr":
        Client().post(f"/sandbox-pay/{ref}")
        assert Pass.objects.count() == 1
