"""``admit worker``: deliver the outbox (partners' notices) with retries and backoff."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from admit.partners.connectors import seen_requests_purge
from admit.partners.services import Delivery, outbox_run


class Command(BaseCommand):
    help = "Deliver queued outbox messages to partners (retries with backoff; dead letters)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--batch", type=int, default=20, help="messages per round")
        parser.add_argument("--sleep", type=float, default=2.0, help="seconds between rounds")
        parser.add_argument("--name", default=None, help="this worker's name in leases")

    def handle(self, *args: Any, **opts: Any) -> None:
        def log(d: Delivery) -> None:
            if d.ok:
                self.stdout.write(f"delivered #{d.message} (HTTP {d.status})")
            elif d.dead:
                self.stdout.write(f"dead letter #{d.message}: {d.error}")
            else:
                self.stdout.write(f"will retry #{d.message}: {d.error}")

        total = 0
        while True:
            done = outbox_run(worker=opts["name"], limit=opts["batch"], log=log)
            seen_requests_purge()
            total += len(done)
            if opts["once"]:
                self.stdout.write(f"{total} message(s) handled")
                return
            if not done:
                connections.close_all()
                time.sleep(opts["sleep"])
