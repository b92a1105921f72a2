"""Set up (or report on) the hot slot that ``admit bench sales`` sells out. Prints JSON."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand

from admit.accounts.services import token_create
from admit.catalog.models import Product
from admit.demo.data import cashier_on_shift, demo_load
from admit.inventory.models import Allocation, Pool
from admit.inventory.services import pools_ensure


class Command(BaseCommand):
    help = "Internal to `admit bench`: prepare the benchmark's hot slot, or report on it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--places", type=int, default=2000)
        parser.add_argument("--report", type=int, help="print the sold count of this pool")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["report"]:
            pool = Pool.objects.get(pk=opts["report"])
            self.stdout.write(json.dumps({"sold": pool.sold, "held": pool.held}))
            return
        demo_load()
        product = Product.objects.get(code="adult")
        day = dt.date.today() + dt.timedelta(days=7)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        pools_ensure(site=product.site, day=day)
        pool = Pool.objects.get(zone__code="main", date=day, start=dt.time(9, 30))
        Allocation.objects.filter(pool=pool).delete()
        Pool.objects.filter(pk=pool.pk).update(capacity=opts["places"], reserved=0)
        cashier = cashier_on_shift()
        _token, secret = token_create(actor=None, user=cashier, name="bench", days=1)
        self.stdout.write(
            json.dumps(
                {"token": secret, "product": product.pk, "slot": pool.pk, "date": day.isoformat()}
            )
        )
