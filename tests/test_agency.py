"""The agency portal at /agency/ through Django's test client: who gets in, the dashboard's
figures, a group booking priced with the contract's discount and paid from prepaid money or
credit in one step, a refused payment that books nothing, other accounts' orders, the tickets'
PDF and refunds back to the account."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client

from admit.accounts.models import User
from admit.accounts.services import user_create
from admit.customers.models import Account, AccountMember, Guide, LedgerEntry
from admit.customers.services import account_member_save, account_save, guide_save
from admit.inventory.models import Pool
from admit.sales.models import Order, Payment
from admit.tickets.models import Ticket
from tests.sales_helpers import IDS, product

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 24)  # a Tuesday (weekday prices), two days after the demo day
GROUP_PRICE = Decimal("96.00")  # the group ticket's weekday price per person


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page[^s]", pdf))


@pytest.fixture
def agent(demo: None, clock: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/agency/login", {"username": "agent", "password": "demo1234"})
    assert response.status_code == 302, response.content
    assert response["Location"] == "/agency/"
    return client


def sunshine() -> Account:
    return Account.objects.get(code="sunshine")


def form(
    client: Client, day: dt.date = DAY, guide: str = "", **lines: int | tuple[int, int]
) -> dict[str, str]:
    """The booking form as the page fills it in for ``day`` (each product's first time slot
    with room chosen), with ``group=(tickets, persons)``, ``adult=3``, …"""
    page = client.get(f"/agency/book?date={day}")
    assert page.status_code == 200
    slots = {r["b"].product.pk: r["slot"] for r in page.context["rows"]}
    data = {
        "action": "quote",
        "date": day.isoformat(),
        "contact_name": "李领队",
        "contact_phone": "13912345678",
        "guide": guide,
    }
    for code, n in lines.items():
        p = product(code)
        if isinstance(n, tuple):
            data[f"qty-{p.pk}"], data[f"persons-{p.pk}"] = str(n[0]), str(n[1])
        else:
            data[f"qty-{p.pk}"] = str(n)
        if slots.get(p.pk):
            data[f"slot-{p.pk}"] = slots[p.pk]
    return data


def quote(client: Client, data: dict[str, str]) -> Any:
    response = client.post("/agency/book", data)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response.context["error"] is None, response.context["error"].as_dict()
    return response


def pay(client: Client, quoted: Any, pay_from: str) -> Any:
    return client.post(
        "/agency/book",
        {
            "action": pay_from,
            "quote": quoted.context["token"],
            "date": quoted.context["day"].isoformat(),
        },
    )


def book(client: Client, pay_from: str = "prepaid", **kwargs: Any) -> Order:
    response = pay(client, quote(client, form(client, **kwargs)), pay_from)
    assert response.status_code == 302, response.content.decode()[:2000]
    code = response["Location"].rsplit("/", 1)[1]
    return Order.objects.get(code=code)


def capacity() -> list[tuple[int, int, int]]:
    return list(Pool.objects.order_by("pk").values_list("pk", "held", "sold"))


# --- Who gets in ----------------------------------------------------------------------------


def test_a_visitor_without_a_session_is_sent_to_the_portal_login(demo):
    response = Client().get("/agency/book")
    assert response.status_code == 302
    assert response["Location"] == "/agency/login?next=/agency/book"


def test_the_venues_staff_cannot_log_in_and_are_told_why(demo):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/agency/login", {"username": "cashier", "password": "demo1234"})
    assert response.status_code == 200
    assert "does not belong to a travel agency or corporate account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # A wrong password is refused as on any login page.
    response = client.post("/agency/login", {"username": "agent", "password": "wrong"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_a_staff_session_from_the_back_office_sees_a_refusal(demo):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username="supervisor"))
    for url in ("/agency/", "/agency/book"):
        response = client.get(url)
        assert response.status_code == 403
        assert 'data-code="account_not_allowed"' in response.content.decode()
        assert "does not book for a travel agency" in response.content.decode()


def test_users_of_an_inactive_account_are_refused(agent):
    account = sunshine()
    account.is_active = False
    account_save(instance=account, actor=None)
    response = agent.get("/agency/")
    assert response.status_code == 403
    assert 'data-code="account_inactive"' in response.content.decode()


# --- Dashboard ------------------------------------------------------------------------------


def test_the_dashboard_shows_the_accounts_figures_contract_and_ledger(agent):
    response = agent.get("/agency/")
    assert response.status_code == 200
    html = response.content.decode()
    account = sunshine()
    assert account.prepaid_balance == Decimal("20000.00")
    assert f'id="prepaid-balance">¥{account.prepaid_balance}<' in html
    assert f'id="credit-limit">¥{account.credit_limit}<' in html
    assert f'id="credit-used">¥{account.credit_used}<' in html
    assert f'id="credit-available">¥{account.credit_limit - account.credit_used}<' in html
    assert 'id="contract-number">SUN-2026-001<' in html
    assert "−10 %" in html  # the group ticket's discount
    ledger = list(LedgerEntry.objects.filter(account=account).order_by("-at", "-id"))
    assert [e.pk for e in response.context["ledger"]] == [e.pk for e in ledger][:10]
    assert ledger[0].kind == "topup" and "DEMO-TOPUP" in html
    assert 'id="no-orders"' in html


# --- Booking and paying ---------------------------------------------------------------------


def test_a_group_is_priced_with_the_contract_discount_before_anything_is_booked(agent):
    data = form(agent, group=(1, 12))  # the page creates the day's pools
    before = capacity()
    response = quote(agent, data)
    q = response.context["quote"]
    base = GROUP_PRICE * 12
    assert q.subtotal == base == Decimal("1152.00")
    assert q.discount == Decimal("115.20")
    assert q.total == Decimal("1036.80")
    assert [a.kind for a in q.lines[0].adjustments] == ["contract"]
    html = response.content.decode()
    assert 'id="quote-total">¥1036.80<' in html
    assert "balance ¥20000.00" in html and "¥50000.00 available" in html
    assert not Order.objects.exists()
    assert capacity() == before


def test_paying_from_prepaid_books_the_group_and_draws_the_exact_total(agent):
    order = book(agent, "prepaid", group=(1, 12), guide="d-5301-000123")
    assert order.status == Order.Status.PAID
    assert order.total == Decimal("1036.80")
    assert order.account_id == sunshine().pk
    assert order.channel.code == "agency"
    assert order.guide == Guide.objects.get(licence_number="D-5301-000123")
    account = sunshine()
    assert account.prepaid_balance == Decimal("20000.00") - order.total
    assert account.credit_used == 0
    entry = LedgerEntry.objects.filter(account=account).latest("id")
    assert (entry.book, entry.kind, entry.amount, entry.order_id) == (
        "prepaid",
        "draw",
        -order.total,
        order.pk,
    )
    assert entry.balance_after == account.prepaid_balance
    assert list(Payment.objects.filter(order=order).values_list("method", "amount")) == [
        ("prepaid", order.total)
    ]
    [ticket] = Ticket.objects.filter(order=order)
    assert ticket.persons == 12 and ticket.price == order.total
    page = agent.get(f"/agency/orders/{order.code}").content.decode()
    assert "Booked and paid" in page
    assert f'href="/agency/orders/{order.code}/tickets.pdf"' in page
    home = agent.get("/agency/").content.decode()
    assert f'data-order="{order.code}"' in home and 'id="prepaid-balance">¥18963.20<' in home


def test_charging_credit_raises_what_is_owed(agent):
    order = book(agent, "credit", group=(1, 20), adult=2)
    account = sunshine()
    assert account.credit_used == order.total > 0
    assert account.prepaid_balance == Decimal("20000.00")
    entry = LedgerEntry.objects.filter(account=account).latest("id")
    assert (entry.book, entry.kind, entry.amount) == ("credit", "charge", order.total)
    assert Payment.objects.get(order=order).method == "account"
    home = agent.get("/agency/").content.decode()
    assert f'id="credit-used">¥{order.total}<' in home


def test_a_refused_payment_books_nothing_and_says_why(agent):
    account = sunshine()
    account.credit_limit = Decimal("500.00")
    account_save(instance=account, actor=None)
    quoted = quote(agent, form(agent, group=(1, 12)))
    assert 'id="pay-credit" disabled' in quoted.content.decode()  # shown as not enough
    before = (capacity(), LedgerEntry.objects.count(), Payment.objects.count())
    response = pay(agent, quoted, "credit")  # sent anyway (another tab spent the credit)
    assert response.status_code == 409
    assert response.context["error"].code == "credit_limit_exceeded"
    assert "beyond its credit limit" in response.content.decode()
    assert not Order.objects.exists()
    assert (capacity(), LedgerEntry.objects.count(), Payment.objects.count()) == before
    assert sunshine().credit_used == 0
    # The same quote can still be paid another way.
    response = pay(agent, quoted, "prepaid")
    assert response.status_code == 302
    assert Order.objects.get().status == Order.Status.PAID


def test_too_little_prepaid_money_is_refused_in_chinese_too(agent):
    agent.cookies["django_language"] = "zh-hans"
    quoted = quote(agent, form(agent, group=(4, 60)))  # 4 × 60 × 96 − 10 % = 20,736 > 20,000
    assert quoted.context["quote"].total == Decimal("20736.00")
    response = pay(agent, quoted, "prepaid")
    assert response.status_code == 409
    assert response.context["error"].code == "prepaid_insufficient"
    assert "预存款余额不足" in response.content.decode()
    assert not Order.objects.exists() and sunshine().prepaid_balance == Decimal("20000.00")


def test_products_outside_the_contract_and_unknown_guides_are_refused(agent):
    shown = {r["b"].product.code for r in agent.get(f"/agency/book?date={DAY}").context["rows"]}
    assert {"group", "adult", "garden"} <= shown
    assert not shown & {"family", "combo-cable", "annual", "card-fee"}
    response = agent.post("/agency/book", form(agent, family=1))
    assert response.context["error"].code == "not_in_contract"
    response = agent.post("/agency/book", form(agent, group=(1, 12), guide="NO-SUCH-GUIDE"))
    assert response.context["error"].code == "guide_not_found"
    response = agent.post("/agency/book", {**form(agent, group=(1, 12)), "contact_phone": " "})
    assert response.context["error"].code == "contact_required"
    # A guide struck off between the quote and the payment: refused, nothing booked.
    quoted = quote(agent, form(agent, group=(1, 12), guide="D-5301-000123"))
    guide = Guide.objects.get(licence_number="D-5301-000123")
    guide.is_active = False
    guide_save(instance=guide, actor=None)
    response = pay(agent, quoted, "prepaid")
    assert response.context["error"].code == "guide_not_found"
    assert not Order.objects.exists()


def test_a_changed_price_or_an_altered_quote_books_nothing(agent):
    quoted = quote(agent, form(agent, group=(1, 12)))
    token = quoted.context["token"]
    forged = agent.post("/agency/book", {"action": "prepaid", "quote": token[:-2] + "xx"})
    assert forged.context["error"].code == "quote_expired"
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(second_account_user())
    stolen = other.post("/agency/book", {"action": "prepaid", "quote": token})
    assert stolen.context["error"].code == "quote_expired"
    from admit.customers.models import ContractProduct

    ContractProduct.objects.filter(product=product("group")).update(discount_percent=20)
    changed = pay(agent, quoted, "prepaid")
    assert changed.status_code == 409 and changed.context["error"].code == "price_changed"
    assert changed.context["quote"].total == Decimal("921.60")  # the new price, to confirm
    assert not Order.objects.exists()


def test_real_name_tickets_take_names_and_id_numbers(agent):
    data = form(agent, senior=2)
    data[f"visitors-{product('senior').pk}"] = f"王芳, {IDS[5]}\n"
    response = agent.post("/agency/book", data)
    assert response.context["error"].code == "visitors_required"
    data[f"visitors-{product('senior').pk}"] = f"王芳, {IDS[5]}\n张伟，{IDS[0]}\n"
    response = pay(agent, quote(agent, data), "prepaid")
    assert response.status_code == 302
    names = sorted(Ticket.objects.values_list("holder_name", flat=True))
    assert names == ["张伟", "王芳"]


# --- Orders: isolation, tickets, refunds ----------------------------------------------------


def second_account_user() -> User:
    other = account_save(instance=Account(code="moon", name="月亮旅行社"), actor=None)
    user = user_create(username="moon-agent", password="demo1234", roles=["agent"], actor=None)
    account_member_save(instance=AccountMember(account=other, user=user), actor=None)
    return user


def test_another_accounts_order_is_not_found(agent):
    order = book(agent, group=(1, 12))
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(second_account_user())
    assert other.get("/agency/").status_code == 200
    assert order.code not in other.get("/agency/").content.decode()
    for url in (f"/agency/orders/{order.code}", f"/agency/orders/{order.code}/tickets.pdf"):
        assert other.get(url).status_code == 404
    before = sunshine().prepaid_balance
    assert other.post(f"/agency/orders/{order.code}/refund", {"ticket": "1"}).status_code == 404
    assert sunshine().prepaid_balance == before
    assert agent.get("/agency/orders/NOSUCHCODE").status_code == 404


def test_the_pdf_holds_every_ticket_of_the_order_one_a_page(agent):
    order = book(agent, group=(1, 12), adult=3)
    response = agent.get(f"/agency/orders/{order.code}/tickets.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="tickets-{order.code}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert Ticket.objects.filter(order=order).count() == 4
    assert pages(response.content) == 4


def test_refunding_unused_tickets_pays_back_to_where_the_money_came_from(agent):
    prepaid = book(agent, "prepaid", adult=3)
    credit = book(agent, "credit", adult=2)
    balance, owed = sunshine().prepaid_balance, sunshine().credit_used
    one = Ticket.objects.filter(order=prepaid).order_by("id").first()
    response = agent.post(f"/agency/orders/{prepaid.code}/refund", {"ticket": [one.pk]})
    assert response.status_code == 302
    back = prepaid.refunds.aggregate(s=Sum("amount"))["s"]
    assert back > 0
    assert sunshine().prepaid_balance == balance + back
    ids = list(Ticket.objects.filter(order=credit).values_list("pk", flat=True))
    agent.post(f"/agency/orders/{credit.code}/refund", {"ticket": ids})
    assert sunshine().credit_used == owed - credit.refunds.aggregate(s=Sum("amount"))["s"]
    kinds = list(
        LedgerEntry.objects.filter(kind="refund").order_by("id").values_list("book", flat=True)
    )
    assert kinds == ["prepaid", "credit"]
    page = agent.get(f"/agency/orders/{prepaid.code}").content.decode()
    assert "Refunded ¥" in page
    # A ticket refunded already is refused with the reason, and nothing moves.
    agent.post(f"/agency/orders/{prepaid.code}/refund", {"ticket": [one.pk]})
    assert sunshine().prepaid_balance == balance + back


def test_an_order_placed_through_the_api_is_paid_or_cancelled_on_its_page(agent):
    from admit.sales.services import LineRequest, order_place

    user = User.objects.get(username="agent")
    form(agent, adult=1)  # the day's pools
    slot = Pool.objects.filter(date=DAY, start__isnull=False).order_by("start").first().pk
    held = capacity()

    def placed() -> Order:
        line = LineRequest(product=product("adult").pk, date=DAY, quantity=2, slot=slot)
        return order_place(channel="agency", lines=[line], actor=user)

    first, second = placed(), placed()
    page = agent.get(f"/agency/orders/{first.code}").content.decode()
    assert 'id="pending-form"' in page and 'id="download-pdf"' not in page
    agent.post(f"/agency/orders/{first.code}/pay", {"pay_from": "credit"})
    first.refresh_from_db()
    assert first.status == Order.Status.PAID and sunshine().credit_used == first.total
    agent.post(f"/agency/orders/{second.code}/cancel")
    second.refresh_from_db()
    assert second.status == Order.Status.CANCELLED
    sold = {pk: s for pk, _h, s in capacity()}
    assert sum(h for _pk, h, _s in capacity()) == sum(h for _pk, h, _s in held)
    assert sold[slot] == dict((pk, s) for pk, _h, s in held)[slot] + 2
    # Paying a cancelled order is refused with the reason; nothing moves.
    response = agent.post(f"/agency/orders/{second.code}/pay", {"pay_from": "prepaid"}, follow=True)
    last = list(response.context["messages"])[-1]
    assert last.level_tag == "error" and "no longer awaiting payment" in str(last)
    assert sunshine().prepaid_balance == Decimal("20000.00")
