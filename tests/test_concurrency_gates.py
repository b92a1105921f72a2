"""No double admission: lanes racing on the same ticket, on the real database."""

from __future__ import annotations

import pytest
import time_machine

from admit.access.models import Scan, Usage
from admit.access.selectors import lane_config
from admit.access.services import ScanRequest, scan_redeem
from admit.accounts.models import User
from admit.core.errors import DomainError
from admit.reports.checks import report_problems
from admit.reports.models import EntryHour, EntryProductDay
from admit.sales import services as sales
from admit.tickets.models import Ticket
from tests.conftest import bearer_client, load_demo, run_concurrently
from tests.gate_helpers import AT_GATE, sell

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

LANES = ["east-1", "east-2", "east-3", "east-4", "east-5"]


@pytest.fixture
def api(clock):
    load_demo()
    return bearer_client(User.objects.get(username="supervisor"))


def redeem(lane: str, code: str, persons: int = 1):
    return scan_redeem(lane=lane_config(lane), request=ScanRequest(code=code, persons=persons))


def test_one_ticket_at_five_lanes_at_once_is_admitted_once(api):
    ticket = sell(api)[0]
    with time_machine.travel(AT_GATE, tick=True):
        results = run_concurrently(lambda i: redeem(LANES[i % len(LANES)], ticket["code"]), 10)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    allowed = [r for r in results if r.decision.allowed]
    assert len(allowed) == 1
    assert {r.decision.reason for r in results if not r.decision.allowed} == {"used_up"}
    row = Ticket.objects.get(pk=ticket["id"])
    assert (row.entries_used, row.status) == (1, "used")
    assert Usage.objects.get(ticket_id=ticket["id"]).used == 1
    assert Scan.objects.filter(result="allow").count() == 1
    assert report_problems() == []


def test_a_group_ticket_split_across_lanes_never_admits_more_than_its_persons(api):
    group = sell(api, "group", persons=20)[0]
    with time_machine.travel(AT_GATE, tick=True):
        results = run_concurrently(
            lambda i: redeem(LANES[i % len(LANES)], group["code"], persons=3), 10
        )
    assert not [r for r in results if isinstance(r, Exception)]
    admitted = sum(r.decision.persons for r in results if r.decision.allowed)
    assert admitted == 18  # six scans of three; the rest find only two left
    assert Usage.objects.get(ticket_id=group["id"]).used == 18
    assert Ticket.objects.get(pk=group["id"]).entries_used == 18
    assert report_problems() == []


def test_first_scans_of_an_hour_at_once_count_every_person(api):
    """Ten tickets scanned at the same lane in the same instant: the lane-hour and product-day
    report rows are created by whichever comes first and added to by the rest, none lost."""
    tickets = sell(api, quantity=10)
    with time_machine.travel(AT_GATE, tick=True):
        results = run_concurrently(lambda i: redeem("east-1", tickets[i]["code"]), 10)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(r.decision.allowed for r in results)
    (row,) = EntryHour.objects.filter(lane_id=lane_config("east-1").id)
    assert (row.scans, row.allowed, row.persons) == (10, 10, 10)
    assert EntryProductDay.objects.get().persons == 10
    assert report_problems() == []


def test_a_refund_racing_a_scan_wins_or_loses_whole(api):
    ticket = sell(api)[0]
    supervisor = User.objects.get(username="supervisor")
    order = ticket["order"]

    def act(i: int):
        if i == 0:
            from admit.sales.models import Order

            return sales.order_refund(
                order=Order.objects.get(code=order),
                reason="race",
                actor=supervisor,
                apply_rules=False,
            )
        return redeem("east-1", ticket["code"])

    with time_machine.travel(AT_GATE, tick=True):
        results = run_concurrently(act, 2)
    row = Ticket.objects.get(pk=ticket["id"])
    scanned = results[1]
    assert not isinstance(scanned, Exception), scanned
    if scanned.decision.allowed:
        assert row.status == "used" and isinstance(results[0], DomainError), results[0]
    else:
        assert not isinstance(results[0], Exception), results[0]
        assert scanned.decision.reason == "revoked" and row.status == "refunded"
        assert row.entries_used == 0


def test_the_first_key_is_made_once_however_many_sell_at_that_moment(clock):
    from admit.core import versions
    from admit.tickets.keys import signer
    from admit.tickets.models import SigningKey

    def first_sale(i: int):
        versions.clear()
        return signer()[0]

    results = run_concurrently(first_sale, 8)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert SigningKey.objects.count() == 1 and set(results) == {1}


def test_one_card_bound_to_two_passes_at_once_serves_only_one(api, monkeypatch):
    import time

    from admit.tickets.models import TicketMedium
    from admit.tickets.services import medium_bind
    from tests.gate_helpers import sell_annual_pass
    from tests.sales_helpers import IDS

    passes = [sell_annual_pass(api, IDS[0]), sell_annual_pass(api, IDS[1])]
    supervisor = User.objects.get(username="supervisor")

    def bind(i: int):
        ticket = Ticket.objects.get(pk=passes[i]["id"])
        return medium_bind(ticket=ticket, kind="card", value="04A2B3C4", actor=supervisor)

    # Widen the gap between "is the card free?" and the insert, as a slow database would.
    create = TicketMedium.objects.create

    def slow_create(**kwargs):
        time.sleep(0.3)
        return create(**kwargs)

    monkeypatch.setattr(TicketMedium.objects, "create", slow_create)
    results = run_concurrently(bind, 2)
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "medium_in_use", results
    assert TicketMedium.objects.filter(active_value="04A2B3C4").count() == 1


def test_a_revocation_committed_after_a_later_one_still_reaches_offline_lanes(api, vendor):
    """Revocation ids are drawn at insert and committed in any order: a refund still open when
    a lane fetched its bundle commits later with an id below that bundle's cursor. The lane's
    next bundle (since that cursor) must still carry it."""
    import threading

    from django.db import transaction

    from admit.access.selectors import offline_bundle
    from admit.tickets.models import Revocation
    from admit.tickets.services import tickets_end

    if vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time: revocations commit in id order")
    slow, fast = (Ticket.objects.get(pk=t["id"]) for t in sell(api, quantity=2))
    inserted, fetched = threading.Event(), threading.Event()
    lane = lane_config("east-1")

    def act(i: int):
        if i == 0:  # a refund that revokes its ticket, then takes its time to commit
            with transaction.atomic():
                tickets_end(tickets=[slow], status=Ticket.Status.REFUNDED)
                inserted.set()
                assert fetched.wait(timeout=20)
            return None
        assert inserted.wait(timeout=20)
        with transaction.atomic():
            tickets_end(tickets=[fast], status=Ticket.Status.REFUNDED)
        try:
            return offline_bundle(lane=lane)
        finally:
            fetched.set()

    results = run_concurrently(act, 2)
    assert not [r for r in results if isinstance(r, Exception)], results
    first = results[1]
    assert first["revocations"] == [fast.pk]
    assert Revocation.objects.get(ticket=slow).pk < first["cursor"]  # committed out of order
    assert slow.pk in offline_bundle(lane=lane, since=first["cursor"])["revocations"]
