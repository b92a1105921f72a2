"""``admit device-token east-1``: a bearer token for the device of a lane (to set up a gate)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from admit.accounts.models import Device
from admit.accounts.services import token_create


class Command(BaseCommand):
    help = "Make an API token for the gate device bound to a lane and print it (shown once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("lane", help="the lane's code, e.g. east-1")
        parser.add_argument("--days", type=int, default=365, help="lifetime (default 365)")

    def handle(self, *args: Any, **opts: Any) -> None:
        device = Device.objects.filter(lane__code=opts["lane"], is_active=True).first()
        if device is None:
            raise CommandError(
                f"No active device is bound to lane {opts['lane']!r}: add one in the back office "
                "(Staff → Devices) and choose its lane."
            )
        _token, secret = token_create(
            actor=None, device=device, name="admit device-token", days=opts["days"]
        )
        self.stdout.write(secret)
