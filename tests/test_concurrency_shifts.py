"""Shifts under real concurrency: one open shift per terminal and per cashier, on every database."""

from __future__ import annotations

import pytest

from admit.accounts.models import User
from admit.accounts.services import user_create
from admit.boxoffice.errors import ShiftAlreadyOpen
from admit.boxoffice.models import Shift, Terminal
from admit.boxoffice.services import shift_open
from tests.conftest import load_demo, run_concurrently

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

N = 6


def test_racing_cashiers_open_one_shift_per_terminal_and_one_per_cashier():
    load_demo()
    cashiers = [
        user_create(username=f"c{i}", password="x-long-password-1", roles=["cashier"], actor=None)
        for i in range(N)
    ]
    window = Terminal.objects.get(code="window-1")

    def one_terminal(i: int) -> Shift:
        return shift_open(
            terminal=window, cashier=cashiers[i], opening_float="100", actor=cashiers[i]
        )

    results = run_concurrently(one_terminal, N)
    opened = [r for r in results if isinstance(r, Shift)]
    assert len(opened) == 1, results
    assert all(isinstance(r, ShiftAlreadyOpen) for r in results if not isinstance(r, Shift))

    # One cashier racing to open at several windows at once gets one shift.
    terminals = [
        Terminal.objects.create(code=f"w{i}", name=f"W{i}", site=window.site) for i in range(N)
    ]
    solo = User.objects.get(username="cashier")

    def one_cashier(i: int) -> Shift:
        return shift_open(terminal=terminals[i], cashier=solo, opening_float="0", actor=solo)

    results = run_concurrently(one_cashier, N)
    assert len([r for r in results if isinstance(r, Shift)]) == 1, results
    assert Shift.objects.filter(status="open").count() == 2
