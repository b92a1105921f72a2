"""Paper serials under real concurrency: terminals (and two threads of one cashier) binding
paper to tickets at the same instant, on the real database."""

from __future__ import annotations

from collections import Counter

import pytest

from admit.accounts.models import User
from admit.boxoffice import stock_report
from admit.boxoffice.models import StockBatch, StockMovement, StockSerial
from admit.boxoffice.selectors import open_shift
from admit.boxoffice.services import (
    stock_activate,
    stock_issue,
    stock_receive,
    stock_return,
    stock_use,
    stock_void,
)
from admit.catalog.models import Product, Site
from admit.core.errors import DomainError
from admit.demo.data import cashier_on_shift
from admit.inventory.models import Pool
from admit.inventory.services import pools_ensure
from admit.sales import services as sales
from admit.tickets.models import Ticket
from tests.conftest import load_demo, run_concurrently
from tests.sales_helpers import MON

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

ROUNDS = 8
S = StockSerial.Status


@pytest.fixture
def world(clock):
    load_demo()
    site = Site.objects.get(code="yunling")
    pools_ensure(site=site, day=MON)
    admin = User.objects.get(username="admin")
    # The demo's cashiers hold paper of its batch: back to the store, so each test starts bare.
    stock_return(batch=StockBatch.objects.get(code="R2026-01"), first=1, last=1000, actor=admin)
    batch = stock_receive(
        site=site, code="RACE", first_number=1, last_number=400, prefix="Z", actor=admin
    )
    return {
        "batch": batch,
        "admin": admin,
        "cashier": cashier_on_shift("cashier", "window-1"),
        "cashier2": cashier_on_shift("cashier2", "window-2"),
    }


def sell(cashier: User, quantity: int) -> list[Ticket]:
    slots = Pool.objects.filter(zone__code="main", date=MON, start__isnull=False).order_by("start")
    out: list[Ticket] = []
    for pool in slots:
        if len(out) >= quantity:
            break
        want = min(10, quantity - len(out))
        order = sales.order_place(
            channel="window",
            actor=cashier,
            lines=[
                sales.LineRequest(
                    product=Product.objects.get(code="adult").pk,
                    date=MON,
                    quantity=want,
                    slot=pool.pk,
                )
            ],
        )
        sales.order_pay(order=order, method="cash", amount=None, actor=cashier)
        out.extend(Ticket.objects.filter(order=order).order_by("pk"))
    assert len(out) == quantity
    return out


def issue(world, who: str, first: int, last: int) -> None:
    stock_issue(
        batch=world["batch"],
        first_number=first,
        last_number=last,
        cashier=world[who],
        actor=world["admin"],
    )


def bind_rounds(cashier: User, tickets: list[Ticket], per_call: int) -> list[StockSerial]:
    """One terminal's loop: bind ``per_call`` tickets at a time, ``ROUNDS`` times."""
    shift = open_shift(cashier)
    assert shift is not None
    got: list[StockSerial] = []
    for r in range(ROUNDS):
        got.extend(
            stock_use(
                shift=shift, tickets=tickets[r * per_call : (r + 1) * per_call], actor=cashier
            )
        )
    return got


def assert_every_serial_once(world) -> None:
    used = StockSerial.objects.filter(batch=world["batch"], status=S.USED)
    assert used.filter(ticket__isnull=True).count() == 0
    tickets = list(used.values_list("ticket_id", flat=True))
    assert len(tickets) == len(set(tickets))  # no ticket got two serials
    numbers = Counter(
        StockMovement.objects.filter(batch=world["batch"], kind="use").values_list(
            "first_number", flat=True
        )
    )
    assert numbers and max(numbers.values()) == 1  # no serial was used twice
    assert sorted(numbers) == sorted(used.values_list("number", flat=True))
    assert stock_report.problems() == []


def test_two_terminals_and_two_threads_each_never_share_a_serial(world):
    issue(world, "cashier", 1, 150)
    issue(world, "cashier2", 151, 300)
    per_call = 2
    # Threads 0 and 2 are two windows of cashier's shift (two tabs), 1 and 3 of cashier2's.
    sellers = [world["cashier"], world["cashier2"]] * 2
    tickets = [sell(c, ROUNDS * per_call) for c in sellers]
    results = run_concurrently(lambda i: bind_rounds(sellers[i], tickets[i], per_call), 4)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    for seller, got, sold in zip(sellers, results, tickets, strict=True):
        assert [s.ticket_id for s in got] == [t.pk for t in sold]
        assert all(s.holder_id == seller.pk for s in got)
    assert_every_serial_once(world)
    # Each cashier used their lowest serials, without a hole: nothing was skipped.
    for who, first in (("cashier", 1), ("cashier2", 151)):
        mine = sorted(
            StockSerial.objects.filter(
                batch=world["batch"], holder=world[who], status=S.USED
            ).values_list("number", flat=True)
        )
        assert mine == list(range(first, first + 2 * ROUNDS * per_call))
    assert stock_report.gaps(StockBatch.objects.get(pk=world["batch"].pk)) == []


def test_six_threads_of_one_cashier_take_consecutive_serials(world):
    issue(world, "cashier", 11, 200)
    n = 6
    tickets = [sell(world["cashier"], ROUNDS) for _ in range(n)]
    results = run_concurrently(lambda i: bind_rounds(world["cashier"], tickets[i], 1), n)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert_every_serial_once(world)
    used = sorted(s.number for got in results for s in got)
    assert used == list(range(11, 11 + n * ROUNDS))


def test_the_last_serials_go_to_as_many_tickets_as_there_are(world):
    issue(world, "cashier", 1, 5)
    tickets = sell(world["cashier"], 8)
    shift = open_shift(world["cashier"])
    results = run_concurrently(
        lambda i: stock_use(shift=shift, tickets=[tickets[i]], actor=world["cashier"]), 8
    )
    bound = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert not [r for r in results if not isinstance(r, list | DomainError)], results
    assert len(bound) == 5 and {e.code for e in refused} == {"stock_empty"}
    assert sorted(r[0].number for r in bound) == [1, 2, 3, 4, 5]
    assert_every_serial_once(world)


def test_one_ticket_raced_by_two_terminals_gets_one_serial(world):
    issue(world, "cashier", 1, 50)
    [ticket] = sell(world["cashier"], 1)
    shift = open_shift(world["cashier"])
    results = run_concurrently(
        lambda i: stock_use(shift=shift, tickets=[ticket], actor=world["cashier"]), 6
    )
    bound = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(bound) == 1 and len(refused) == 5, results
    assert {e.code for e in refused} == {"ticket_has_paper"}
    assert StockSerial.objects.filter(ticket=ticket).count() == 1
    assert_every_serial_once(world)


def test_one_scanned_serial_activated_twice_at_once_binds_one_ticket(world):
    issue(world, "cashier", 1, 50)
    tickets = sell(world["cashier"], 6)
    shift = open_shift(world["cashier"])
    results = run_concurrently(
        lambda i: stock_activate(
            shift=shift, ticket=tickets[i], serial="Z0000007", actor=world["cashier"]
        ),
        6,
    )
    bound = [r for r in results if isinstance(r, StockSerial)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(bound) == 1 and len(refused) == 5, results
    assert {e.code for e in refused} == {"stock_used"}
    assert StockSerial.objects.get(batch=world["batch"], number=7).ticket_id == bound[0].ticket_id
    assert_every_serial_once(world)


def test_overlapping_ranges_issued_at_once_go_to_one_cashier_whole(world):
    # Two store clerks hand out overlapping ranges at the same instant: one range moves whole,
    # the other is refused and moves nothing.
    ranges = [("cashier", 1, 60), ("cashier2", 41, 100)] * 2
    results = run_concurrently(lambda i: issue(world, *ranges[i]), len(ranges))
    done = [i for i, r in enumerate(results) if r is None]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(done) == 1 and len(refused) == 3, results
    assert {e.code for e in refused} == {"stock_not_in_store"}
    who, first, last = ranges[done[0]]
    issued = StockSerial.objects.filter(batch=world["batch"], status=S.ISSUED)
    assert sorted(issued.values_list("number", flat=True)) == list(range(first, last + 1))
    assert set(issued.values_list("holder_id", flat=True)) == {world[who].pk}
    assert StockMovement.objects.filter(batch=world["batch"], kind="issue").count() == 1
    assert stock_report.problems() == []


def test_paper_voided_while_it_is_scanned_is_either_voided_or_used(world):
    issue(world, "cashier", 1, 50)
    [ticket] = sell(world["cashier"], 1)
    shift = open_shift(world["cashier"])
    serial = StockSerial.objects.get(batch=world["batch"], number=7)

    def act(i: int) -> object:
        if i % 2:
            return stock_void(serial=serial, reason="torn", actor=world["cashier"])
        return stock_activate(shift=shift, ticket=ticket, serial=serial, actor=world["cashier"])

    results = run_concurrently(act, 2)
    assert [type(r) for r in results if not isinstance(r, DomainError)] == [StockSerial], results
    row = StockSerial.objects.get(pk=serial.pk)
    if isinstance(results[0], StockSerial):  # the scan won
        assert (row.status, row.ticket_id) == (S.USED, ticket.pk)
        assert results[1].code in {"stock_used", "stock_not_issued"}  # read before or after
    else:
        assert (row.status, row.ticket_id) == (S.VOIDED, None)
        assert results[0].code in {"stock_voided", "stock_used"}
    assert stock_report.problems() == []
