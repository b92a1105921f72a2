"""Internal to ``admit bench gates``: sell the tickets the benchmark scans. Prints JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from admit.access.selectors import lane_config, local_now, offline_bundle
from admit.accounts.models import Device
from admit.accounts.services import token_create
from admit.catalog.models import Lane, Product
from admit.catalog.services import lane_save
from admit.demo.data import cashier_on_shift, demo_load
from admit.sales.models import PaymentMethod
from admit.sales.services import LineRequest, order_pay, order_place
from admit.tickets.models import Ticket

LANE = "garden-1"
PER_ORDER = 100


class Command(BaseCommand):
    help = "Internal to `admit bench gates`: sell tickets for today and write their codes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tickets", type=int, default=5000)
        parser.add_argument("--out", required=True, help="folder for codes.json and bundle.json")

    def handle(self, *args: Any, **opts: Any) -> None:
        demo_load()
        cashier = cashier_on_shift()
        lane = Lane.objects.get(code=LANE)
        lane.enforce_hours = False  # the benchmark runs at any hour
        lane_save(instance=lane, actor=None)
        product = Product.objects.get(code="garden")
        today = local_now(lane_config(LANE).time_zone).date()
        left = opts["tickets"]
        while left > 0:
            n = min(left, PER_ORDER)
            order = order_place(
                channel="window",
                lines=[LineRequest(product=product.pk, date=today, quantity=n)],
                actor=cashier,
            )
            order_pay(order=order, method=PaymentMethod.CASH, amount=None, actor=cashier)
            left -= n
            sys.stderr.write(f"\r  sold {opts['tickets'] - left}/{opts['tickets']} tickets")
        sys.stderr.write("\n")
        out = Path(opts["out"])
        codes = list(Ticket.objects.filter(product=product).values_list("code", flat=True))
        (out / "codes.json").write_text(json.dumps(codes))
        (out / "bundle.json").write_text(json.dumps(offline_bundle(lane=lane_config(LANE))))
        _token, secret = token_create(
            actor=None, device=Device.objects.get(lane=lane), name="bench", days=1
        )
        self.stdout.write(json.dumps({"token": secret, "lane": LANE, "tickets": len(codes)}))
