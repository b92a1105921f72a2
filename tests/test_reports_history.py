"""``admit gen-history`` and ``admit bench reports`` on a tiny history of the demo venue.

The history's rows must agree with everything that checks rows: the report aggregates
(``admit check-reports``), money and ledgers (``admit check-money``) and capacity
(``admit check-capacity``)."""

from __future__ import annotations

import datetime as dt
import random
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from admit.access.models import Scan
from admit.catalog.models import Site
from admit.customers.selectors import ledger_problems
from admit.inventory.models import Pool
from admit.reports.catalog import REPORTS
from admit.reports.checks import report_problems
from admit.reports.history import load_venue
from admit.reports.history.plan import COLUMNS, Ids, Planner, PoolInfo
from admit.reports.history.write import PostgresWriter
from admit.reports.models import EntryHour, OriginDay, SalesDay
from admit.sales.checks import capacity_problems, money_problems
from admit.sales.models import Order, Refund
from admit.tickets.models import Ticket

END = dt.date(2026, 11, 20)
DAYS = [END - dt.timedelta(days=i) for i in range(3)]


def gen_history(seed: int = 7) -> str:
    out = StringIO()
    call_command("gen-history", days=3, per_day=200, end=END, seed=seed, stdout=out)
    return out.getvalue()


def everything_adds_up() -> None:
    assert report_problems() == []
    assert money_problems() == []
    assert ledger_problems() == []
    assert capacity_problems() == []


@pytest.mark.django_db(transaction=False)
def test_a_tiny_history_adds_up_everywhere(demo: None) -> None:
    out = gen_history()
    assert "day 3/3 2026-11-20" in out and "admit check-reports" in out

    orders = Order.objects.filter(code__startswith="H2611")
    assert orders.count() > 100
    assert {o.channel.code for o in orders.select_related("channel")} >= {"window", "online"}
    tickets = Ticket.objects.filter(valid_from__in=DAYS).select_related("product")
    visitors = sum(t.persons for t in tickets.exclude(product__code__in=["garden", "show"]))
    assert 500 < visitors < 900  # 3 days of 200 on average
    assert tickets.filter(status=Ticket.Status.REFUNDED).exists()
    assert Refund.objects.exists()
    scans = Scan.objects.filter(ticket__in=tickets)
    assert 1.0 < scans.count() / tickets.count() < 1.4
    assert scans.filter(result=Scan.Result.DENY).exists()
    assert scans.filter(direction="out").exists()
    assert Pool.objects.filter(date__in=DAYS, sold__gt=0).exists()
    # the aggregates were rebuilt from the rows
    assert SalesDay.objects.filter(day__in=DAYS).exists()
    assert EntryHour.objects.filter(day__in=DAYS).exists()
    assert OriginDay.objects.exclude(province="").exists()
    everything_adds_up()


@pytest.mark.django_db(transaction=False)
def test_a_second_run_over_the_same_days_adds_to_them(demo: None) -> None:
    gen_history()
    first = Order.objects.count()
    gen_history(seed=8)
    assert Order.objects.count() > first * 1.8
    everything_adds_up()


@pytest.mark.django_db(transaction=False)
def test_the_same_seed_plans_the_same_day(demo: None) -> None:
    site = Site.objects.get(code="yunling")
    venue = load_venue(site, END, END)
    pools = {
        z: [PoolInfo(id=1000 + i, start=8 * 3600, end=9 * 3600, returns_on_refund=True)]
        for i, z in enumerate(venue.templates)
    }

    def plan() -> dict[str, list[tuple[Any, ...]]]:
        counter = iter(range(1, 10**6))
        ids = Ids(lambda _table, n: [next(counter) for _ in range(n)])
        rows = Planner(venue).day(
            day=END,
            visitors=300,
            rng=random.Random("same"),
            ids=ids,
            pools=pools,
            order_seq=0,
            ticket_seq=0,
        )
        return dict(rows.rows)

    assert plan() == plan()


@pytest.mark.django_db(transaction=False)
def test_bench_reports_prints_a_line_per_report_and_grouping(demo: None) -> None:
    gen_history()
    out = StringIO()
    call_command("bench", "reports", days=3, repeat=1, end=END, stdout=out)
    text = out.getvalue()
    for code, report in REPORTS.items():
        for group in ["-", *(g for g, _label in report.groups)]:
            assert re.search(rf"^  {code} +{group} +[\d,]+ +[\d.]+ +[\d.]+ +\d+", text, re.M), (
                code,
                group,
            )
    assert "report runs; slowest" in text
    assert "admit check-reports (all days)" in text and "0 problem(s)" in text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY loading is PostgreSQL's")
@pytest.mark.django_db(transaction=False)
def test_a_postgres_load_checks_every_foreign_key_of_its_rows(demo: None) -> None:
    site = Site.objects.get(code="yunling")
    writer = PostgresWriter()
    now = timezone.now()
    missing = pytest.raises(IntegrityError, match="ticket_id point at no tickets_ticket row")
    with missing, transaction.atomic():
        writer.start_batch()
        [pk] = writer.take_ids("revocation", 1)
        row = (pk, 10**12, site.pk, "refunded", END, now)  # no such ticket
        writer.write("revocation", COLUMNS["revocation"], [row])
        writer.finish_batch()
