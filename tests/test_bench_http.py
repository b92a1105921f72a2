"""Sixteen buyers in flight over HTTP against a real gunicorn server on the embedded SQLite.

This is `admit bench sales` with small numbers: immediate write transactions and a busy timeout
must make writers wait their turn — not one "database is locked", not one 500, no oversell.
"""

from __future__ import annotations

import os

import pytest

from admit.demo.bench import run_sales


@pytest.mark.concurrency
def test_sixteen_http_buyers_on_sqlite_get_no_error_and_never_oversell():
    if os.environ.get("ADMIT_DATABASE_URL"):
        pytest.skip("runs once, with the SQLite pass (it makes its own database)")
    result = run_sales(
        database="sqlite", buyers=16, places=60, workers=2, threads=2, say=lambda _m: None
    )
    assert result.errors == 0, result.lines()
    assert result.server_errors == 0 and result.locked_errors == 0
    assert result.paid == 60
    assert result.sold_in_pool == 60 and result.oversold == 0
    assert result.sold_out >= 16  # more buyers than places came, and were refused
    assert result.check_capacity_ok


@pytest.mark.concurrency
def test_sixteen_http_scanners_on_sqlite_admit_each_ticket_once():
    """`admit bench gates` with small numbers: every ticket once, no error, no second entry."""
    if os.environ.get("ADMIT_DATABASE_URL"):
        pytest.skip("runs once, with the SQLite pass (it makes its own database)")
    from admit.demo.bench_gates import run_gates, run_offline

    result, kept = run_gates(
        database="sqlite", scanners=16, tickets=200, workers=2, threads=2, say=lambda _m: None
    )
    assert result.errors == 0, result.lines()
    assert (result.allowed, result.denied) == (200, 0)
    assert result.second_scans > 0 and result.second_allowed == 0
    offline = run_offline(kept)
    assert "allowed 200 of 200; second scans allowed: 0 of 100" in offline[1]
