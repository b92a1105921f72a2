"""B2B contracts, prepaid and credit ledgers, statements; members, levels and points; guides;
visitor origin. Everything through the services and the API, as users reach it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from admit.accounts.models import User
from admit.catalog.models import Product
from admit.core.errors import DomainError
from admit.core.models import AuditEntry
from admit.core.services import model_save
from admit.customers import origin
from admit.customers.models import (
    Account,
    Contract,
    ContractProduct,
    Guide,
    GuideCredit,
    GuideRule,
    LedgerEntry,
    Member,
    PointsEntry,
    RebatePayment,
    RebateStatement,
    Statement,
)
from admit.customers.selectors import ledger_problems
from admit.customers.services import (
    account_topup,
    guide_register,
    member_register,
    points_redeem,
    rebate_statement_issue,
    rebate_statement_pay,
    rebate_statement_void,
    statement_figures,
    statement_issue,
    statement_pay,
)
from admit.demo.data import DEMO_MEMBER_PHONE, cashier_on_shift
from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.sales import services
from admit.sales.checks import money_problems
from admit.sales.models import Order
from admit.tickets.models import Ticket
from tests.conftest import bearer_client
from tests.sales_helpers import IDS, MON

pytestmark = pytest.mark.django_db

AGENCY = "sunshine"


@pytest.fixture
def world(demo, clock):
    return {
        "agent": User.objects.get(username="agent"),
        "cashier": cashier_on_shift(),
        "admin": User.objects.get(username="admin"),
        "account": Account.objects.get(code=AGENCY),
    }


def main_slot(day: dt.date = MON, start: str = "09:30") -> int:
    group = Product.objects.select_related("site").get(code="group")
    pools_ensure(site=group.site, day=day)
    return Pool.objects.get(zone__code="main", date=day, start=dt.time.fromisoformat(start)).pk


def group_line(persons: int = 12, day: dt.date = MON) -> services.LineRequest:
    return services.LineRequest(
        product=Product.objects.get(code="group").pk,
        date=day,
        quantity=1,
        persons=persons,
        slot=main_slot(day),
    )


def agency_order(world, persons: int = 12, channel: str = "agency", **kw) -> Order:
    return services.order_place(
        channel=channel, lines=[group_line(persons)], actor=world["agent"], **kw
    )


def pay(order: Order, actor, method: str) -> Order:
    return services.order_pay(order=order, method=method, amount=None, actor=actor).order


def account() -> Account:
    return Account.objects.get(code=AGENCY)


# --- Contracts --------------------------------------------------------------------------------


def test_an_agency_books_at_its_contract_discount(world):
    order = agency_order(world)
    (line,) = order.lines.all()
    group = Product.objects.get(code="group")
    assert order.account_id == world["account"].pk
    # Monday: 96 a person, 12 persons, 10 % off by contract.
    assert line.base == Decimal("1152.00") and order.total == Decimal("1036.80")
    assert [a["kind"] for a in line.adjustments] == ["contract"]
    assert group.pk in {p.product_id for p in ContractProduct.objects.all()}


def test_products_and_channels_outside_the_contract_are_refused(world):
    contract = Contract.objects.get(number="SUN-2026-001")
    ContractProduct.objects.filter(contract=contract, product__code="garden").delete()
    garden = Product.objects.get(code="garden")
    before = Order.objects.count()
    with pytest.raises(DomainError) as exc:
        services.order_place(
            channel="agency",
            lines=[services.LineRequest(product=garden.pk, date=MON, quantity=2)],
            actor=world["agent"],
        )
    assert exc.value.code == "not_in_contract"
    with pytest.raises(DomainError) as exc:
        agency_order(world, channel="ota")
    assert exc.value.code in ("not_in_contract", "not_sold_on_channel")
    assert Order.objects.count() == before


def test_an_expired_contract_books_nothing(world, clock):
    Contract.objects.update(valid_until=dt.date(2026, 11, 21))
    with pytest.raises(DomainError) as exc:
        agency_order(world)
    assert exc.value.code == "no_valid_contract"
    assert not Order.objects.exists()


# --- Prepaid and credit -------------------------------------------------------------------------


def test_paying_from_prepaid_and_refunding_moves_the_ledger(world):
    start = account().prepaid_balance
    order = pay(agency_order(world), world["agent"], "prepaid")
    assert order.status == Order.Status.PAID
    assert account().prepaid_balance == start - order.total
    draw = LedgerEntry.objects.get(order=order)
    assert (draw.kind, draw.amount, draw.balance_after) == (
        "draw",
        -order.total,
        start - order.total,
    )
    services.order_refund(order=order, actor=world["agent"])
    assert account().prepaid_balance == start  # the group ticket has no refund fee
    assert ledger_problems() == [] and money_problems() == []


def test_credit_is_charged_up_to_its_limit_and_never_beyond(world):
    Account.objects.filter(code=AGENCY).update(credit_limit=Decimal("2000.00"))
    first = pay(agency_order(world), world["agent"], "account")
    assert account().credit_used == first.total == Decimal("1036.80")
    second = agency_order(world)
    with pytest.raises(DomainError) as exc:
        pay(second, world["agent"], "account")
    assert exc.value.code == "credit_limit_exceeded"
    second.refresh_from_db()
    assert second.status == Order.Status.PENDING and not second.payments.exists()
    assert account().credit_used == Decimal("1036.80")
    assert LedgerEntry.objects.filter(book="credit").count() == 1
    # The venue's cashier may charge the account's credit too, within the same limit.
    at_window = services.order_place(
        channel="window", lines=[group_line(10)], actor=world["cashier"], account=account()
    )
    pay(at_window, world["cashier"], "account")
    assert account().credit_used == first.total + at_window.total
    assert ledger_problems() == []


def test_prepaid_too_low_is_refused_and_changes_nothing(world):
    Account.objects.filter(code=AGENCY).update(prepaid_balance=Decimal("0.00"))
    order = agency_order(world)
    with pytest.raises(DomainError) as exc:
        pay(order, world["agent"], "prepaid")
    assert exc.value.code == "prepaid_insufficient"
    assert not order.payments.exists() and not LedgerEntry.objects.filter(order=order).exists()


def test_an_agency_user_pays_only_from_its_own_books(world):
    order = agency_order(world)
    with pytest.raises(DomainError) as exc:
        services.order_pay(order=order, method="cash", amount=None, actor=world["agent"])
    assert exc.value.code == "payment_method_not_allowed"
    walk_in = services.order_place(channel="window", lines=[group_line(10)], actor=world["cashier"])
    with pytest.raises(DomainError) as exc:
        pay(walk_in, world["cashier"], "prepaid")
    assert exc.value.code == "payment_method_not_allowed"


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), Decimal("0.001"), Decimal("1e9")])
def test_bad_top_ups_are_refused(world, amount):
    before = account().prepaid_balance
    with pytest.raises(DomainError) as exc:
        account_topup(account=account(), amount=amount, actor=world["admin"])
    assert exc.value.code == "invalid_amount"
    assert account().prepaid_balance == before


def test_a_top_up_is_audited(world):
    entry = account_topup(
        account=account(), amount=Decimal("500.00"), reference="BANK-1", actor=world["admin"]
    )
    assert entry.balance_after == Decimal("20500.00")
    audit = AuditEntry.objects.filter(verb="prepaid_topup").latest("id")
    assert audit.actor_label == "admin" and audit.after["amount"] == "500.00"


# --- Statements ---------------------------------------------------------------------------------


def test_a_statement_adds_up_to_the_credit_ledger_of_its_period(world, clock):
    orders = [pay(agency_order(world, persons=p), world["agent"], "account") for p in (10, 12, 20)]
    services.order_refund(order=orders[1], actor=world["agent"])
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    statement = statement_issue(
        account=account(), period_start=day, period_end=day, actor=world["admin"]
    )
    charged = orders[0].total + orders[1].total + orders[2].total
    assert statement.charged == charged
    assert statement.refunded == orders[1].total
    assert statement.due == charged - orders[1].total == account().credit_used
    assert statement.orders == 3
    assert statement_figures(account_id=account().pk, period_start=day, period_end=day)["due"] == (
        statement.due
    )
    with pytest.raises(DomainError) as exc:
        statement_issue(account=account(), period_start=day, period_end=day, actor=world["admin"])
    assert exc.value.code == "statement_overlap"
    part = statement_pay(statement=statement, amount=Decimal("100.00"), actor=world["admin"])
    assert part.kind == "repay" and part.statement_id == statement.pk
    with pytest.raises(DomainError) as exc:
        statement_pay(statement=statement, amount=statement.due, actor=world["admin"])
    assert exc.value.code == "statement_overpaid"
    statement_pay(statement=statement, amount=statement.due - 100, actor=world["admin"])
    statement.refresh_from_db()
    assert statement.status == Statement.Status.SETTLED and statement.outstanding == 0
    assert account().credit_used == 0
    assert ledger_problems() == [] and money_problems() == []


def test_a_statement_of_a_period_not_yet_ended_is_refused(world):
    today = dt.date(2026, 11, 22)
    with pytest.raises(DomainError) as exc:
        statement_issue(
            account=account(), period_start=today, period_end=today, actor=world["admin"]
        )
    assert exc.value.code == "invalid_period"
    with pytest.raises(DomainError):
        statement_issue(
            account=account(),
            period_start=today - dt.timedelta(days=1),
            period_end=today - dt.timedelta(days=3),
            actor=world["admin"],
        )
    assert not Statement.objects.exists()


def test_accounts_api_shows_an_agency_only_its_own_account(world):
    other = model_save(instance=Account(code="other", name="Other Travel"), actor=None)
    agent = bearer_client(world["agent"])
    mine = agent.get(f"/api/v1/accounts/{AGENCY}")
    assert mine.status_code == 200 and mine.json()["prepaid_balance"] == "20000.00"
    assert agent.get(f"/api/v1/accounts/{other.code}").status_code == 404
    topup = agent.post(
        f"/api/v1/accounts/{AGENCY}/topups", {"amount": "100"}, content_type="application/json"
    )
    assert topup.status_code == 404  # an agency cannot top itself up
    finance = bearer_client(User.objects.get(username="finance"))
    ok = finance.post(
        f"/api/v1/accounts/{AGENCY}/topups",
        {"amount": "100.50", "reference": "BANK-7"},
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["account"]["prepaid_balance"] == "20100.50"
    bad = finance.post(
        f"/api/v1/accounts/{AGENCY}/topups", {"amount": "-1"}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_amount"
    ledger = agent.get(f"/api/v1/accounts/{AGENCY}/ledger").json()
    assert [e["kind"] for e in ledger["entries"]] == ["topup", "topup"]
    cashier = bearer_client(world["cashier"])
    assert (
        cashier.post(
            f"/api/v1/accounts/{AGENCY}/topups", {"amount": "1"}, content_type="application/json"
        ).status_code
        == 403
    )


# --- Members ------------------------------------------------------------------------------------


def test_member_registration_checks_phone_and_id_and_derives_origin(world):
    m = member_register(name="王五", phone="+86 139 1234 5678", id_number=IDS[2], actor=None)
    assert m.phone == "13912345678"
    assert (m.province, m.city) == ("440000", "440500")  # 广东省汕头市 from 440524…
    by_phone = member_register(name="赵六", phone="13912345679", actor=None)
    assert (by_phone.province, by_phone.city) == ("320000", "320400")  # 江苏常州 by prefix
    for phone, id_number, code in [
        ("12345", "", "invalid_phone"),
        ("13912345678", "", "member_exists"),
        ("13700000009", IDS[2], "member_exists"),
        ("13700000008", "110105194912310039", "invalid_id_number"),
    ]:
        with pytest.raises(DomainError) as exc:
            member_register(name="X", phone=phone, id_number=id_number, actor=None)
        assert exc.value.code == code
    assert Member.objects.count() == 3  # the demo's member and the two above


def test_members_get_member_prices_points_and_book_earlier(world, clock):
    member = Member.objects.get(phone=DEMO_MEMBER_PHONE)
    adult = Product.objects.get(code="adult")
    order = services.order_place(
        channel="window",
        lines=[services.LineRequest(product=adult.pk, date=MON, quantity=2, slot=main_slot())],
        actor=world["cashier"],
        member=member,
    )
    assert order.member_id == member.pk
    (line,) = order.lines.all()
    assert [a["kind"] for a in line.adjustments] == ["member"]
    assert order.total == line.base * Decimal("0.9")
    pay(order, world["cashier"], "cash")
    member.refresh_from_db()
    assert member.points == int(order.total * 2)  # gold: two points a yuan
    services.order_refund(order=order, actor=world["cashier"])
    member.refresh_from_db()
    assert member.points == 0
    assert list(PointsEntry.objects.values_list("kind", flat=True)) == ["earn", "reverse"]
    # Priority booking: a gold member books 7 days beyond everyone else.
    far = dt.date(2026, 11, 22) + dt.timedelta(days=368)
    line_far = services.LineRequest(product=adult.pk, date=far, quantity=1, slot=main_slot(far))
    with pytest.raises(DomainError) as exc:
        services.order_place(channel="window", lines=[line_far], actor=world["cashier"])
    assert exc.value.code == "too_far_ahead"
    early = services.order_place(
        channel="window", lines=[line_far], actor=world["cashier"], member=member
    )
    assert early.status == Order.Status.PENDING
    assert ledger_problems() == []


def test_points_are_redeemed_never_below_zero(world):
    member = Member.objects.get(phone=DEMO_MEMBER_PHONE)
    from admit.customers.services import _points

    _points(member_id=member.pk, kind="adjust", points=50, order_id=None, reason="", actor=None)
    member.refresh_from_db()
    points_redeem(member=member, points=30, reason="cable car voucher", actor=world["admin"])
    for bad, code in [(21, "points_insufficient"), (0, "invalid_points"), (-5, "invalid_points")]:
        with pytest.raises(DomainError) as exc:
            points_redeem(member=member, points=bad, reason="", actor=world["admin"])
        assert exc.value.code == code
    member.refresh_from_db()
    assert member.points == 20 and ledger_problems() == []


def test_members_api(world):
    api = bearer_client(world["cashier"])
    created = api.post(
        "/api/v1/members",
        {"name": "钱七", "phone": "13800138000", "id_number": IDS[4], "level": "silver"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["level"] == "silver" and body["province"] == "上海市" and body["city"] == "上海市"
    again = api.post(
        "/api/v1/members",
        {"name": "钱七", "phone": "13800138000"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "member_exists"
    assert api.get(f"/api/v1/members/{body['number']}").json()["name"] == "钱七"
    assert api.get("/api/v1/members/MNOPE").status_code == 404
    placed = api.post(
        "/api/v1/orders",
        {
            "channel": "window",
            "member": body["number"],
            "lines": [
                {
                    "product": Product.objects.get(code="adult").pk,
                    "date": "2027-01-11",
                    "quantity": 1,
                    "slot": main_slot(),
                }
            ],
        },
        content_type="application/json",
    )
    assert placed.status_code == 201, placed.content
    assert placed.json()["member"] == body["number"]
    assert placed.json()["lines"][0]["adjustments"][0]["kind"] == "member"


# --- Guides -------------------------------------------------------------------------------------


def test_guides_earn_points_and_rebates_that_add_up(world, clock):
    guide = Guide.objects.get(licence_number="D-5301-000123")
    orders = []
    for persons in (12, 20):
        placed = services.order_place(
            channel="agency", lines=[group_line(persons)], actor=world["agent"], guide=guide
        )
        orders.append(pay(placed, world["agent"], "account"))
    services.order_refund(order=orders[0], actor=world["agent"])
    guide.refresh_from_db()
    assert guide.points == 20  # 12 + 20 − 12, one point a visitor
    assert list(GuideCredit.objects.values_list("visitors", flat=True)) == [12, 20, -12]
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    st = rebate_statement_issue(guide=guide, period_start=day, period_end=day, actor=None)
    assert (st.visitors, st.rebate, st.orders) == (20, Decimal("40.00"), 2)
    with pytest.raises(DomainError) as exc:
        rebate_statement_issue(guide=guide, period_start=day, period_end=day, actor=None)
    assert exc.value.code == "statement_overlap"


def rebate_statement(world, clock, persons: int = 20) -> RebateStatement:
    """The demo guide brings a group today (two yuan of rebate a visitor); tomorrow finance
    issues the day's rebate statement."""
    guide = Guide.objects.get(licence_number="D-5301-000123")
    placed = services.order_place(
        channel="agency", lines=[group_line(persons)], actor=world["agent"], guide=guide
    )
    pay(placed, world["agent"], "account")
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    return rebate_statement_issue(guide=guide, period_start=day, period_end=day, actor=None)


def refused(code: str, fn, **kw) -> None:
    with pytest.raises(DomainError) as exc:
        fn(**kw)
    assert exc.value.code == code, exc.value.as_dict()


def test_a_rebate_statement_is_paid_out_in_parts_never_beyond_what_it_earned(world, clock):
    st = rebate_statement(world, clock)
    finance = User.objects.get(username="finance")
    assert (st.rebate, st.paid, st.outstanding, st.status) == (Decimal("40.00"), 0, 40, "open")
    pay_out = {"statement": st, "method": "transfer", "actor": finance}
    for amount in (Decimal("-1.00"), Decimal("0"), Decimal("0.001"), Decimal("100000000.00")):
        refused("invalid_amount", rebate_statement_pay, amount=amount, **pay_out)
    refused("invalid_amount", rebate_statement_pay, amount="5", **pay_out)  # not a Decimal
    refused(
        "invalid_method", rebate_statement_pay, amount=Decimal("5"), **{**pay_out, "method": "gold"}
    )
    refused("rebate_overpaid", rebate_statement_pay, amount=Decimal("40.01"), **pay_out)
    assert not RebatePayment.objects.exists()

    first = rebate_statement_pay(amount=Decimal("15.00"), reference="BANK-1", key="k-1", **pay_out)
    assert (st.paid, st.outstanding, st.status, st.paid_at) == (15, 25, "open", None)
    # The same payment again (a double submit) finds the first; with another amount, refused.
    again = rebate_statement_pay(amount=Decimal("15.00"), reference="BANK-1", key="k-1", **pay_out)
    assert again.pk == first.pk and st.paid == 15 and RebatePayment.objects.count() == 1
    refused(
        "idempotency_key_reused",
        rebate_statement_pay,
        amount=Decimal("16.00"),
        reference="BANK-1",
        key="k-1",
        **pay_out,
    )
    rebate_statement_pay(amount=Decimal("25.00"), **{**pay_out, "method": "cash"})
    assert (st.paid, st.outstanding, st.status) == (40, 0, "paid") and st.paid_at is not None
    refused("rebate_overpaid", rebate_statement_pay, amount=Decimal("0.01"), **pay_out)
    refused(
        "rebate_statement_has_payments",
        rebate_statement_void,
        statement=st,
        reason="x",
        actor=finance,
    )
    paid = AuditEntry.objects.filter(verb="rebate_statement_paid", object_id=str(st.pk))
    assert [a.after["amount"] for a in paid.order_by("id")] == ["15.00", "25.00"]
    assert {a.actor_label for a in paid} == {"finance"}
    assert ledger_problems() == []


def test_a_void_rebate_statement_pays_nothing_out(world, clock):
    st = rebate_statement(world, clock)
    finance = User.objects.get(username="finance")
    refused("reason_required", rebate_statement_void, statement=st, reason=" ", actor=finance)
    rebate_statement_void(statement=st, reason="issued for the wrong guide", actor=finance)
    assert st.status == "void" and st.outstanding == 0
    refused(
        "rebate_statement_void",
        rebate_statement_pay,
        statement=st,
        amount=Decimal("1.00"),
        method="cash",
        actor=finance,
    )
    rebate_statement_void(statement=st, reason="again", actor=finance)  # changes nothing
    voided = AuditEntry.objects.filter(verb="rebate_statement_voided", object_id=str(st.pk))
    assert voided.count() == 1 and voided.get().after["reason"] == "issued for the wrong guide"
    assert not RebatePayment.objects.exists() and ledger_problems() == []
    # The void one covers nothing: the period is issued again, and then it is covered.
    again = rebate_statement_issue(
        guide=st.guide, period_start=st.period_start, period_end=st.period_end, actor=finance
    )
    assert again.pk != st.pk and (again.status, again.rebate) == ("open", st.rebate)
    refused(
        "statement_overlap",
        rebate_statement_issue,
        guide=st.guide,
        period_start=st.period_start,
        period_end=st.period_end,
        actor=finance,
    )


def test_a_rebate_statement_with_nothing_to_pay_out_is_paid_when_issued(world, clock):
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    guide = Guide.objects.get(licence_number="D-5301-000123")
    st = rebate_statement_issue(guide=guide, period_start=day, period_end=day, actor=None)
    assert (st.rebate, st.status, st.outstanding) == (0, "paid", 0) and st.paid_at is not None
    refused(
        "rebate_overpaid",
        rebate_statement_pay,
        statement=st,
        amount=Decimal("1.00"),
        method="cash",
        actor=None,
    )
    assert ledger_problems() == []


def test_rebate_statements_api(world, clock):
    st = rebate_statement(world, clock)
    finance = bearer_client(User.objects.get(username="finance"))
    listed = finance.get("/api/v1/guides/d-5301-000123/rebate-statements")
    assert listed.status_code == 200, listed.content
    assert listed.json() == [
        {
            "id": st.pk,
            "guide": "D-5301-000123",
            "period_start": "2026-11-22",
            "period_end": "2026-11-22",
            "orders": 1,
            "visitors": 20,
            "rebate": "40.00",
            "paid": "0.00",
            "outstanding": "40.00",
            "status": "open",
            "paid_at": None,
            "currency": "CNY",
        }
    ]
    url = f"/api/v1/rebate-statements/{st.pk}/payments"

    def post(body, key=None, client=finance, to=url):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return client.post(to, body, content_type="application/json", **headers)

    for amount, code in [
        ("-5.00", "invalid_amount"),
        ("0", "invalid_amount"),
        ("100000000.00", "invalid_amount"),
        ("1e20", "invalid"),
        ("1.234", "invalid"),
        ("40.01", "rebate_overpaid"),
    ]:
        answer = post({"amount": amount, "method": "transfer"})
        assert answer.status_code == 400, (amount, answer.content)
        assert answer.json()["error"]["code"] == code, (amount, answer.content)
    bad_method = post({"amount": "1.00", "method": "gold"})
    assert bad_method.status_code == 400
    assert bad_method.json()["error"]["code"] == "invalid_method"
    # A double submit with the same key pays once and answers twice alike.
    body = {"amount": "30.00", "method": "wechat", "reference": "WX-1"}
    first, second = post(body, key="pay-1"), post(body, key="pay-1")
    assert first.status_code == second.status_code == 201, first.content
    assert first.json() == second.json()
    assert first.json()["statement"]["paid"] == "30.00"
    assert first.json()["payment"]["method"] == "wechat"
    other = post({**body, "amount": "10.00"}, key="pay-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    too_much = post({"amount": "10.01", "method": "cash"}, key="pay-2")
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "rebate_overpaid"
    rest = post({"amount": "10.00", "method": "cash"}, key="pay-3")
    assert rest.status_code == 201 and rest.json()["statement"]["status"] == "paid"
    assert RebatePayment.objects.count() == 2
    # Unknown statements, and any statement asked by an agency's own user, are not found.
    missing = post(body, to="/api/v1/rebate-statements/999999/payments")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "rebate_statement_not_found",
        "message": "No such rebate statement.",
        "details": {"statement": 999999},
    }
    agent = world["agent"]
    from django.contrib.auth.models import Permission

    agent.user_permissions.add(Permission.objects.get(codename="change_rebatestatement"))
    agency = bearer_client(agent)
    for number in (st.pk, 999999):
        answer = post(body, client=agency, to=f"/api/v1/rebate-statements/{number}/payments")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "rebate_statement_not_found"
        assert answer.json()["error"]["details"] == {"statement": number}
    cashier = bearer_client(world["cashier"])
    assert post(body, client=cashier).status_code == 403
    assert cashier.get("/api/v1/guides/D-5301-000123/rebate-statements").status_code == 403
    assert RebatePayment.objects.count() == 2 and ledger_problems() == []


def test_guide_registration_refuses_bad_and_duplicate_licences(world):
    for licence, code in [("D-5301-000123", "guide_exists"), ("x", "invalid_licence")]:
        with pytest.raises(DomainError) as exc:
            guide_register(name="A", licence_number=licence, actor=None)
        assert exc.value.code == code
    made = guide_register(name="司机老李", licence_number="b-123456", kind="driver", actor=None)
    assert made.licence_number == "B-123456" and made.kind == "driver"


# --- Origin -------------------------------------------------------------------------------------


def test_origin_from_id_numbers_and_phones():
    assert origin.from_id_number(IDS[0]) == origin.Origin("110000", "110000", "id")
    assert origin.from_id_number("530102199003070024").city_name == "昆明市"
    assert origin.from_id_number("530102199003070025") is None  # bad checksum
    assert origin.from_phone("15012341234").city_name == "昭通市"
    assert origin.from_phone("020-88889999").city_name == "广州市"
    assert origin.from_phone("+1 650 253 0000") is None
    assert origin.from_phone("nonsense") is None
    both = origin.origin_of(id_numbers=["bad", IDS[2]], phone="15012341234")
    assert both.source == "id" and both.province_name == "广东省"
    assert origin.origin_of(id_numbers=[], phone="") == origin.Origin()
    assert len(origin.regions()) > 360


def test_orders_record_where_their_visitors_come_from(world):
    show = Product.objects.get(code="show")
    from admit.inventory.models import Pool

    slot = Pool.objects.filter(zone__code="theatre", date=MON).exclude(start=None).first()
    if slot is None:
        from admit.inventory.services import pools_ensure

        pools_ensure(site=show.site, day=MON)
        slot = Pool.objects.filter(zone__code="theatre", date=MON).exclude(start=None).first()
    named = services.order_place(
        channel="window",
        lines=[
            services.LineRequest(
                product=show.pk,
                date=MON,
                quantity=1,
                slot=slot.pk,
                visitors=(services.VisitorIn("李雷", "resident_id", IDS[5], ""),),
            )
        ],
        actor=world["cashier"],
    )
    assert (named.origin_province, named.origin_city) == ("320000", "320100")  # 南京
    by_phone = agency_order(world, contact_phone="15012341234")
    assert (by_phone.origin_province, by_phone.origin_city) == ("530000", "530600")
    unknown = agency_order(world)
    assert (unknown.origin_province, unknown.origin_city) == ("", "")
    api = bearer_client(world["cashier"])
    found = api.get("/api/v1/origin", {"phone": "13912345678"}).json()
    assert found == {
        "province": "320000",
        "province_name": "江苏省",
        "city": "320400",
        "city_name": "常州市",
        "source": "phone",
    }


def test_time_zone_edges_of_statement_periods(world):
    """A charge at 23:30 in the park belongs to that local day, not to the UTC day."""
    late = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    with time_machine.travel(late, tick=False):
        pay(agency_order(world), world["agent"], "account")
    nov22 = statement_figures(
        account_id=account().pk,
        period_start=dt.date(2026, 11, 22),
        period_end=dt.date(2026, 11, 22),
    )
    nov23 = statement_figures(
        account_id=account().pk,
        period_start=dt.date(2026, 11, 23),
        period_end=dt.date(2026, 11, 23),
    )
    assert nov22["charged"] == Decimal("1036.80") and nov23["charged"] == 0


def test_a_guide_enters_free_with_a_group_large_enough(world):
    guide = Guide.objects.get(licence_number="D-5301-000123")
    order = services.order_place(
        channel="agency",
        lines=[group_line(12)],
        actor=world["agent"],
        guide=guide,
        guide_entry=True,
    )
    group_ln, own = order.lines.order_by("id")
    assert own.product.code == "adult" and own.slot_id == group_ln.slot_id
    assert own.total == 0 and [a["kind"] for a in own.adjustments] == ["guide"]
    assert order.total == group_ln.total
    pay(order, world["agent"], "account")
    assert Ticket.objects.filter(order=order).count() == 2
    credit = GuideCredit.objects.get(order=order)
    assert credit.visitors == 12  # the guide is not their own visitor
    adult = Product.objects.get(code="adult")
    small = services.LineRequest(product=adult.pk, date=MON, quantity=5, slot=main_slot())
    before = Order.objects.count()
    with pytest.raises(DomainError) as exc:
        services.order_place(
            channel="agency", lines=[small], actor=world["agent"], guide=guide, guide_entry=True
        )
    assert exc.value.code == "guide_group_too_small"
    GuideRule.objects.update(product=None)
    with pytest.raises(DomainError) as exc:
        services.order_place(
            channel="agency",
            lines=[group_line(12)],
            actor=world["agent"],
            guide=guide,
            guide_entry=True,
        )
    assert exc.value.code == "guide_entry_not_offered"
    assert Order.objects.count() == before


def test_a_refund_after_the_credit_was_settled_becomes_prepaid_money(world, clock):
    order = pay(agency_order(world), world["agent"], "account")
    clock.shift(dt.timedelta(days=1))
    day = dt.date(2026, 11, 22)
    statement = statement_issue(
        account=account(), period_start=day, period_end=day, actor=world["admin"]
    )
    statement_pay(statement=statement, amount=statement.due, actor=world["admin"])
    assert account().credit_used == 0
    prepaid = account().prepaid_balance
    services.order_refund(order=order, actor=world["agent"])
    assert account().credit_used == 0
    assert account().prepaid_balance == prepaid + order.total
    entry = LedgerEntry.objects.filter(order=order, kind="refund").get()
    assert (entry.book, entry.reference) == ("prepaid", "credit already settled")
    assert ledger_problems() == [] and money_problems() == []


def test_top_ups_and_member_registration_are_idempotent(world):
    finance = bearer_client(User.objects.get(username="finance"))
    for _ in range(2):
        r = finance.post(
            f"/api/v1/accounts/{AGENCY}/topups",
            {"amount": "300.00", "reference": "BANK-9"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="topup-9",
        )
        assert r.status_code == 201, r.content
    assert account().prepaid_balance == Decimal("20300.00")
    other = finance.post(
        f"/api/v1/accounts/{AGENCY}/topups",
        {"amount": "301.00"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="topup-9",
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    cashier = bearer_client(world["cashier"])
    numbers = {
        cashier.post(
            "/api/v1/members",
            {"name": "孙八", "phone": "13600000000"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="m-1",
        ).json()["number"]
        for _ in range(2)
    }
    assert len(numbers) == 1 and Member.objects.filter(phone="13600000000").count() == 1
