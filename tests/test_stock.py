"""Paper ticket stock (票证库存): receiving, issuing, returning, voiding, binding serials to
tickets sold, and the reconciliation that shows every serial's fate and every gap."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from admit.accounts.models import User
from admit.boxoffice import stock_report
from admit.boxoffice.models import Shift, StockBatch, StockMovement, StockSerial
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
from admit.catalog.services import product_save, site_save
from admit.core.errors import DomainError
from admit.core.models import AuditEntry
from admit.demo.data import cashier_on_shift
from admit.inventory.services import pools_ensure
from admit.sales import services as sales
from admit.tickets.models import Ticket
from tests.sales_helpers import MON

pytestmark = pytest.mark.django_db

S = StockSerial.Status


@pytest.fixture
def world(clock, demo):
    site = Site.objects.get(code="yunling")
    pools_ensure(site=site, day=MON)
    # The demo's cashiers hold paper of its batch: back to the store, so each test starts bare.
    stock_return(
        batch=StockBatch.objects.get(code="R2026-01"),
        first=1,
        last=1000,
        actor=User.objects.get(username="admin"),
    )
    return {
        "site": site,
        "admin": User.objects.get(username="admin"),
        "supervisor": User.objects.get(username="supervisor"),
        "cashier": cashier_on_shift("cashier", "window-1"),
        "cashier2": cashier_on_shift("cashier2", "window-2"),
        "finance": User.objects.get(username="finance"),
    }


def sell(cashier: User, quantity: int = 1, code: str = "adult") -> list[Ticket]:
    """Paid window tickets, sold through the sales services by ``cashier`` on their shift."""
    from admit.inventory.models import Pool

    slot = Pool.objects.filter(zone__code="main", date=MON, start__isnull=False).order_by("start")
    order = sales.order_place(
        channel="window",
        actor=cashier,
        lines=[
            sales.LineRequest(
                product=Product.objects.get(code=code).pk,
                date=MON,
                quantity=quantity,
                slot=slot.first().pk,  # type: ignore[union-attr]
            )
        ],
    )
    sales.order_pay(order=order, method="cash", amount=None, actor=cashier)
    return list(Ticket.objects.filter(order=order).order_by("pk"))


def fails(expected: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    assert info.value.code == expected, (info.value.code, info.value.details)
    return info.value


def statuses(batch: StockBatch) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in StockSerial.objects.filter(batch=batch).values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def receive(world, code="T1", first=1, last=100, **kw) -> StockBatch:
    return stock_receive(
        site=world["site"],
        code=code,
        first_number=first,
        last_number=last,
        prefix=kw.pop("prefix", "T"),
        actor=kw.pop("actor", world["supervisor"]),
        **kw,
    )


# --- Receiving --------------------------------------------------------------------------------


def test_receive_creates_one_serial_per_number_a_movement_and_an_audit_entry(world):
    batch = receive(world, first=5, last=104)
    serials = list(StockSerial.objects.filter(batch=batch).order_by("number"))
    assert [s.number for s in serials] == list(range(5, 105))
    assert serials[0].serial == "T0000005" and serials[-1].serial == "T0000104"
    assert {s.status for s in serials} == {S.IN_STORE}
    moves = list(StockMovement.objects.filter(batch=batch))
    assert [(m.kind, m.first_number, m.last_number, m.count) for m in moves] == [
        ("receive", 5, 104, 100)
    ]
    assert AuditEntry.objects.filter(verb="stock_receive", object_id=str(batch.pk)).count() == 1


def test_receive_a_hundred_thousand_numbers(world):
    batch = receive(world, code="BIG", first=1, last=100_000, prefix="B")
    assert StockSerial.objects.filter(batch=batch).count() == 100_000
    assert StockSerial.objects.filter(batch=batch, number=100_000).get().serial == "B0100000"


@pytest.mark.parametrize(
    ("first", "last", "kw", "code"),
    [
        (10, 5, {}, "stock_range_invalid"),
        (-1, 5, {}, "stock_range_invalid"),
        ("1a", 5, {}, "stock_range_invalid"),
        (True, 5, {}, "stock_range_invalid"),
        (99_999_990, 100_000_000, {}, "stock_range_invalid"),  # 9 digits do not fit in 7
        (1, 1_000_001, {"digits": 9}, "stock_range_too_large"),
        (1, 5, {"digits": 0}, "stock_range_invalid"),
        (1, 5, {"prefix": "TOO-LONG-PREFIX"}, "stock_batch_invalid"),
        (1, 5, {"code": "bad code!"}, "stock_batch_invalid"),
    ],
)
def test_receive_refuses_bad_numbers(world, first, last, kw, code):
    before = (StockBatch.objects.count(), StockSerial.objects.count())
    fails(code, receive, world, first=first, last=last, **{"code": "X1", **kw})
    assert (StockBatch.objects.count(), StockSerial.objects.count()) == before


def test_receive_refuses_overlap_with_another_batch_of_the_same_prefix(world):
    receive(world, code="T1", first=1, last=100)
    before = StockSerial.objects.count()
    err = fails("stock_overlap", receive, world, code="T2", first=100, last=200)
    assert err.details["batch"] == "T1"
    fails("stock_overlap", receive, world, code="T3", first=50, last=60, digits=8)
    fails("stock_batch_exists", receive, world, code="T1", first=300, last=310)
    assert StockSerial.objects.count() == before
    # Another prefix is other paper.
    other = receive(world, code="U1", first=1, last=100, prefix="U")
    assert StockSerial.objects.filter(batch=other).count() == 100


def test_receive_needs_the_right(world):
    fails("permission_denied", receive, world, actor=world["cashier"])
    fails("permission_denied", receive, world, actor=world["finance"])
    assert not StockBatch.objects.filter(code="T1").exists()


def test_a_pre_printed_batch_must_be_for_a_product_of_its_site(world):
    admin = world["admin"]
    other = site_save(instance=Site(code="elsewhere", name="别处"), actor=admin)
    alien = product_save(instance=Product(site=other, code="alien", name="外票"), actor=admin)
    fails("stock_batch_invalid", receive, world, product=alien)
    assert not StockBatch.objects.filter(code="T1").exists()
    batch = receive(world, product=Product.objects.get(code="adult"))
    assert batch.product is not None and batch.product.code == "adult"


# --- Issuing and returning ----------------------------------------------------------------------


def test_issue_moves_a_range_to_a_cashier_all_or_nothing(world):
    batch = receive(world)
    assert (
        stock_issue(
            batch=batch,
            first_number=1,
            last_number=10,
            cashier=world["cashier"],
            actor=world["admin"],
        )
        == 10
    )
    held = StockSerial.objects.filter(batch=batch, holder=world["cashier"], status=S.ISSUED)
    assert sorted(held.values_list("number", flat=True)) == list(range(1, 11))
    # 5..15 overlaps paper already issued: nothing of it moves.
    err = fails(
        "stock_not_in_store",
        stock_issue,
        batch=batch,
        first_number=5,
        last_number=15,
        cashier=world["cashier2"],
        actor=world["admin"],
    )
    assert "T0000005 (issued)" in err.details["serials"]
    assert not StockSerial.objects.filter(holder=world["cashier2"]).exists()
    fails(
        "stock_outside_batch",
        stock_issue,
        batch=batch,
        first_number=90,
        last_number=101,
        cashier=world["cashier2"],
        actor=world["admin"],
    )
    fails(
        "stock_range_too_large",
        stock_issue,
        batch=batch,
        first_number=1,
        last_number=5_000_000,
        cashier=world["cashier2"],
        actor=world["admin"],
    )
    move = StockMovement.objects.get(batch=batch, kind="issue")
    assert (move.first_number, move.last_number, move.count, move.cashier) == (
        1,
        10,
        10,
        world["cashier"],
    )


def test_issue_only_to_a_cashier_and_only_by_the_store(world):
    batch = receive(world)
    for who in ("finance", "supervisor"):
        fails(
            "not_a_cashier",
            stock_issue,
            batch=batch,
            first_number=1,
            last_number=2,
            cashier=world[who],
            actor=world["admin"],
        )
    fails(
        "permission_denied",
        stock_issue,
        batch=batch,
        first_number=1,
        last_number=2,
        cashier=world["cashier"],
        actor=world["cashier"],
    )
    assert statuses(batch) == {S.IN_STORE: 100}


def test_return_takes_unused_paper_back_all_or_nothing(world):
    batch = receive(world)
    stock_issue(
        batch=batch, first_number=1, last_number=10, cashier=world["cashier"], actor=world["admin"]
    )
    stock_issue(
        batch=batch,
        first_number=11,
        last_number=20,
        cashier=world["cashier2"],
        actor=world["admin"],
    )
    [serial] = stock_use(
        shift=open_shift(world["cashier"]), tickets=sell(world["cashier"]), actor=world["cashier"]
    )
    assert serial.number == 1
    fails("stock_not_issued", stock_return, batch=batch, first=1, last=5, actor=world["admin"])
    fails("stock_not_issued", stock_return, batch=batch, first=15, last=25, actor=world["admin"])
    assert statuses(batch) == {S.IN_STORE: 80, S.ISSUED: 19, S.USED: 1}
    assert stock_return(batch=batch, first=6, last=15, actor=world["admin"]) == 10
    assert statuses(batch) == {S.IN_STORE: 90, S.ISSUED: 9, S.USED: 1}
    moves = StockMovement.objects.filter(batch=batch, kind="return").order_by("cashier_id")
    assert sorted((m.cashier_id, m.first_number, m.last_number, m.count) for m in moves) == sorted(
        [(world["cashier"].pk, 6, 10, 5), (world["cashier2"].pk, 11, 15, 5)]
    )
    fails("permission_denied", stock_return, batch=batch, first=2, last=3, actor=world["cashier"])


# --- Voiding ----------------------------------------------------------------------------------


def test_void_needs_a_reason_and_refuses_used_paper(world):
    batch = receive(world)
    stock_issue(
        batch=batch, first_number=1, last_number=3, cashier=world["cashier"], actor=world["admin"]
    )
    in_store = StockSerial.objects.get(batch=batch, number=50)
    fails("void_reason_required", stock_void, serial=in_store, reason="  ", actor=world["admin"])
    assert StockSerial.objects.get(pk=in_store.pk).status == S.IN_STORE
    voided = stock_void(serial=in_store, reason="torn", actor=world["admin"])
    assert (voided.status, voided.void_reason) == (S.VOIDED, "torn")
    fails("stock_voided", stock_void, serial=in_store, reason="again", actor=world["admin"])
    # A cashier voids paper issued to them (a printer jam), not other paper.
    jammed = StockSerial.objects.get(batch=batch, number=3)
    stock_void(serial=jammed, reason="printer jam", actor=world["cashier"])
    fails(
        "permission_denied",
        stock_void,
        serial=StockSerial.objects.get(batch=batch, number=60),
        reason="x",
        actor=world["cashier"],
    )
    [used] = stock_use(
        shift=open_shift(world["cashier"]), tickets=sell(world["cashier"]), actor=world["cashier"]
    )
    fails("stock_used", stock_void, serial=used, reason="x", actor=world["admin"])
    move = StockMovement.objects.get(batch=batch, kind="void", first_number=3)
    assert (move.cashier, move.reason) == (world["cashier"], "printer jam")
    assert statuses(batch) == {S.IN_STORE: 96, S.ISSUED: 1, S.VOIDED: 2, S.USED: 1}


# --- Selling ---------------------------------------------------------------------------------


def test_use_binds_the_lowest_issued_serials_in_ticket_order(world):
    batch = receive(world)
    stock_issue(
        batch=batch, first_number=20, last_number=29, cashier=world["cashier"], actor=world["admin"]
    )
    stock_issue(
        batch=batch, first_number=1, last_number=5, cashier=world["cashier"], actor=world["admin"]
    )
    tickets = sell(world["cashier"], 3)
    shift = open_shift(world["cashier"])
    serials = stock_use(shift=shift, tickets=tickets, actor=world["cashier"])
    assert [s.number for s in serials] == [1, 2, 3]
    for s, t in zip(serials, tickets, strict=True):
        row = StockSerial.objects.get(pk=s.pk)
        assert (row.status, row.ticket_id, row.shift_id) == (S.USED, t.pk, shift.pk)
    uses = StockMovement.objects.filter(kind="use").order_by("first_number")
    assert [(m.first_number, m.ticket_id, m.shift_id) for m in uses] == [
        (s.number, t.pk, shift.pk) for s, t in zip(serials, tickets, strict=True)
    ]
    fails("ticket_has_paper", stock_use, shift=shift, tickets=tickets[:1], actor=world["cashier"])
    more = sell(world["cashier"], 3)
    assert [s.number for s in stock_use(shift=shift, tickets=more, actor=world["cashier"])] == [
        4,
        5,
        20,
    ]


def test_use_with_too_little_paper_binds_nothing(world):
    batch = receive(world)
    stock_issue(
        batch=batch, first_number=1, last_number=2, cashier=world["cashier"], actor=world["admin"]
    )
    shift = open_shift(world["cashier"])
    tickets = sell(world["cashier"], 3)
    fails("stock_empty", stock_use, shift=shift, tickets=tickets, actor=world["cashier"])
    assert statuses(batch) == {S.IN_STORE: 98, S.ISSUED: 2}
    assert not StockMovement.objects.filter(kind="use").exists()
    # cashier2's paper is not cashier's.
    stock_issue(
        batch=batch, first_number=3, last_number=10, cashier=world["cashier2"], actor=world["admin"]
    )
    fails("stock_empty", stock_use, shift=shift, tickets=tickets, actor=world["cashier"])


def test_use_needs_the_own_open_shift_and_valid_tickets(world):
    batch = receive(world)
    stock_issue(
        batch=batch, first_number=1, last_number=10, cashier=world["cashier"], actor=world["admin"]
    )
    shift = open_shift(world["cashier"])
    tickets = sell(world["cashier"], 2)
    fails("not_your_shift", stock_use, shift=shift, tickets=tickets, actor=world["cashier2"])
    sales.order_refund(order=tickets[0].order, actor=world["cashier"], ticket_ids=[tickets[0].pk])
    refunded = Ticket.objects.get(pk=tickets[0].pk)
    fails("ticket_not_valid", stock_use, shift=shift, tickets=[refunded], actor=world["cashier"])
    fails(
        "ticket_has_paper", stock_use, shift=shift, tickets=[tickets[1]] * 2, actor=world["cashier"]
    )
    from admit.boxoffice.services import shift_close

    shift_close(shift=shift, counted_cash="0", actor=world["cashier"])
    fails(
        "shift_not_open",
        stock_use,
        shift=Shift.objects.get(pk=shift.pk),
        tickets=[tickets[1]],
        actor=world["cashier"],
    )
    assert statuses(batch) == {S.IN_STORE: 90, S.ISSUED: 10}


def test_pre_printed_paper_is_used_for_its_product_and_blank_paper_for_the_rest(world):
    adult = Product.objects.get(code="adult")
    blank = receive(world, code="BLANK", prefix="K")
    pre = receive(world, code="PRE", prefix="P", product=adult)
    for b in (blank, pre):
        stock_issue(
            batch=b, first_number=1, last_number=5, cashier=world["cashier"], actor=world["admin"]
        )
    shift = open_shift(world["cashier"])
    kids = sell(world["cashier"], 1, "child")
    adults = sell(world["cashier"], 2, "adult")
    serials = stock_use(shift=shift, tickets=[kids[0], *adults], actor=world["cashier"])
    assert [(s.batch.code, s.number) for s in serials] == [("BLANK", 1), ("PRE", 1), ("PRE", 2)]
    # Asked for explicitly, adult paper goes to an adult ticket only when asked.
    more = sell(world["cashier"], 1, "child")
    [s] = stock_use(shift=shift, tickets=more, actor=world["cashier"], product=adult)
    assert (s.batch.code, s.number) == ("PRE", 3)


def test_activate_binds_a_scanned_serial_of_this_cashier(world):
    adult = Product.objects.get(code="adult")
    pre = receive(world, code="PRE", prefix="P", product=adult)
    stock_issue(
        batch=pre, first_number=1, last_number=5, cashier=world["cashier"], actor=world["admin"]
    )
    stock_issue(
        batch=pre, first_number=6, last_number=10, cashier=world["cashier2"], actor=world["admin"]
    )
    shift = open_shift(world["cashier"])
    [ticket] = sell(world["cashier"])
    [child] = sell(world["cashier"], 1, "child")
    fails(
        "stock_serial_not_found",
        stock_activate,
        shift=shift,
        ticket=ticket,
        serial="P9999999",
        actor=world["cashier"],
    )
    fails(
        "stock_not_yours",
        stock_activate,
        shift=shift,
        ticket=ticket,
        serial="P0000007",
        actor=world["cashier"],
    )
    fails(
        "stock_not_issued",
        stock_activate,
        shift=shift,
        ticket=ticket,
        serial="P0000050",
        actor=world["cashier"],
    )
    fails(
        "stock_wrong_product",
        stock_activate,
        shift=shift,
        ticket=child,
        serial="P0000004",
        actor=world["cashier"],
    )
    serial = stock_activate(shift=shift, ticket=ticket, serial=" P0000004 ", actor=world["cashier"])
    assert (serial.number, serial.status, serial.ticket_id) == (4, S.USED, ticket.pk)
    [other] = sell(world["cashier"])
    fails(
        "stock_used",
        stock_activate,
        shift=shift,
        ticket=other,
        serial="P0000004",
        actor=world["cashier"],
    )
    fails(
        "ticket_has_paper",
        stock_activate,
        shift=shift,
        ticket=ticket,
        serial="P0000003",
        actor=world["cashier"],
    )
    assert statuses(pre)[S.USED] == 1


def test_a_refunded_ticket_keeps_its_paper_used(world):
    batch = receive(world)
    stock_issue(
        batch=batch, first_number=1, last_number=5, cashier=world["cashier"], actor=world["admin"]
    )
    tickets = sell(world["cashier"], 2)
    stock_use(shift=open_shift(world["cashier"]), tickets=tickets, actor=world["cashier"])
    sales.order_refund(order=tickets[0].order, actor=world["cashier"], ticket_ids=[tickets[0].pk])
    serial = StockSerial.objects.get(ticket=tickets[0])
    assert serial.status == S.USED
    report = stock_report.batch_report(batch)
    refunded = [r for r in report.runs if r.ticket_status == Ticket.Status.REFUNDED]
    assert [(r.first, r.last) for r in refunded] == [(serial.number, serial.number)]


# --- Random histories -------------------------------------------------------------------------


class Model:
    """What the stock should look like, kept by hand beside the database."""

    def __init__(self) -> None:
        self.batches: dict[str, tuple[int, int, int]] = {}  # code → (order, first, last)
        self.state: dict[tuple[str, int], tuple[str, int | None]] = {}
        self.issued_at: dict[tuple[str, int], int] = {}
        self.uses: list[tuple[int, int, str, int, int]] = []  # (seq, cashier, batch, n, since)
        self.seq = 0

    def held(self, cashier: int) -> list[tuple[int, str, int]]:
        return sorted(
            (self.batches[b][0], b, n)
            for (b, n), (status, holder) in self.state.items()
            if status == S.ISSUED and holder == cashier
        )

    def use(self, cashier: int, batch: str, number: int) -> None:
        self.seq += 1
        self.uses.append((self.seq, cashier, batch, number, self.issued_at[(batch, number)]))
        self.state[(batch, number)] = (S.USED, cashier)

    def skipped(self) -> set[tuple[str, int]]:
        return {
            (b, n)
            for (b, n), (status, holder) in self.state.items()
            if status == S.ISSUED
            and any(
                c == holder and ub == b and m > n and seq > self.issued_at[(b, n)]
                for seq, c, ub, m, _since in self.uses
            )
        }

    def out_of_order(self) -> set[tuple[str, int]]:
        return {
            (b, n)
            for seq, c, b, n, since in self.uses
            if any(
                c2 == c and b2 == b and m > n and since < seq2 < seq
                for seq2, c2, b2, m, _s in self.uses
            )
        }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_histories_add_up_and_show_every_gap(world, data):
    cashiers = [world["cashier"], world["cashier2"]]
    if "tickets" not in world:  # sold once, kept by every example
        world["tickets"] = {c.pk: sell(c, 12) for c in cashiers}
    admin = world["admin"]
    with transaction.atomic():
        model = Model()
        # Every history starts with a batch received and part of it issued to a cashier.
        first = data.draw(st.integers(1, 50), label="first number")
        last = first + data.draw(st.integers(10, 30), label="batch size")
        receive(world, code="R", first=first, last=last, prefix="H", actor=admin)
        model.batches["R"] = (0, first, last)
        model.state.update({("R", n): (S.IN_STORE, None) for n in range(first, last + 1)})
        a = data.draw(st.integers(first, last), label="issued from")
        b = min(last, a + data.draw(st.integers(3, 12), label="issued count"))
        stock_issue(
            batch=StockBatch.objects.get(code="R"),
            first_number=a,
            last_number=b,
            cashier=cashiers[0],
            actor=admin,
        )
        model.seq += 1
        for n in range(a, b + 1):
            model.state[("R", n)] = (S.ISSUED, cashiers[0].pk)
            model.issued_at[("R", n)] = model.seq
        for step in range(data.draw(st.integers(2, 20), label="steps")):
            action = data.draw(
                st.sampled_from(
                    ["receive", "return", "void", *["issue", "use"] * 3, "activate", "activate"]
                ),
                label="action",
            )
            codes = sorted(model.batches)
            try:
                if action == "receive" or not codes:
                    first = data.draw(st.integers(1, 200), label="first")
                    last = first + data.draw(st.integers(-1, 25), label="size")
                    code = f"R{step}"
                    receive(world, code=code, first=first, last=last, prefix="H", actor=admin)
                    model.batches[code] = (len(model.batches), first, last)
                    for n in range(first, last + 1):
                        model.state[(code, n)] = (S.IN_STORE, None)
                    continue
                code = data.draw(st.sampled_from(codes), label="batch")
                batch = StockBatch.objects.get(code=code)
                _order, lo, hi = model.batches[code]
                if action in ("issue", "return"):
                    a = data.draw(st.integers(lo, hi) | st.integers(lo - 2, hi + 2), label="from")
                    b = a + data.draw(st.integers(0, 6), label="count")
                    if data.draw(st.integers(0, 4), label="inside") > 0:  # mostly in the batch
                        a, b = max(a, lo), min(b, hi)
                    if action == "issue":
                        cashier = data.draw(st.sampled_from(cashiers), label="cashier")
                        stock_issue(
                            batch=batch, first_number=a, last_number=b, cashier=cashier, actor=admin
                        )
                        model.seq += 1
                        for n in range(a, b + 1):
                            model.state[(code, n)] = (S.ISSUED, cashier.pk)
                            model.issued_at[(code, n)] = model.seq
                    else:
                        stock_return(batch=batch, first=a, last=b, actor=admin)
                        for n in range(a, b + 1):
                            model.state[(code, n)] = (S.IN_STORE, None)
                elif action == "void":
                    n = data.draw(st.integers(lo, hi), label="number")
                    serial = StockSerial.objects.get(batch=batch, number=n)
                    stock_void(serial=serial, reason="torn", actor=admin)
                    model.state[(code, n)] = (S.VOIDED, model.state[(code, n)][1])
                else:
                    holding = [c for c in cashiers if model.held(c.pk)] or cashiers
                    cashier = data.draw(st.sampled_from(holding), label="seller")
                    free = [
                        t
                        for t in world["tickets"][cashier.pk]
                        if not StockSerial.objects.filter(ticket=t).exists()
                    ]
                    if not free:
                        continue
                    shift = open_shift(cashier)
                    if action == "use":
                        k = data.draw(st.integers(1, min(3, len(free))), label="tickets")
                        serials = stock_use(shift=shift, tickets=free[:k], actor=cashier)
                        expected = model.held(cashier.pk)[:k]
                        assert [(s.batch.code, s.number) for s in serials] == [
                            (b, n) for _o, b, n in expected
                        ]
                        for s in serials:
                            model.use(cashier.pk, s.batch.code, s.number)
                    else:
                        mine = [m for _o, b, m in model.held(cashier.pk) if b == code]
                        n = data.draw(  # mostly paper of this cashier, at times anything
                            st.sampled_from(mine)
                            if mine and data.draw(st.booleans())
                            else st.integers(lo, hi),
                            label="number",
                        )
                        stock_activate(
                            shift=shift,
                            ticket=free[0],
                            serial=batch.serial_of(n),
                            actor=cashier,
                        )
                        model.use(cashier.pk, code, n)
                event(f"{action} done")
            except DomainError as exc:
                event(f"{action} {exc.code}")
                assert exc.code in {
                    "stock_range_invalid",
                    "stock_overlap",
                    "stock_outside_batch",
                    "stock_not_in_store",
                    "stock_not_issued",
                    "stock_used",
                    "stock_voided",
                    "stock_empty",
                    "stock_not_yours",
                }, exc.code
            # The database is what the model says; the figures add up.
            rows = StockSerial.objects.filter(batch__code__in=codes).values_list(
                "batch__code", "number", "status", "holder_id"
            )
            assert {(b, n): (s, h) for b, n, s, h in rows} == {
                k: v for k, v in model.state.items() if k[0] in codes
            }
            assert stock_report.problems() == []
        event(f"gaps: {bool(model.skipped())} skipped, {bool(model.out_of_order())} out of order")
        skipped: set[tuple[str, int]] = set()
        out_of_order: set[tuple[str, int]] = set()
        for code, (_order, lo, hi) in model.batches.items():
            report = stock_report.batch_report(StockBatch.objects.get(code=code))
            f = report.figures
            assert report.balanced
            assert f.received == hi - lo + 1 == sum(r.count for r in report.runs)
            for status in S.values:
                in_model = sum(
                    1 for (b, _n), (s, _h) in model.state.items() if b == code and s == status
                )
                assert getattr(f, status) == in_model
                assert sum(r.count for r in report.runs if r.status == status) == in_model
            for gap in report.gaps:
                assert gap.kind != "missing"
                into = skipped if gap.kind == "skipped" else out_of_order
                into.update((code, n) for n in range(gap.first, gap.last + 1))
        assert skipped == model.skipped()
        assert out_of_order == model.out_of_order()
        transaction.set_rollback(True)


def test_the_reconciliation_shows_skipped_out_of_order_and_missing_paper(world):
    batch = receive(world, first=1, last=30)
    cashier, admin = world["cashier"], world["admin"]
    stock_issue(batch=batch, first_number=1, last_number=10, cashier=cashier, actor=admin)
    stock_issue(
        batch=batch, first_number=11, last_number=12, cashier=world["cashier2"], actor=admin
    )
    shift = open_shift(cashier)
    tickets = sell(cashier, 3)
    stock_activate(shift=shift, ticket=tickets[0], serial="T0000005", actor=cashier)
    used = stock_use(shift=shift, tickets=tickets[1:], actor=cashier)
    assert [s.number for s in used] == [1, 2]
    stock_void(serial=StockSerial.objects.get(batch=batch, number=20), reason="wet", actor=admin)
    StockSerial.objects.filter(batch=batch, number__in=[28, 29]).delete()  # lost rows
    report = stock_report.batch_report(batch)
    gaps = {(g.kind, g.label) for g in report.gaps}
    assert gaps == {
        ("skipped", "T0000003–T0000004"),
        ("out_of_order", "T0000001"),
        ("out_of_order", "T0000002"),
        ("missing", "T0000028–T0000029"),
    }
    f = report.figures
    rows = StockSerial.objects.filter(batch=batch)
    assert (f.received, f.in_store, f.issued, f.used, f.voided) == (
        batch.last_number - batch.first_number + 1,
        rows.filter(status=S.IN_STORE).count(),
        rows.filter(status=S.ISSUED).count(),
        rows.filter(status=S.USED).count(),
        rows.filter(status=S.VOIDED).count(),
    )
    assert not f.balanced and stock_report.problems() != []  # two rows are missing
    mine = next(c for c in report.cashiers if c.cashier_id == cashier.pk)
    assert (mine.issued, mine.used, mine.held, mine.returned) == (10, 3, 7, 0) and mine.balanced
    with translation.override("en"):
        texts = [r.text for r in report.runs]
    assert f"T0000001–T0000002 used by {cashier}, shift #{shift.pk}" in texts
    assert "T0000020 voided: wet" in texts
    assert [(r.label, r.first_ticket) for r in report.runs if r.first == 5] == [
        ("T0000005", tickets[0].serial)
    ]


# --- Back office ------------------------------------------------------------------------------


def staff(username: str, lang: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(User.objects.get(username=username))
    return client


def receive_form(world, **extra):
    return {
        "code": "WEB-1",
        "site": world["site"].pk,
        "product": "",
        "prefix": "W",
        "first_number": 1,
        "last_number": 300,
        "digits": 7,
        "note": "from the printer",
        **extra,
    }


def test_the_store_receives_a_batch_through_the_add_form(world):
    client = staff("supervisor")
    response = client.post("/admin/boxoffice/stockbatch/add/", receive_form(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = StockBatch.objects.get(code="WEB-1")
    assert StockSerial.objects.filter(batch=batch, status=S.IN_STORE).count() == 300
    assert AuditEntry.objects.filter(verb="stock_receive", actor__username="supervisor").exists()
    # An overlapping batch is refused on the form, which keeps what was typed.
    response = client.post(
        "/admin/boxoffice/stockbatch/add/",
        receive_form(world, code="WEB-2", first_number=250, last_number=400),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already received in another batch" in page and 'value="WEB-2"' in page
    assert not StockBatch.objects.filter(code="WEB-2").exists()
    # The batch's page is read-only and links to its reconciliation.
    page = client.get(f"/admin/boxoffice/stockbatch/{batch.pk}/change/").content.decode()
    assert f"/admin/boxoffice/stockbatch/{batch.pk}/reconciliation/" in page
    assert 'name="_save"' not in page
    # A cashier cannot receive paper.
    assert staff("cashier").get("/admin/boxoffice/stockbatch/add/").status_code == 403


def test_issue_and_return_ranges_through_the_batch_actions(world):
    batch = receive(world, first=1, last=300)
    client = staff("supervisor")
    url = "/admin/boxoffice/stockbatch/"
    pick = {"action": "issue_range", "_selected_action": [batch.pk]}
    page = client.post(url, pick).content.decode()
    assert 'name="cashier"' in page and 'value="1"' in page and 'value="100"' in page
    assert str(world["cashier"]) in page and str(world["finance"]) not in page
    response = client.post(
        url, {**pick, "apply": "1", "first": 1, "last": 120, "cashier": world["cashier"].pk}
    )
    assert response.status_code == 302
    held = StockSerial.objects.filter(batch=batch, holder=world["cashier"], status=S.ISSUED)
    assert held.count() == 120
    # Issuing paper that is not in the store is refused on the form; nothing moves.
    page = client.post(
        url, {**pick, "apply": "1", "first": 100, "last": 130, "cashier": world["cashier2"].pk}
    ).content.decode()
    assert "Only paper in the store can be issued" in page
    assert not StockSerial.objects.filter(holder=world["cashier2"]).exists()
    back = {"action": "return_range", "_selected_action": [batch.pk], "apply": "1"}
    response = client.post(url, {**back, "first": 101, "last": 120})
    assert response.status_code == 302
    assert held.count() == 100
    assert (
        "can be returned" in client.post(url, {**back, "first": 90, "last": 130}).content.decode()
    )
    assert held.count() == 100
    # Finance looks but does not issue.
    finance = staff("finance")
    assert finance.get(url).status_code == 200
    response = finance.post(
        url, {**pick, "apply": "1", "first": 200, "last": 210, "cashier": world["cashier"].pk}
    )
    assert StockSerial.objects.filter(batch=batch, number=200).get().status == S.IN_STORE


def test_paper_is_voided_with_a_reason_from_the_serial_list(world):
    batch = receive(world, first=1, last=20)
    stock_issue(
        batch=batch, first_number=1, last_number=5, cashier=world["cashier"], actor=world["admin"]
    )
    [used] = stock_use(
        shift=open_shift(world["cashier"]), tickets=sell(world["cashier"]), actor=world["cashier"]
    )
    client = staff("supervisor")
    chosen = list(StockSerial.objects.filter(batch=batch, number__in=[used.number, 2, 15]))
    pick = {"action": "void_selected", "_selected_action": [s.pk for s in chosen]}
    url = "/admin/boxoffice/stockserial/"
    page = client.post(url, {**pick, "apply": "1", "reason": ""}).content.decode()
    assert "Say why this paper is voided." in page
    assert not StockSerial.objects.filter(batch=batch, status=S.VOIDED).exists()
    response = client.post(url, {**pick, "apply": "1", "reason": "water damage"}, follow=True)
    assert sorted(
        StockSerial.objects.filter(batch=batch, status=S.VOIDED).values_list("number", flat=True)
    ) == [2, 15]
    assert "cannot be voided" in response.content.decode()  # the used one, refused
    page = client.get(url, {"status": "voided"}).content.decode()
    assert ">T0000002</a>" in page and ">T0000015</a>" in page and ">T0000001</a>" not in page
    assert client.get("/admin/boxoffice/stockmovement/").status_code == 200


def test_the_reconciliation_pages_show_figures_fates_and_gaps(world):
    batch = receive(world, first=1, last=400)
    cashier = world["cashier"]
    stock_issue(batch=batch, first_number=1, last_number=300, cashier=cashier, actor=world["admin"])
    shift = open_shift(cashier)
    tickets = sell(cashier, 3)
    stock_activate(shift=shift, ticket=tickets[0], serial="T0000010", actor=cashier)
    stock_use(shift=shift, tickets=tickets[1:], actor=cashier)
    stock_void(
        serial=StockSerial.objects.get(batch=batch, number=350), reason="torn", actor=world["admin"]
    )
    for n in range(101, 300, 2):  # many different fates: many ranges, more than one page
        stock_void(
            serial=StockSerial.objects.get(batch=batch, number=n),
            reason="damp",
            actor=world["admin"],
        )
    client = staff("finance")
    listing = client.get("/admin/boxoffice/stockbatch/").content.decode()
    assert "/admin/boxoffice/stockbatch/reconciliation/" in listing
    overview = client.get("/admin/boxoffice/stockbatch/reconciliation/").content.decode()
    f = stock_report.batch_figures([batch])[batch.pk]
    row = "".join(f"<td>{n}</td>" for n in (f.received, f.in_store, f.issued, f.used, f.voided))
    assert row in overview
    url = f"/admin/boxoffice/stockbatch/{batch.pk}/reconciliation/"
    page = client.get(url).content.decode()
    assert row in page
    assert f"T0000001–T0000002 used by {cashier}, shift #{shift.pk}" in page
    assert "T0000003–T0000009" in page and "skipped" in page  # passed over for T0000010
    report = stock_report.batch_report(batch)
    pages = -(-len(report.runs) // 100)
    assert pages > 1 and f"page 1 of {pages}" in page
    last = client.get(url, {"p": pages}).content.decode()
    assert "T0000350 voided: torn" in last
    chinese = staff("finance", "zh-hans").get(url)
    assert chinese.status_code == 200
    assert staff("cashier").get(url).status_code == 403


def test_the_demo_has_a_batch_of_blank_paper_issued_to_both_cashiers(demo):
    batch = StockBatch.objects.get(code="R2026-01")
    assert batch.product is None and str(batch) == "R2026-01 (A0000001–A0002000)"
    held = dict(
        StockSerial.objects.filter(batch=batch, status=S.ISSUED)
        .values_list("holder__username")
        .annotate(n=Count("id"))
    )
    assert held == {"cashier": 500, "cashier2": 500}
    assert StockSerial.objects.filter(batch=batch, status=S.IN_STORE).count() == 1000
    first = StockSerial.objects.filter(batch=batch, holder__username="cashier2").order_by("number")
    assert first.first().serial == "A0000501"
    assert stock_report.problems() == [] and stock_report.gaps(batch) == []
