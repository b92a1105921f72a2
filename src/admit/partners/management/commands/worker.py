"""``admit worker``: deliver the outbox (partners' notices) with retries and backoff.

Without Redis it scans the table every ``--sleep`` seconds when idle. With ``ADMIT_REDIS_URL``
it waits on Redis for the ids of newly committed messages (delivered at once) and scans the table
every ``--scan-interval`` seconds for the rest: retries that came due, and messages whose wake-up
Redis lost. If Redis goes away, it falls back to scanning every ``--sleep`` seconds.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from admit.partners.connectors import seen_requests_purge
from admit.partners.services import Delivery, outbox_run, wakeup


class Command(BaseCommand):
    help = "Deliver queued outbox messages to partners (retries with backoff; dead letters)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--batch", type=int, default=20, help="messages per round")
        parser.add_argument(
            "--sleep", type=float, default=2.0, help="seconds between table scans without Redis"
        )
        parser.add_argument(
            "--scan-interval",
            type=float,
            default=30.0,
            help="seconds between table scans while Redis wakes the worker",
        )
        parser.add_argument(
            "--rounds", type=int, default=0, help="stop after this many rounds (0: run on)"
        )
        parser.add_argument("--name", default=None, help="this worker's name in leases")

    def handle(self, *args: Any, **opts: Any) -> None:
        def log(d: Delivery) -> None:
            if d.ok:
                self.stdout.write(f"delivered #{d.message} (HTTP {d.status})")
            elif d.dead:
                self.stdout.write(f"dead letter #{d.message}: {d.error}")
            else:
                self.stdout.write(f"will retry #{d.message}: {d.error}")

        total = rounds = 0
        batch = opts["batch"]
        woken: list[int] | None = None  # ids from Redis; None: scan the table
        last_scan = 0.0
        while True:
            rounds += 1
            if woken:
                done = outbox_run(worker=opts["name"], limit=batch, log=log, ids=woken)
            else:
                done = outbox_run(worker=opts["name"], limit=batch, log=log)
                last_scan = time.monotonic()
                seen_requests_purge()
            total += len(done)
            if opts["once"] or (opts["rounds"] and rounds >= opts["rounds"]):
                self.stdout.write(f"{total} message(s) handled")
                return
            if woken is None and len(done) >= batch:
                continue  # a full batch from the table: there may be more
            connections.close_all()
            until_scan = opts["scan_interval"] - (time.monotonic() - last_scan)
            woken = wakeup.wait(timeout=until_scan, batch=batch) if until_scan > 0 else []
            if woken is None:  # no Redis (or unreachable): poll the table
                time.sleep(opts["sleep"])
            elif not woken:
                woken = None  # the scan is due
