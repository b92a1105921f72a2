from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from admit.inventory.services import allocations_release_due
from admit.sales.services import holds_expire


class Command(BaseCommand):
    help = "End unpaid orders whose holds have run out, and let due channel allocations fall back."

    def handle(self, *args: Any, **opts: Any) -> None:
        ended = holds_expire()
        released = allocations_release_due()
        self.stdout.write(
            f"Ended {ended} unpaid order(s); {released} allocation(s) fell back to the shared part."
        )
