"""Passes bound to members: sold with a card, renewed from the expiry or from the renewal day,
a lost card replaced (the old one refused at once), frozen and thawed, online and offline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from admit.access.offline import OfflineLane
from admit.access.selectors import lane_config, offline_bundle
from admit.catalog.models import Product
from admit.customers.models import Member, Pass
from admit.customers.selectors import ledger_problems
from admit.customers.services import member_register
from admit.demo.data import DEMO_MEMBER_PHONE, cashier_on_shift
from admit.sales import services
from admit.sales.checks import money_problems
from admit.sales.models import Order, Payment
from admit.sales.services.passes import (
    pass_freeze,
    pass_renew,
    pass_replace_card,
    pass_sell,
    pass_unfreeze,
    renewal_period,
)
from admit.tickets import codec
from admit.tickets.keys import public_keys
from admit.tickets.models import Revocation, Ticket, TicketMedium
from admit.tickets.services import add_months
from tests.gate_helpers import device_client, scan
from tests.sales_helpers import IDS

pytestmark = pytest.mark.django_db

OLD_CARD, NEW_CARD = "04A1B2C3D4", "04FFEE0011"


@pytest.fixture
def cashier(demo, clock):
    return cashier_on_shift()


@pytest.fixture
def member(demo):
    return Member.objects.get(phone=DEMO_MEMBER_PHONE)


def annual() -> Product:
    return Product.objects.select_related("site").get(code="annual")


def card_scan(lane_client, uid: str) -> dict:
    return scan(lane_client, "east-1", medium={"type": "card", "value": uid})


def test_a_pass_sold_to_a_member_admits_by_card_and_by_code(cashier, member):
    sold = pass_sell(member=member, product=annual(), actor=cashier, card_uid=OLD_CARD)
    (ticket,) = sold.tickets.all()
    assert ticket.holder_id_number == member.id_number and ticket.holder_name == member.name
    assert (sold.valid_from, sold.valid_until) == (ticket.valid_from, ticket.valid_until)
    assert sold.valid_until == add_months(sold.valid_from, 12) - dt.timedelta(days=1)
    assert sold.card_uid == OLD_CARD
    order = ticket.order
    assert order.member_id == member.pk and order.status == Order.Status.PAID
    # Gold members pay 10 % less and earn two points a yuan.
    assert order.total == Decimal("398.00") * Decimal("0.9")
    member.refresh_from_db()
    assert member.points == int(order.total * 2)
    lane = device_client("east-1")
    assert card_scan(lane, OLD_CARD)["result"] == "allow"
    assert money_problems() == [] and ledger_problems() == []


def test_a_lost_card_is_refused_at_once_and_the_new_one_admits(cashier, member):
    sold = pass_sell(member=member, product=annual(), actor=cashier, card_uid=OLD_CARD)
    lane = device_client("east-1")
    assert card_scan(lane, OLD_CARD)["result"] == "allow"
    fee = Product.objects.get(code="card-fee")
    payments_before = Payment.objects.count()
    replaced = pass_replace_card(pass_=sold, card_uid=NEW_CARD, actor=cashier, fee_product=fee)
    assert replaced.card_uid == NEW_CARD and replaced.replacements == 1
    denied = card_scan(lane, OLD_CARD)
    assert denied["result"] == "deny" and denied["reason"] == "unknown_medium"
    assert card_scan(lane, NEW_CARD)["result"] == "allow"
    # The fee was charged as a service line: money without a ticket, and it adds up.
    fee_payment = Payment.objects.order_by("-id").first()
    assert Payment.objects.count() == payments_before + 1
    assert fee_payment.amount == Decimal("20.00")  # fees take no member price
    assert not Ticket.objects.filter(order=fee_payment.order).exists()
    assert money_problems() == []
    # Offline lanes learn it with their next bundle: the old card's digest is gone.
    bundle = offline_bundle(lane=lane_config("east-1"))
    from admit.access.offline import medium_digest

    digests = {m["digest"] for m in bundle["media"]}
    assert medium_digest("card", NEW_CARD) in digests
    assert medium_digest("card", OLD_CARD) not in digests


def test_a_card_of_another_valid_ticket_cannot_replace(cashier, member, demo):
    other = member_register(name="李四", phone="13700000001", id_number=IDS[1], actor=None)
    pass_sell(member=other, product=annual(), actor=cashier, card_uid="0411223344")
    mine = pass_sell(member=member, product=annual(), actor=cashier, card_uid=OLD_CARD)
    with pytest.raises(Exception) as exc:
        pass_replace_card(pass_=mine, card_uid="0411223344", actor=cashier)
    assert getattr(exc.value, "code", "") == "medium_in_use"
    mine.refresh_from_db()
    assert mine.card_uid == OLD_CARD
    assert TicketMedium.objects.filter(active_value=OLD_CARD).count() == 1


def test_a_frozen_pass_is_refused_online_and_offline_until_thawed(cashier, member):
    sold = pass_sell(member=member, product=annual(), actor=cashier, card_uid=OLD_CARD)
    (ticket,) = sold.tickets.all()
    lane = device_client("east-1")
    offline = OfflineLane(offline_bundle(lane=lane_config("east-1")))
    pass_freeze(pass_=sold, actor=cashier, reason="holder asked")
    by_card = card_scan(lane, OLD_CARD)
    assert (by_card["result"], by_card["reason"]) == ("deny", "pass_frozen")
    by_code = scan(lane, "east-1", code=ticket.code)
    assert (by_code["result"], by_code["reason"]) == ("deny", "pass_frozen")
    # Refunding a frozen pass is refused (it is not valid now).
    with pytest.raises(Exception) as exc:
        services.order_refund(order=ticket.order, actor=cashier)
    assert getattr(exc.value, "code", "") == "ticket_not_valid"

    cursor = offline.cursor
    offline.update(offline_bundle(lane=lane_config("east-1"), since=cursor))
    assert ticket.pk in offline.revoked
    pass_unfreeze(pass_=sold, actor=cashier)
    assert card_scan(lane, OLD_CARD)["result"] == "allow"
    later = offline_bundle(lane=lane_config("east-1"), since=offline.cursor)
    assert ticket.pk in later["reinstated"] and ticket.pk not in later["revocations"]
    offline.update(later)
    assert ticket.pk not in offline.revoked
    # A fresh lane's full bundle does not list the thawed pass as revoked either.
    assert ticket.pk not in offline_bundle(lane=lane_config("east-1"))["revocations"]
    assert list(
        Revocation.objects.filter(ticket=ticket).order_by("id").values_list("status", flat=True)
    ) == ["frozen", "reinstated"]
    with pytest.raises(Exception) as exc:
        pass_unfreeze(pass_=sold, actor=cashier)
    assert getattr(exc.value, "code", "") == "pass_not_frozen"


def test_renewal_before_expiry_runs_on_from_the_expiry(cashier, member, clock):
    sold = pass_sell(member=member, product=annual(), actor=cashier, card_uid=OLD_CARD)
    first_end = sold.valid_until
    clock.shift(dt.timedelta(days=300))  # still valid
    cashier = cashier_on_shift()
    renewal = pass_renew(pass_=sold, actor=cashier)
    assert renewal.valid_from == first_end + dt.timedelta(days=1)
    assert renewal.valid_until == add_months(renewal.valid_from, 12) - dt.timedelta(days=1)
    sold.refresh_from_db()
    assert sold.valid_until == renewal.valid_until and sold.valid_from < renewal.valid_from
    # The new period's code carries the new dates, signed.
    claims = codec.decode(renewal.code, public_keys())
    assert (claims.valid_from, claims.valid_until) == (renewal.valid_from, renewal.valid_until)
    # The card reaches both periods; on a day of the new period the gate admits.
    assert TicketMedium.objects.filter(active_value=OLD_CARD).count() == 2
    lane = device_client("east-1")
    next_day = dt.datetime.combine(first_end + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)
    with time_machine.travel(next_day):  # 10:00 in the park, the first day of the new period
        entered = card_scan(lane, OLD_CARD)
    assert entered["result"] == "allow", entered
    assert Ticket.objects.get(pk=renewal.pk).entries_used == 1
    assert money_problems() == [] and ledger_problems() == []


def test_renewal_after_expiry_starts_on_the_renewal_day(cashier, member, clock):
    sold = pass_sell(member=member, product=annual(), actor=cashier)
    clock.shift(dt.timedelta(days=400))  # expired 35 days ago
    cashier = cashier_on_shift()
    renewal = pass_renew(pass_=sold, actor=cashier)
    today = dt.date(2026, 11, 22) + dt.timedelta(days=400)
    assert renewal.valid_from == today
    assert renewal.valid_until == add_months(today, 12) - dt.timedelta(days=1)
    # At today's price: the renewal order's line is dated today.
    assert renewal.line.date == today and renewal.price == Decimal("358.20")


def test_a_frozen_or_cancelled_pass_cannot_be_renewed(cashier, member):
    sold = pass_sell(member=member, product=annual(), actor=cashier)
    pass_freeze(pass_=sold, actor=cashier)
    orders = Order.objects.count()
    with pytest.raises(Exception) as exc:
        pass_renew(pass_=sold, actor=cashier)
    assert getattr(exc.value, "code", "") == "pass_not_active"
    assert Order.objects.count() == orders


def test_refunding_a_renewal_shortens_the_pass_again(cashier, member):
    sold = pass_sell(member=member, product=annual(), actor=cashier)
    first_end = sold.valid_until
    renewal = pass_renew(pass_=sold, actor=cashier)
    services.order_refund(order=renewal.order, actor=cashier)
    sold.refresh_from_db()
    assert sold.valid_until == first_end
    assert money_problems() == [] and ledger_problems() == []


def test_only_passes_are_sold_as_passes(cashier, member):
    with pytest.raises(Exception) as exc:
        pass_sell(member=member, product=Product.objects.get(code="adult"), actor=cashier)
    assert getattr(exc.value, "code", "") == "not_a_pass"
    assert not Pass.objects.exists()


@pytest.mark.parametrize(
    ("until", "today", "start", "end"),
    [
        # not yet expired: on from the day after the expiry
        (dt.date(2027, 3, 31), dt.date(2027, 3, 1), dt.date(2027, 4, 1), dt.date(2028, 3, 31)),
        # expires today: still on from tomorrow
        (dt.date(2027, 3, 1), dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2028, 3, 1)),
        # expired yesterday: from today
        (dt.date(2027, 2, 28), dt.date(2027, 3, 1), dt.date(2027, 3, 1), dt.date(2028, 2, 29)),
        # leap day start: runs to the 28th of February of the next year
        (dt.date(2028, 2, 28), dt.date(2028, 2, 1), dt.date(2028, 2, 29), dt.date(2029, 2, 28)),
        # expired, renewed on a leap day
        (dt.date(2027, 12, 31), dt.date(2028, 2, 29), dt.date(2028, 2, 29), dt.date(2029, 2, 28)),
    ],
)
def test_renewal_period_at_the_edges(until, today, start, end):
    assert renewal_period(valid_until=until, today=today, months=12) == (start, end)


@given(
    until=st.dates(dt.date(2020, 1, 1), dt.date(2040, 12, 31)),
    offset=st.integers(-800, 800),
    months=st.sampled_from([1, 3, 6, 12]),
)
def test_renewal_periods_follow_on_without_gap_or_overlap(until, offset, months):
    today = until + dt.timedelta(days=offset)
    start, end = renewal_period(valid_until=until, today=today, months=months)
    assert start == (until + dt.timedelta(days=1) if until >= today else today)
    assert start > until  # never overlaps the paid period
    assert start >= today or start == until + dt.timedelta(days=1)
    assert 28 * months - 4 <= (end - start).days + 1 <= 31 * months + 1


def test_passes_api(cashier, member, demo):
    from tests.conftest import bearer_client

    api = bearer_client(cashier)
    created = api.post(
        "/api/v1/passes",
        {"member": member.number, "product": annual().pk, "card_uid": OLD_CARD},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["card"] == "04A***C3D4"
    renewed = api.post(
        f"/api/v1/passes/{number}/renewals", {"method": "card"}, content_type="application/json"
    )
    assert renewed.status_code == 201, renewed.content
    assert len(renewed.json()["periods"]) == 2
    # Cashiers may not freeze (supervisors do).
    assert api.post(f"/api/v1/passes/{number}/freeze", {}, "application/json").status_code == 403
    missing = api.get("/api/v1/passes/P000000000")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "pass_not_found",
            "message": "No such pass.",
            "details": {"pass": "P000000000"},
        }
    }


def test_an_agency_user_is_told_a_pass_is_missing_whether_it_exists_or_not(cashier, member):
    """Passes belong to the venue's members: an agency's own user, even one given the rights,
    learns nothing of them; an existing pass answers exactly as one that does not exist, and
    selling to a member answers as for an unknown member."""
    from django.contrib.auth.models import Permission

    from admit.accounts.models import User
    from tests.conftest import bearer_client

    sold = pass_sell(member=member, product=annual(), actor=cashier)
    agent = User.objects.get(username="agent")
    agent.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_pass", "add_pass", "change_pass", "freeze_pass"]
        )
    )
    api = bearer_client(agent)
    for number in (sold.number, "P000000000"):
        for method, url in [
            ("get", f"/api/v1/passes/{number}"),
            ("post", f"/api/v1/passes/{number}/renewals"),
            ("post", f"/api/v1/passes/{number}/freeze"),
            ("post", f"/api/v1/passes/{number}/unfreeze"),
        ]:
            answer = getattr(api, method)(url, {}, content_type="application/json")
            assert answer.status_code == 404, (url, answer.content)
            assert answer.json()["error"] == {
                "code": "pass_not_found",
                "message": "No such pass.",
                "details": {"pass": number},
            }
    for number in (member.number, "M000000000"):
        answer = api.post(
            "/api/v1/passes",
            {"member": number, "product": annual().pk},
            content_type="application/json",
        )
        assert answer.status_code == 404, answer.content
        assert answer.json()["error"]["code"] == "member_not_found"
        assert answer.json()["error"]["details"] == {"member": number}
    assert Pass.objects.count() == 1 and Order.objects.count() == 1
