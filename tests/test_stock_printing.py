"""Printing at a window uses the cashier's numbered paper: each first print binds a serial."""

from __future__ import annotations

from typing import Any

import pytest

from admit.accounts.models import User
from admit.boxoffice.models import Shift, ShiftAction, StockBatch, StockSerial, TicketPrint
from admit.boxoffice.selectors import open_shift
from admit.boxoffice.services import Tender, stock_issue, stock_receive, window_sell
from admit.boxoffice.services.printing import tickets_print
from admit.catalog.models import Product
from admit.core.errors import DomainError
from admit.demo.data import cashier_on_shift
from admit.sales.services import LineRequest
from admit.tickets.models import Ticket
from tests.sales_helpers import MON


def _sell(shift: Shift, cashier: User, quantity: int) -> list[Ticket]:
    product = Product.objects.get(code="garden")
    order = window_sell(
        shift=shift,
        actor=cashier,
        lines=[LineRequest(product=product.pk, date=MON, quantity=quantity)],
        tenders=[Tender("cash")],
    )
    return list(Ticket.objects.filter(order=order).order_by("pk"))


@pytest.fixture
def world(demo: None, clock: Any) -> tuple[User, Shift]:
    cashier = cashier_on_shift()
    shift = open_shift(cashier)
    assert shift is not None
    return cashier, shift


def _stock(cashier: User, first: int, last: int, issue_to: int) -> StockBatch:
    admin = User.objects.get(username="admin")
    batch = stock_receive(
        site=Product.objects.get(code="garden").site,
        code=f"T{first}",
        first_number=first,
        last_number=last,
        prefix="T",
        actor=admin,
    )
    stock_issue(batch=batch, first_number=first, last_number=issue_to, cashier=cashier, actor=admin)
    return batch


def test_a_cashier_without_paper_stock_prints_on_plain_paper(world):
    cashier, shift = world
    # The demo issues paper to this cashier: put it back in the store first.
    StockSerial.objects.filter(holder=cashier, status="issued").update(
        status="in_store", holder=None
    )
    tickets = _sell(shift, cashier, 2)
    tickets_print(tickets=tickets, actor=cashier, shift=shift)
    assert list(
        TicketPrint.objects.filter(ticket__in=tickets).values_list("serial", flat=True)
    ) == [
        None,
        None,
    ]


def test_first_prints_take_the_next_serials_and_too_little_paper_refuses(world):
    cashier, shift = world
    StockSerial.objects.filter(holder=cashier, status="issued").delete()  # start from known paper
    _stock(cashier, 9000001, 9000010, 9000003)
    tickets = _sell(shift, cashier, 2)
    tickets_print(tickets=tickets, actor=cashier, shift=shift)
    used = {s.ticket_id: s.serial for s in StockSerial.objects.filter(status="used")}
    assert used == {tickets[0].pk: "T9000001", tickets[1].pk: "T9000002"}
    prints = TicketPrint.objects.filter(ticket__in=tickets).select_related("serial")
    assert {p.ticket_id: p.serial.serial for p in prints} == used
    # A reprint keeps the ticket's serial and takes no new paper.
    tickets_print(tickets=tickets[:1], actor=cashier, shift=shift, reason="jam")
    assert StockSerial.objects.filter(status="used").count() == 2
    # Two more tickets, one serial left: the print is refused and nothing is bound or recorded.
    more = _sell(shift, cashier, 2)
    with pytest.raises(DomainError) as refused:
        tickets_print(tickets=more, actor=cashier, shift=shift)
    assert refused.value.code == "stock_empty"
    assert not TicketPrint.objects.filter(ticket__in=more).exists()
    assert StockSerial.objects.get(serial="T9000003").status == "issued"


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_ticket_printed_at_two_windows_at_once_is_one_first_print_and_one_reprint(clock):
    from tests.conftest import load_demo, run_concurrently

    load_demo()
    cashier = cashier_on_shift()
    shift = open_shift(cashier)
    assert shift is not None
    assert StockSerial.objects.filter(holder=cashier, status="issued").exists()  # paper in hand
    [ticket] = _sell(shift, cashier, 1)
    results = run_concurrently(
        lambda i: tickets_print(
            tickets=[Ticket.objects.get(pk=ticket.pk)], actor=cashier, shift=shift, reason="again"
        ),
        2,
    )
    assert all(isinstance(r, bytes) for r in results), results
    kinds = sorted(TicketPrint.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == sorted([TicketPrint.Kind.FIRST, TicketPrint.Kind.REPRINT])
    assert StockSerial.objects.filter(ticket=ticket).count() == 1  # one sheet of paper
    assert ShiftAction.objects.filter(ticket=ticket, kind=ShiftAction.Kind.REPRINT).count() == 1
