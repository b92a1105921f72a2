"""The customers' back office: B2B accounts with top-ups and statements, the ledger, members
and points, passes and their actions, guides and rebate statements — every write through the
services, audited, refused with a translated message that changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from admit.accounts.models import User
from admit.catalog.models import Product
from admit.core.models import AuditEntry
from admit.customers.models import (
    Account,
    Contract,
    Guide,
    LedgerEntry,
    Member,
    Pass,
    PointsEntry,
    RebatePayment,
    RebateStatement,
    Statement,
)
from admit.customers.selectors import ledger_problems
from admit.customers.services import (
    points_redeem,
    rebate_statement_issue,
    rebate_statement_pay,
    statement_issue,
)
from admit.demo.data import cashier_on_shift, demo_sample_pass
from admit.sales.models import Order, Payment
from admit.tickets.models import TicketMedium
from tests.conftest import bearer_client
from tests.sales_helpers import line, place

pytestmark = pytest.mark.django_db

ADMIN = "/admin/customers"
DAY = dt.date(2026, 11, 22)  # the demo day (conftest.DEMO_DAY)


def staff(username: str, lang: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(User.objects.get(username=username))
    return client


def sunshine() -> Account:
    return Account.objects.get(code="sunshine")


def agency_charge(adults: int = 2, **extra: object) -> Order:
    """The demo agency books adults and charges them to its credit (挂账), today."""
    api = bearer_client(User.objects.get(username="agent"))
    order = place(api, [line(api, "adult", adults)], channel="agency", **extra)
    response = api.post(
        f"/api/v1/orders/{order['code']}/payments",
        {"method": "account"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return Order.objects.get(code=order["code"])


def act(model: str, action: str, pks: list[int], **data: object) -> dict[str, object]:
    """The POST of a list action on ``pks``; with ``apply`` it submits the intermediate form."""
    return {"action": action, "_selected_action": pks, **data}


@pytest.fixture
def world(demo, clock):
    """The demo with an annual pass sold, a day of agency bookings on credit, and the clock
    moved to the next day so that the booking day has ended."""
    pass_ = demo_sample_pass()
    order = agency_charge()
    clock.shift(dt.timedelta(days=1))
    return {"pass": pass_, "order": order}


# --- Every page -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_customers_page_renders_for_the_supervisor(world, lang):
    supervisor = User.objects.get(username="supervisor")
    statement = statement_issue(
        account=sunshine(), period_start=DAY, period_end=DAY, actor=supervisor
    )
    guide = Guide.objects.get(licence_number="D-5301-000123")
    rebate = rebate_statement_issue(guide=guide, period_start=DAY, period_end=DAY, actor=supervisor)
    RebateStatement.objects.filter(pk=rebate.pk).update(rebate=Decimal("24.00"), status="open")
    rebate_statement_pay(
        statement=rebate, amount=Decimal("4.00"), method="cash", reference="R-1", actor=supervisor
    )
    points_redeem(member=world["pass"].member, points=1, reason="a cap", actor=supervisor)
    client = staff("supervisor", lang)
    models = [
        "account",
        "contract",
        "ledgerentry",
        "statement",
        "memberlevel",
        "member",
        "pointsentry",
        "pass",
        "guide",
        "guiderule",
        "guidecredit",
        "rebatestatement",
        "rebatepayment",
    ]
    for name in models:
        model = apps.get_model("customers", name)
        listing = client.get(f"{ADMIN}/{name}/")
        assert listing.status_code == 200, (name, listing.content.decode()[:500])
        for obj in model.objects.all()[:3]:
            page = client.get(f"{ADMIN}/{name}/{obj.pk}/change/")
            assert page.status_code == 200, (name, page.content.decode()[:500])
    for name in ("account", "contract", "memberlevel", "member", "pass", "guide", "guiderule"):
        assert client.get(f"{ADMIN}/{name}/add/").status_code == 200, name
    for query in (
        {"book__exact": "credit"},
        {"kind__exact": "topup"},
        {"at__gte": "2026-11-22 00:00:00+08:00", "at__lt": "2026-11-23 00:00:00+08:00"},
    ):
        listing = client.get(f"{ADMIN}/ledgerentry/", query)
        assert listing.status_code == 200, query
    # The statement's page: figures, the orders behind it, and its printable view.
    page = client.get(f"{ADMIN}/statement/{statement.pk}/change/").content.decode()
    assert world["order"].code in page and str(statement.due) in page
    printed = client.get(f"{ADMIN}/statement/{statement.pk}/print/")
    assert printed.status_code == 200
    assert world["order"].code in printed.content.decode()
    assert statement.number in printed.content.decode()


def test_the_account_page_shows_money_and_the_latest_ledger_with_a_link_to_all(world):
    account = sunshine()
    page = staff("supervisor").get(f"{ADMIN}/account/{account.pk}/change/").content.decode()
    assert "20000.00" in page  # the demo's prepaid top-up
    assert str(account.credit_used) in page and account.credit_used > 0
    assert world["order"].code in page  # the charge, latest first
    assert "2026-11-22 09:0" in page  # the charge's time, in the venue's time zone
    assert f"ledgerentry/?account__id__exact={account.pk}" in page
    listing = staff("supervisor").get(f"{ADMIN}/ledgerentry/?account__id__exact={account.pk}")
    assert listing.status_code == 200 and world["order"].code in listing.content.decode()
    # The list shows limit, used, available and prepaid.
    listing = staff("supervisor").get(f"{ADMIN}/account/").content.decode()
    for figure in ("50000.00", str(account.credit_used), str(account.credit_available)):
        assert figure in listing


# --- Top-ups and statements -------------------------------------------------------------------


def test_finance_tops_up_an_account_and_it_is_in_the_ledger_and_the_audit_trail(world):
    account = sunshine()
    finance = staff("finance")
    url = f"{ADMIN}/account/"
    form = finance.post(url, act("account", "record_topup", [account.pk]))
    assert form.status_code == 200 and 'name="amount"' in form.content.decode()
    response = finance.post(
        url,
        act("account", "record_topup", [account.pk], apply="1", amount="500.50", reference="B-1"),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.prepaid_balance == Decimal("20500.50")
    entry = LedgerEntry.objects.filter(account=account).latest("at", "id")
    assert (entry.kind, entry.book, entry.amount, entry.balance_after, entry.reference) == (
        "topup",
        "prepaid",
        Decimal("500.50"),
        Decimal("20500.50"),
        "B-1",
    )
    assert entry.actor_label == "finance"
    audit = AuditEntry.objects.get(verb="prepaid_topup", actor__username="finance")
    assert audit.object_id == str(account.pk) and audit.after["amount"] == "500.50"


MIN = ("Ensure this value is greater than or equal to %(limit_value)s.", {"limit_value": "0.01"})


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", MIN),
        ("0", MIN),
        ("abc", ("Enter a number.", {})),
        ("NaN", ("Enter a number.", {})),
        ("1e20", ("Ensure that there are no more than %(max)s digits in total.", {"max": 10})),
        ("1.234", ("Ensure that there are no more than %(max)s decimal places.", {"max": 2})),
    ],
)
def test_a_bad_top_up_is_refused_in_chinese_and_changes_nothing(world, amount, message):
    account = sunshine()
    before = (account.prepaid_balance, LedgerEntry.objects.count(), AuditEntry.objects.count())
    msgid, params = message
    singular = msgid.replace("digits", "digit").replace("places", "place")

    def text() -> str:  # Django's own messages, some of them plural
        if "%(max)s" in msgid:
            return translation.ngettext(singular, msgid, 2) % params
        return translation.gettext(msgid) % params

    with translation.override("zh-hans"):
        chinese = text()
    with translation.override("en"):
        english = text()
    assert chinese != english and chinese
    response = staff("finance", "zh-hans").post(
        f"{ADMIN}/account/",
        act("account", "record_topup", [account.pk], apply="1", amount=amount, reference="x"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert chinese in page and english not in page
    account.refresh_from_db()
    after = (account.prepaid_balance, LedgerEntry.objects.count(), AuditEntry.objects.count())
    assert after == before


def test_finance_issues_a_statement_and_records_payments_but_never_above_what_is_due(world):
    account = sunshine()
    owed = account.credit_used
    finance = staff("finance")
    url = f"{ADMIN}/account/"
    # A period that has not ended is refused on the form; nothing is issued.
    page = finance.post(
        url,
        act(
            "account",
            "issue_statements",
            [account.pk],
            apply="1",
            period_start=str(DAY),
            period_end=str(DAY + dt.timedelta(days=1)),
        ),
    ).content.decode()
    assert "The period must end on or after its start, and not in the future." in page
    assert not Statement.objects.exists()
    response = finance.post(
        url,
        act(
            "account",
            "issue_statements",
            [account.pk],
            apply="1",
            period_start=str(DAY),
            period_end=str(DAY),
        ),
    )
    assert response.status_code == 302
    statement = Statement.objects.get(account=account)
    assert (statement.orders, statement.due, statement.issued_by) == (1, owed, "finance")
    assert statement.due == world["order"].total
    assert AuditEntry.objects.filter(verb="statement_issued", actor__username="finance").exists()
    # The same period again overlaps.
    page = finance.post(
        url,
        act(
            "account",
            "issue_statements",
            [account.pk],
            apply="1",
            period_start=str(DAY),
            period_end=str(DAY),
        ),
    ).content.decode()
    assert "A statement already covers part of this period." in page
    assert Statement.objects.count() == 1

    pay_url = f"{ADMIN}/statement/"
    too_much = str(statement.due + Decimal("0.01"))
    page = finance.post(
        pay_url,
        act("statement", "record_payment", [statement.pk], apply="1", amount=too_much),
    ).content.decode()
    assert "The payment is more than the statement still has due." in page
    statement.refresh_from_db()
    assert statement.paid == 0 and sunshine().credit_used == owed
    assert not LedgerEntry.objects.filter(kind="repay").exists()
    # Part, then the rest: settled, and the account owes that much less.
    part = Decimal("10.00")
    response = finance.post(
        pay_url,
        act("statement", "record_payment", [statement.pk], apply="1", amount=str(part)),
    )
    assert response.status_code == 302
    response = finance.post(
        pay_url,
        act(
            "statement",
            "record_payment",
            [statement.pk],
            apply="1",
            amount=str(statement.due - part),
            reference="BANK-9",
        ),
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert (statement.paid, statement.status) == (statement.due, "settled")
    assert sunshine().credit_used == owed - statement.due
    assert LedgerEntry.objects.filter(statement=statement, kind="repay").count() == 2
    page = finance.get(f"{pay_url}{statement.pk}/change/").content.decode()
    assert "BANK-9" in page and world["order"].code in page


def test_finance_cannot_edit_contracts_and_cashiers_cannot_top_up(world):
    contract = Contract.objects.get(number="SUN-2026-001")
    finance = staff("finance")
    page = finance.get(f"{ADMIN}/contract/{contract.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = finance.post(
        f"{ADMIN}/contract/{contract.pk}/change/",
        {"number": "HACKED", "account": sunshine().pk},
    )
    assert response.status_code == 403
    assert Contract.objects.filter(number="SUN-2026-001").exists()
    # Marketing manages contracts.
    page = staff("marketing").get(f"{ADMIN}/contract/{contract.pk}/change/").content.decode()
    assert 'name="_save"' in page
    # A cashier looks accounts up but has no top-up right: the action is not offered and
    # posting it does nothing.
    account = sunshine()
    cashier = staff("cashier")
    listing = cashier.get(f"{ADMIN}/account/")
    assert listing.status_code == 200 and "record_topup" not in listing.content.decode()
    cashier.post(
        f"{ADMIN}/account/",
        act("account", "record_topup", [account.pk], apply="1", amount="100", reference=""),
    )
    account.refresh_from_db()
    assert account.prepaid_balance == Decimal("20000.00")
    # Marketing sees accounts but is offered no top-up.
    listing = staff("marketing").get(f"{ADMIN}/account/").content.decode()
    assert "record_topup" not in listing and "issue_statements" not in listing
    assert "record_topup" in staff("finance").get(f"{ADMIN}/account/").content.decode()


# --- Members ------------------------------------------------------------------------------------


def test_members_are_registered_and_edited_through_the_services(world):
    client = staff("supervisor")
    add = f"{ADMIN}/member/add/"
    form = {"name": "李四", "phone": "12345", "id_number": "", "level": "", "photo": ""}
    page = client.post(add, form).content.decode()
    assert "This is not a valid phone number." in page and 'value="李四"' in page
    page = client.post(add, {**form, "phone": "13987654321"}).content.decode()
    assert "Member with this Phone already exists." in page
    assert Member.objects.count() == 1
    response = client.post(add, {**form, "phone": "+86 139 1234 5678"})
    assert response.status_code == 302, response.content.decode()[:3000]
    member = Member.objects.get(name="李四")
    assert member.phone != "+86 139 1234 5678" and member.number.startswith("M")
    assert AuditEntry.objects.filter(verb="member_registered", object_id=str(member.pk)).exists()
    # Editing checks the ID number the same way.
    url = f"{ADMIN}/member/{member.pk}/change/"
    edit = {**form, "phone": member.phone, "is_active": "on"}
    page = client.post(url, {**edit, "id_number": "123456789012345678"}).content.decode()
    assert "This is not a valid PRC resident ID number." in page
    member.refresh_from_db()
    assert member.id_number is None
    response = client.post(url, {**edit, "name": "李四光"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "李四光"
    assert AuditEntry.objects.filter(object_id=str(member.pk), action="update").exists()
    # A cashier registers members but does not edit them.
    cashier = staff("cashier")
    response = cashier.post(add, {**form, "name": "王五", "phone": "13911112222"})
    assert response.status_code == 302 and Member.objects.filter(name="王五").exists()
    assert cashier.post(url, {**edit, "name": "X"}).status_code == 403


def test_the_member_page_lists_passes_and_orders_and_points_are_redeemed(world):
    pass_ = world["pass"]
    member = Member.objects.get(pk=pass_.member_id)
    client = staff("supervisor")
    page = client.get(f"{ADMIN}/member/{member.pk}/change/").content.decode()
    order = Order.objects.filter(member=member).get()
    assert pass_.number in page and order.code in page
    assert member.points > 0  # earned by the pass
    held = member.points
    url = f"{ADMIN}/member/"
    page = client.post(
        url, act("member", "redeem_points", [member.pk], apply="1", points=held + 1, reason="gift")
    ).content.decode()
    assert "The member does not have that many points." in page
    member.refresh_from_db()
    assert member.points == held
    response = client.post(
        url, act("member", "redeem_points", [member.pk], apply="1", points=5, reason="umbrella")
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.points == held - 5
    entry = PointsEntry.objects.filter(member=member, kind="redeem").get()
    assert (entry.points, entry.reason, entry.actor_label) == (-5, "umbrella", "supervisor")


# --- Passes -------------------------------------------------------------------------------------


def test_passes_are_frozen_unfrozen_and_given_a_new_card_through_the_actions(world):
    pass_ = world["pass"]
    client = staff("supervisor")
    url = f"{ADMIN}/pass/"
    listing = client.get(url).content.decode()
    assert pass_.number in listing and "A1B2C3D4" not in listing  # the card is masked
    page = client.post(url, act("pass", "freeze", [pass_.pk])).content.decode()
    assert 'name="reason"' in page
    response = client.post(url, act("pass", "freeze", [pass_.pk], apply="1", reason="misuse"))
    assert response.status_code == 302
    pass_.refresh_from_db()
    assert pass_.status == "frozen"
    assert AuditEntry.objects.filter(verb="pass_frozen", object_id=str(pass_.pk)).exists()
    # Freezing again is refused with the service's reason.
    response = client.post(
        url, act("pass", "freeze", [pass_.pk], apply="1", reason=""), follow=True
    )
    assert "This pass is frozen or cancelled." in response.content.decode()
    response = client.post(
        url, act("pass", "unfreeze", [pass_.pk], _next="https://evil.example/admin/")
    )
    assert response.status_code == 302 and response.url == url  # never off the site
    assert "1 pass unfrozen." in client.get(url).content.decode()
    pass_.refresh_from_db()
    assert pass_.status == "active"
    response = client.post(url, act("pass", "unfreeze", [pass_.pk]), follow=True)
    assert "This pass is not frozen." in response.content.decode()

    # A lost card: the fee must be a fee product; then the new card replaces the old one.
    fee = Product.objects.get(code="card-fee")
    annual = Product.objects.get(code="annual")
    replace = act("pass", "replace_card", [pass_.pk], apply="1", card_uid="C0FFEE42")
    page = client.post(url, {**replace, "fee_product": annual.pk, "method": "cash"})
    assert "Select a valid choice" in page.content.decode()
    pass_.refresh_from_db()
    assert pass_.card_uid == "A1B2C3D4"
    response = client.post(url, {**replace, "fee_product": fee.pk, "method": "cash"})
    assert response.status_code == 302
    pass_.refresh_from_db()
    assert (pass_.card_uid, pass_.replacements) == ("C0FFEE42", 1)
    live = TicketMedium.objects.filter(ticket__holder_pass=pass_, active_value__isnull=False)
    assert set(live.values_list("value", flat=True)) == {"C0FFEE42"}
    fee_order = Order.objects.get(member=pass_.member, lines__product=fee)
    assert fee_order.status == "paid"
    # Money a supervisor takes in the back office belongs to no cashier's shift.
    assert Payment.objects.get(order=fee_order).shift_id is None
    assert AuditEntry.objects.filter(verb="pass_card_replaced", actor__username="supervisor")


def test_a_supervisor_renews_a_pass_and_a_cashier_sells_one_only_on_a_shift(world):
    pass_ = world["pass"]
    until = pass_.valid_until
    client = staff("supervisor")
    page_url = f"{ADMIN}/pass/{pass_.pk}/change/"
    page = client.get(page_url).content.decode()
    assert 'name="_next"' in page and 'value="renew"' in page  # the page's renew button
    renew = act("pass", "renew", [pass_.pk], apply="1", _next=page_url)
    form = client.post(f"{ADMIN}/pass/", {**renew, "method": "gold bars"}).content.decode()
    assert "Select a valid choice" in form and f'value="{page_url}"' in form
    response = client.post(f"{ADMIN}/pass/", {**renew, "method": "card"})
    assert response.status_code == 302 and response.url == page_url  # back where it began
    pass_.refresh_from_db()
    assert pass_.valid_until > until + dt.timedelta(days=360)
    renewal = Order.objects.filter(member=pass_.member).latest("placed_at")
    assert Payment.objects.get(order=renewal).method == "card"

    # A cashier without an open shift is told to open one; nothing is sold.
    member = pass_.member
    annual = Product.objects.get(code="annual")
    sale = {"member": member.pk, "product": annual.pk, "method": "cash", "card_uid": ""}
    orders = Order.objects.count()
    page = staff("cashier").post(f"{ADMIN}/pass/add/", sale).content.decode()
    assert "Open a shift on a terminal before selling" in page
    assert Order.objects.count() == orders and Pass.objects.count() == 1
    # On a shift the sale goes through and its money is the shift's.
    cashier = cashier_on_shift()
    response = staff("cashier").post(f"{ADMIN}/pass/add/", {**sale, "card_uid": "BEEF0001"})
    assert response.status_code == 302, response.content.decode()[:3000]
    sold = Pass.objects.exclude(pk=pass_.pk).get()
    assert sold.card_uid == "BEEF0001"
    order = Order.objects.filter(member=member).latest("placed_at")
    assert Payment.objects.get(order=order).shift.cashier == cashier
    # The cashier cannot freeze passes: the action is not theirs.
    staff("cashier").post(f"{ADMIN}/pass/", act("pass", "freeze", [sold.pk], apply="1"))
    sold.refresh_from_db()
    assert sold.status == "active"


# --- Guides -------------------------------------------------------------------------------------


def test_guides_are_registered_and_rebate_statements_issued(world):
    client = staff("marketing")
    add = f"{ADMIN}/guide/add/"
    form = {"kind": "driver", "licence_number": "x", "name": "赵司机", "phone": "", "account": ""}
    page = client.post(add, form).content.decode()
    assert 'value="赵司机"' in page and not Guide.objects.filter(name="赵司机").exists()
    page = client.post(add, {**form, "licence_number": "d-5301-000123"}).content.decode()
    assert "Guide or driver with this Licence number already exists." in page
    response = client.post(add, {**form, "licence_number": "b-5301-777"})
    assert response.status_code == 302
    driver = Guide.objects.get(name="赵司机")
    assert driver.licence_number == "B-5301-777"
    assert AuditEntry.objects.filter(verb="guide_registered", object_id=str(driver.pk)).exists()

    guide = Guide.objects.get(licence_number="D-5301-000123")
    finance = staff("finance")
    issue = act(
        "guide",
        "issue_rebate_statements",
        [guide.pk, driver.pk],
        apply="1",
        period_start=str(DAY),
        period_end=str(DAY),
    )
    response = finance.post(f"{ADMIN}/guide/", issue)
    assert response.status_code == 302
    assert RebateStatement.objects.count() == 2
    # Again: refused for the overlap, all or nothing.
    page = finance.post(f"{ADMIN}/guide/", issue).content.decode()
    assert "A statement already covers part of this period." in page
    assert RebateStatement.objects.count() == 2
    # Marketing registers guides but does not issue rebates.
    response = client.post(
        f"{ADMIN}/guide/", {**issue, "period_start": "2026-11-01", "period_end": "2026-11-01"}
    )
    assert RebateStatement.objects.count() == 2


@pytest.fixture
def guided(demo, clock):
    """The demo guide brought twelve adults of the agency today (two yuan of rebate each);
    the next day the statement of the day is issued."""
    agency_charge(12, guide="D-5301-000123")
    clock.shift(dt.timedelta(days=1))
    guide = Guide.objects.get(licence_number="D-5301-000123")
    return rebate_statement_issue(guide=guide, period_start=DAY, period_end=DAY, actor=None)


def test_finance_pays_out_a_rebate_once_per_page_and_never_beyond_it(guided):
    st = guided
    assert st.rebate == Decimal("24.00")
    finance = staff("finance")
    url = f"{ADMIN}/rebatestatement/"
    # The action's page offers what is outstanding and carries the payment's key.
    page = finance.post(url, act("rebatestatement", "record_rebate_payment", [st.pk]))
    html = page.content.decode()
    assert 'value="24.00"' in html and 'name="key"' in html
    key = page.context["form"]["key"].value()
    form = {"method": "transfer", "reference": "BANK-5", "key": key}
    pay = act("rebatestatement", "record_rebate_payment", [st.pk], apply="1", **form)
    html = finance.post(url, {**pay, "amount": "24.01"}).content.decode()
    assert "The payment is more than the rebate statement still has to pay out." in html
    html = finance.post(url, {**pay, "amount": "-3"}).content.decode()
    assert "Ensure this value is greater than or equal to 0.01." in html
    assert not RebatePayment.objects.exists()
    # Submitted twice (a double click, the back button): paid once.
    for _ in range(2):
        assert finance.post(url, {**pay, "amount": "20.00"}).status_code == 302
    (payment,) = RebatePayment.objects.all()
    assert (payment.amount, payment.method, payment.actor_label) == (20, "transfer", "finance")
    st.refresh_from_db()
    assert (st.paid, st.status) == (Decimal("20.00"), "open")
    assert AuditEntry.objects.filter(verb="rebate_statement_paid").count() == 1
    # A void needs nothing paid; the rest is paid on a new page, and the statement is paid.
    void = act("rebatestatement", "void_rebate_statements", [st.pk], apply="1", reason="wrong")
    html = finance.post(url, void).content.decode()
    assert "it cannot be voided" in html
    rest = {**pay, "amount": "4.00", "key": "another-page"}
    assert finance.post(url, rest).status_code == 302
    st.refresh_from_db()
    assert (st.paid, st.status) == (st.rebate, "paid") and st.paid_at is not None
    page = finance.get(f"{url}{st.pk}/change/").content.decode()
    assert "BANK-5" in page and "bank transfer" in page
    assert ledger_problems() == []


def test_a_voided_rebate_statement_is_paid_nothing_and_marketing_may_not_pay(guided):
    st = guided
    url = f"{ADMIN}/rebatestatement/"
    pay = act(
        "rebatestatement",
        "record_rebate_payment",
        [st.pk],
        apply="1",
        amount="1.00",
        method="cash",
        key="k",
    )
    assert staff("marketing").post(url, pay).status_code == 403
    assert not RebatePayment.objects.exists()
    finance = staff("finance", "zh-hans")
    void = act("rebatestatement", "void_rebate_statements", [st.pk], apply="1", reason="开错了")
    assert finance.post(url, void).status_code == 302
    st.refresh_from_db()
    assert st.status == "void"
    html = finance.post(url, pay).content.decode()
    assert "该返利结算单已作废，不能再支付。" in html
    assert not RebatePayment.objects.exists()
