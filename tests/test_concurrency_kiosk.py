"""The kiosk prints a ticket once, also when kiosks (or two taps on one screen) ask at the same
instant, on the real database."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.utils import timezone

from admit.accounts.models import User
from admit.boxoffice.models import Terminal, TicketPrint
from admit.boxoffice.services import kiosk as kiosk_services
from admit.boxoffice.services import kiosk_lookup, kiosk_pickup_print
from admit.catalog.models import Site
from admit.core.errors import DomainError
from admit.core.services import model_save
from admit.sales.services.orders import site_today
from tests.conftest import run_concurrently
from tests.sales_helpers import pay_cash, place, product

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

N = 6


def test_kiosks_racing_to_print_one_booking_print_it_once(
    demo: None, clock: Any, api: Any, monkeypatch: Any
) -> None:
    site = Site.objects.get(code="yunling")
    day = site_today(site, timezone.now()).isoformat()
    adult = product("adult")
    slot = next(
        s["slot"]
        for s in api.get(
            "/api/v1/availability", {"product": adult.pk, "date": day, "channel": "online"}
        ).json()
        if s["available"]
    )
    order = place(
        api, [{"product": adult.pk, "date": day, "quantity": 2, "slot": slot}], channel="online"
    )
    pay_cash(api, order["code"])
    kiosks = [
        Terminal.objects.get(code="kiosk-1"),
        model_save(
            instance=Terminal(code="kiosk-2", name="kiosk 2", site=site, kind=Terminal.Kind.KIOSK),
            actor=User.objects.get(username="admin"),
        ),
    ]
    # Each kiosk found the booking; its visitor (and another at the next kiosk) press "print".
    grants = [kiosk_lookup(terminal=k, by="code", value=order["code"]).grant for k in kiosks]

    # The print is slowed down, so that every press arrives before the first is recorded.
    draw = kiosk_services.tickets_print

    def slow_draw(**kwargs: Any) -> bytes:
        time.sleep(0.3)
        return draw(**kwargs)

    monkeypatch.setattr(kiosk_services, "tickets_print", slow_draw)
    results = run_concurrently(
        lambda i: kiosk_pickup_print(terminal=kiosks[i % 2], grant=grants[i % 2]), N
    )
    printed = [r for r in results if isinstance(r, bytes)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(printed) == 1 and len(refused) == N - 1, results
    assert {e.code for e in refused} == {"already_printed"}
    rows = TicketPrint.objects.filter(ticket__order__code=order["code"])
    assert rows.count() == 2 and {r.kind for r in rows} == {TicketPrint.Kind.FIRST}
