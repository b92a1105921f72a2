"""Cashiers' shifts (班次) and the handover report (交班统计), checked against the rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client

from admit.accounts.models import User
from admit.boxoffice import handover
from admit.boxoffice.errors import (
    AmountInvalid,
    ApprovalLocked,
    ApprovalRefused,
    NotYourShift,
    OwnShift,
    ShiftAlreadyOpen,
    ShiftNotClosed,
    ShiftNotOpen,
    TerminalInactive,
)
from admit.boxoffice.models import Shift, ShiftAction, Terminal
from admit.boxoffice.selectors import open_shift_id
from admit.boxoffice.services import (
    approval_check,
    shift_close,
    shift_confirm,
    shift_open,
)
from admit.core.errors import PermissionDenied
from admit.demo.data import SUPERVISOR_PIN
from admit.sales import services as sales
from admit.sales.models import Order, Payment, PaymentMethod, Refund
from admit.tickets.models import Ticket
from tests.conftest import bearer_client
from tests.sales_helpers import line, pay_cash, place, product

pytestmark = pytest.mark.usefixtures("clock")


def user(name: str) -> User:
    return User.objects.get(username=name)


def terminal(code: str = "window-1") -> Terminal:
    return Terminal.objects.get(code=code)


def open_for(name: str = "cashier", code: str = "window-1", float_: str = "300.00") -> Shift:
    cashier = user(name)
    return shift_open(terminal=terminal(code), cashier=cashier, opening_float=float_, actor=cashier)


def sell(api: Client, code: str = "adult", quantity: int = 2, **pay: str) -> dict:
    order = place(api, [line(api, code, quantity)])
    pay_cash(api, order["code"], **pay)
    return order


# --- Opening ---------------------------------------------------------------------------------


def test_a_cashier_without_an_open_shift_cannot_sell_take_or_pay_back_money(demo, api):
    cashier = bearer_client(user("cashier"))
    body = place(cashier, [line(cashier, "adult", 1)], status=409)
    assert body["error"]["code"] == "no_open_shift"
    assert not Order.objects.exists()
    # A supervisor's money is not a cashier's: it belongs to no shift.
    order = place(api, [line(api, "adult", 1)])
    pay_cash(api, order["code"])
    assert Payment.objects.get().shift_id is None


@pytest.mark.parametrize("bad", ["-1", "abc", "1.234", "NaN", "99999999", ""])
def test_a_float_must_be_an_amount_of_money(demo, bad):
    with pytest.raises(AmountInvalid):
        open_for(float_=bad)
    assert not Shift.objects.exists()


def test_one_open_shift_per_terminal_and_per_cashier(demo):
    first = open_for("cashier", "window-1")
    with pytest.raises(ShiftAlreadyOpen):
        open_for("cashier2", "window-1")
    with pytest.raises(ShiftAlreadyOpen):
        open_for("cashier", "window-2")
    open_for("cashier2", "window-2")
    shift_close(shift=first, counted_cash="300.00", actor=user("cashier"))
    assert open_shift_id(user("cashier").pk) is None
    open_for("cashier", "window-1")  # the terminal is free again


def test_only_window_staff_open_shifts_at_active_windows(demo):
    with pytest.raises(PermissionDenied):
        shift_open(
            terminal=terminal(), cashier=user("finance"), opening_float="0", actor=user("finance")
        )
    with pytest.raises(TerminalInactive):
        open_for(code="kiosk-1")
    window = terminal()
    window.is_active = False
    window.save()
    with pytest.raises(TerminalInactive):
        open_for()
    # A cashier cannot open a shift in someone else's name.
    with pytest.raises(PermissionDenied):
        shift_open(
            terminal=terminal("window-2"),
            cashier=user("cashier2"),
            opening_float="0",
            actor=user("cashier"),
        )


# --- The handover report ---------------------------------------------------------------------


def _sums(shift: Shift, method: str) -> tuple[Decimal, Decimal]:
    paid = Payment.objects.filter(shift=shift, method=method).aggregate(s=Sum("amount"))["s"]
    back = Refund.objects.filter(shift=shift, method=method).aggregate(s=Sum("amount"))["s"]
    return paid or Decimal(0), back or Decimal(0)


def test_the_handover_adds_up_with_payments_refunds_and_tickets(demo, api):
    shift = open_for(float_="300.00")
    cashier = bearer_client(user("cashier"))
    a = sell(cashier, "adult", 2, tendered="500.00")
    b = place(cashier, [line(cashier, "adult", 1), line(cashier, "child", 1)])
    pay_cash(cashier, b["code"], amount="50.00")
    rest = Decimal(b["total"]) - Decimal("50.00")
    response = cashier.post(
        f"/api/v1/orders/{b['code']}/payments",
        {"method": "card", "amount": str(rest), "reference": "POS 4711"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.filter(order__code=a["code"]).first()
    sales.order_refund(
        order=Order.objects.get(code=a["code"]), actor=user("cashier"), ticket_ids=[ticket.pk]
    )
    # Someone else's sale in no shift must not show up.
    sell(api, "adult", 1)

    report = handover.compute(Shift.objects.get(pk=shift.pk))
    cash_in, cash_out = _sums(shift, PaymentMethod.CASH)
    card_in, card_out = _sums(shift, PaymentMethod.CARD)
    assert Decimal(report["taken"]) == cash_in + card_in
    assert Decimal(report["paid_back"]) == cash_out + card_out
    assert Decimal(report["cash"]["expected"]) == Decimal("300.00") + cash_in - cash_out
    by_method = {m["method"]: m for m in report["methods"]}
    assert Decimal(by_method["card"]["taken"]) == card_in == rest
    assert Decimal(by_method["cash"]["paid_back"]) == cash_out > 0
    shift_tickets = Ticket.objects.filter(order__shift=shift)
    assert report["tickets"] == shift_tickets.count() == 4
    assert Decimal(report["sales_total"]) == sum(
        (o.total for o in Order.objects.filter(shift=shift, status="paid")), Decimal(0)
    )
    products = {p["product"]: p for p in report["products"]}
    assert products[product("adult").pk]["tickets"] == 3
    assert products[product("adult").pk]["returned"] == 1
    assert report["refunds"] == Refund.objects.filter(shift=shift).count() == 1
    assert handover.check(shift) == []


def test_closing_keeps_the_report_and_the_difference_and_a_supervisor_confirms(demo):
    shift = open_for(float_="200.00")
    cashier = bearer_client(user("cashier"))
    order = sell(cashier, "adult", 1)
    expected = Decimal("200.00") + Decimal(order["total"])
    with pytest.raises(NotYourShift):
        shift_close(shift=shift, counted_cash="1", actor=user("cashier2"))
    with pytest.raises(ShiftNotClosed):
        shift_confirm(shift=shift, actor=user("supervisor"))
    closed = shift_close(
        shift=shift, counted_cash=expected - Decimal("10.00"), actor=user("cashier"), note="short"
    )
    assert closed.expected_cash == expected
    assert closed.difference == Decimal("-10.00")
    assert closed.report["cash"]["difference"] == "-10.00"
    assert open_shift_id(user("cashier").pk) is None
    with pytest.raises(ShiftNotOpen):
        shift_close(shift=closed, counted_cash="0", actor=user("cashier"))
    # Money handled afterwards is refused until a new shift opens.
    body = place(cashier, [line(cashier, "adult", 1)], status=409)
    assert body["error"]["code"] == "no_open_shift"
    # A refund of this shift's ticket by the next shift does not change the closed report.
    open_for("cashier2", "window-2")
    t = Ticket.objects.get(order__code=order["code"])
    sales.order_refund(order=t.order, actor=user("cashier2"), ticket_ids=[t.pk])
    assert Shift.objects.get(pk=shift.pk).report == closed.report
    assert handover.check(Shift.objects.get(pk=shift.pk)) == []
    with pytest.raises(OwnShift):
        shift_confirm(shift=closed, actor=user("cashier"))
    with pytest.raises(PermissionDenied):
        shift_confirm(shift=closed, actor=user("cashier2"))
    done = shift_confirm(shift=closed, actor=user("finance"), note="ok, 10 short")
    assert done.status == Shift.Status.CONFIRMED and done.confirmed_by == user("finance")


def test_check_finds_a_report_that_no_longer_matches(demo):
    shift = open_for()
    sell(bearer_client(user("cashier")), "adult", 1)
    closed = shift_close(shift=shift, counted_cash="0", actor=user("cashier"))
    tampered = dict(closed.report, taken="0.00")
    Shift.objects.filter(pk=shift.pk).update(report=tampered)
    assert any(p.startswith("taken") for p in handover.check(Shift.objects.get(pk=shift.pk)))


# --- Approvals -------------------------------------------------------------------------------


def test_a_supervisors_pin_approves_and_wrong_pins_are_recorded_then_locked(demo):
    shift = open_for()
    cashier = user("cashier")
    approver = approval_check(
        shift=shift,
        approver_username="supervisor",
        pin=SUPERVISOR_PIN,
        percent=Decimal("30"),
        actor=cashier,
    )
    assert approver == user("supervisor")
    with pytest.raises(ApprovalRefused):  # beyond the supervisor's own 50 %
        approval_check(
            shift=shift,
            approver_username="supervisor",
            pin=SUPERVISOR_PIN,
            percent=Decimal("60"),
            actor=cashier,
        )
    with pytest.raises(ApprovalRefused):  # a cashier cannot approve
        approval_check(
            shift=shift,
            approver_username="cashier2",
            pin="0000",
            percent=Decimal("5"),
            actor=cashier,
        )
    for _ in range(3):
        with pytest.raises(ApprovalRefused):
            approval_check(
                shift=shift,
                approver_username="supervisor",
                pin="1111",
                percent=Decimal("20"),
                actor=cashier,
            )
    assert ShiftAction.objects.filter(shift=shift, kind="approval_refused").count() == 5
    with pytest.raises(ApprovalLocked):
        approval_check(
            shift=shift,
            approver_username="supervisor",
            pin=SUPERVISOR_PIN,
            percent=Decimal("20"),
            actor=cashier,
        )


# --- Pages -----------------------------------------------------------------------------------


def _login(name: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user(name))
    return client


def test_close_page_counts_notes_and_the_handover_page_and_pdf_show_it(demo):
    shift = open_for(float_="100.00")
    order = sell(bearer_client(user("cashier")), "adult", 1)
    web = _login("cashier")
    page = web.get(f"/boxoffice/shifts/{shift.pk}/close")
    assert page.status_code == 200 and b"Count the cash" in page.content
    bad = web.post(f"/boxoffice/shifts/{shift.pk}/close", {"n_100": "-2"})
    assert bad.status_code == 400
    assert Shift.objects.get(pk=shift.pk).status == "open"
    total = Decimal("100.00") + Decimal(order["total"])
    hundreds, rest = divmod(total, 100)
    tens, ones = divmod(rest, 10)
    response = web.post(
        f"/boxoffice/shifts/{shift.pk}/close",
        {"n_100": str(int(hundreds)), "n_10": str(int(tens)), "n_1": str(int(ones))},
    )
    assert response.status_code == 302
    closed = Shift.objects.get(pk=shift.pk)
    assert closed.counted_cash == total and closed.difference == 0
    report = web.get(f"/boxoffice/shifts/{shift.pk}/handover")
    assert report.status_code == 200
    assert f"¥{total:.2f}".encode() in report.content
    pdf = web.get(f"/boxoffice/shifts/{shift.pk}/handover.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # Another cashier may not read it; finance confirms it on the page.
    assert _login("cashier2").get(f"/boxoffice/shifts/{shift.pk}/handover").status_code == 403
    assert web.post(f"/boxoffice/shifts/{shift.pk}/handover").status_code == 400  # own shift
    confirmed = _login("finance").post(f"/boxoffice/shifts/{shift.pk}/handover", {"note": "ok"})
    assert confirmed.status_code == 302
    assert Shift.objects.get(pk=shift.pk).status == "confirmed"


@pytest.mark.parametrize("bad", ["123", "123456789", "12a4", "１２３４", ""])
def test_an_approval_pin_has_four_to_eight_digits_and_only_its_owner_or_staff_admins_set_it(
    demo, bad
):
    from admit.boxoffice.errors import PinInvalid
    from admit.boxoffice.models import CashierRights
    from admit.boxoffice.services import pin_set

    supervisor = user("supervisor")
    before = CashierRights.objects.get(user=supervisor).pin_hash
    with pytest.raises(PinInvalid):
        pin_set(user=supervisor, pin=bad, actor=supervisor)
    with pytest.raises(PermissionDenied):
        pin_set(user=supervisor, pin="9999", actor=user("cashier"))
    assert CashierRights.objects.get(user=supervisor).pin_hash == before
    pin_set(user=supervisor, pin="97531", actor=supervisor)
    shift = open_for()
    assert (
        approval_check(
            shift=shift,
            approver_username="supervisor",
            pin="97531",
            percent=Decimal("20"),
            actor=user("cashier"),
        )
        == supervisor
    )
