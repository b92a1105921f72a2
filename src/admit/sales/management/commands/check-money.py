from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from admit.customers.selectors import ledger_problems
from admit.sales.checks import money_problems


class Command(BaseCommand):
    help = "Check that every money counter equals the orders, tickets and ledgers behind it."

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write("Checking money …")
        problems = money_problems()
        self.stdout.write("Checking account ledgers, points and statements …")
        problems += ledger_problems()
        for p in problems:
            self.stdout.write(self.style.ERROR(p))
        if problems:
            self.stdout.write(self.style.ERROR(f"{len(problems)} problem(s)."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("OK: everything adds up."))
