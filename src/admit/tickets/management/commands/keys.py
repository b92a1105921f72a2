"""``admit keys list|rotate|retire N``: the Ed25519 keys that sign ticket codes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from admit.core.errors import DomainError
from admit.tickets.keys import key_retire, key_rotate
from admit.tickets.models import SigningKey


class Command(BaseCommand):
    help = "List, rotate or retire the keys that sign ticket codes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["list", "rotate", "retire"])
        parser.add_argument("key_id", nargs="?", type=int, help="the key to retire")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "rotate":
            key = key_rotate(actor=None)
            self.stdout.write(
                self.style.SUCCESS(f"Key {key.key_id} now signs new tickets.")
                + " Codes signed with older keys keep verifying until those are retired."
            )
        elif action == "retire":
            if opts["key_id"] is None:
                raise CommandError("Say which key to retire: admit keys retire N")
            try:
                key = key_retire(key_id=opts["key_id"], actor=None)
            except DomainError as exc:
                raise CommandError(str(exc.message)) from exc
            self.stdout.write(
                f"Key {key.key_id} retired: codes signed with it are now refused at the gates."
            )
        keys = list(SigningKey.objects.all())
        if not keys:
            self.stdout.write("No signing keys yet: the first is made when a ticket is issued.")
            return
        self.stdout.write(f"{'key':>4}  {'state':<9}  created           public key (base64)")
        for k in keys:
            state = "retired" if k.retired_at else ("current" if k.is_current else "verifies")
            self.stdout.write(
                f"{k.key_id:>4}  {state:<9}  {k.created_at:%Y-%m-%d %H:%M}  {k.public_key_b64}"
            )
