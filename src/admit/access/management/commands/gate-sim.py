"""``admit gate-sim --lane east-1``: a turnstile lane in a terminal.

It reads what a scanner would read — one per line, typed, piped or from ``--file`` — and shows
a large green or red answer with the text and what remains. A line is a ticket code or a medium,
optionally preceded by a direction and a person count::

    AEAQCAAAAAAAAAAB…            a ticket code
    out AEAQCAAAAAAAAAAB…        an exit
    12* AEAQCAAAAAAAAAAB…        twelve persons of a group ticket
    card:04A2B3C4                an RFID/IC card
    id:11010519491231002X        an ID card
    face:fc_9a8b7c6d             a face system's token

Online it asks the server (``--server``, ``--token`` or ``ADMIT_GATE_TOKEN``, a device token of
this lane). When the server cannot be reached it goes on offline with the lane's bundle (fetched
at start and kept in ``--state-dir``), queues what it decided, and uploads the queue as soon as
the server answers again. ``--offline`` never asks the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from admit.access.offline import OfflineLane

GREEN, RED, RESET, BOLD = "\033[42;97m", "\033[41;97m", "\033[0m", "\033[1m"
WIDTH = 64


class ServerDown(Exception):
    pass


class Command(BaseCommand):
    help = "Simulate a turnstile lane in the terminal, online or offline."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--lane", required=True, help="the lane's code, e.g. east-1")
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument("--token", default=os.environ.get("ADMIT_GATE_TOKEN", ""))
        parser.add_argument("--file", help="read scans from this file instead of standard input")
        parser.add_argument("--offline", action="store_true", help="never ask the server")
        parser.add_argument(
            "--state-dir", help="where the bundle and the offline queue are kept (default var/)"
        )
        parser.add_argument("--language", choices=["zh", "en"], default="zh")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.lane_code: str = opts["lane"]
        self.server: str = opts["server"].rstrip("/")
        self.token: str = opts["token"]
        self.language: str = opts["language"]
        self.color = not opts["no_color"]
        state_dir = Path(opts["state_dir"] or settings.DATA_DIR)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.bundle_path = state_dir / f"gate-{self.lane_code}.bundle.json"
        self.state_path = state_dir / f"gate-{self.lane_code}.state.json"
        self.online = not opts["offline"]
        if self.online and not self.token:
            raise CommandError("Give a device token of this lane: --token or ADMIT_GATE_TOKEN.")
        self.offline: OfflineLane | None = None
        self._load_offline()
        if self.online:
            self._refresh_bundle()
        if self.offline is None and not self.online:
            raise CommandError(
                f"No offline bundle for lane {self.lane_code} in {self.bundle_path}: run once "
                "online first (it keeps the bundle), or fetch GET /api/v1/gates/{lane}/"
                "offline-bundle into that file."
            )
        self.stdout.write(
            f"Lane {self.lane_code} · {'online ' + self.server if self.online else 'OFFLINE'}"
            " · one code per line, Ctrl-D to stop"
        )
        with contextlib.ExitStack() as stack:
            source: TextIO = (
                stack.enter_context(open(opts["file"], encoding="utf-8"))
                if opts["file"]
                else sys.stdin
            )
            try:
                for raw in source:
                    text = raw.strip()
                    if text and not text.startswith("#"):
                        self._scan(text)
            finally:
                self._save_state()
        if self.offline is not None and self.offline.queue:
            self.stdout.write(
                f"{len(self.offline.queue)} offline scans wait in {self.state_path} "
                "and are uploaded at the next online run."
            )

    # --- server ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.server}/api/v1{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept-Language": "zh-hans" if self.language == "zh" else "en",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=3) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("error", {})
            raise CommandError(
                f"The server refused: {exc.code} {detail.get('code')}: {detail.get('message')}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ServerDown(str(exc)) from exc

    def _refresh_bundle(self) -> None:
        since = self.offline.cursor if self.offline else 0
        try:
            bundle = self._call("GET", f"/gates/{self.lane_code}/offline-bundle?since={since}")
        except ServerDown:
            self._go_offline("the server does not answer")
            return
        if self.offline is None:
            self.offline = OfflineLane(bundle)
        else:
            self.offline.update(bundle)
        self.bundle_path.write_text(json.dumps(bundle), encoding="utf-8")
        self._upload()

    def _upload(self) -> None:
        if self.offline is None or not self.offline.queue:
            return
        pending = self.offline.pending()
        answer = self._call("POST", f"/gates/{self.lane_code}/scans/batch", {"scans": pending})
        done = {r["scan_id"] for r in answer["results"] if r["status"] != "rejected"}
        self.offline.forget(done)
        counts = ", ".join(f"{n} {status}" for status, n in sorted(answer["counts"].items()))
        self.stdout.write(f"Back online: uploaded {len(pending)} offline scans ({counts}).")
        self._save_state()

    def _go_offline(self, why: str) -> None:
        if self.online:
            self.stdout.write(self.style.WARNING(f"OFFLINE ({why}): deciding with the bundle."))
        self.online = False

    # --- scans ------------------------------------------------------------------------------

    def _scan(self, text: str) -> None:
        direction, persons, code, medium = parse(text)
        if not self.online and self.token:
            try:  # is the server back?
                self._call("POST", f"/gates/{self.lane_code}/heartbeat", {})
                self.online = True
                self._refresh_bundle()
            except ServerDown:
                pass
        if self.online:
            body: dict[str, Any] = {"persons": persons}
            if direction:
                body["direction"] = direction
            if code is not None:
                body["code"] = code
            else:
                assert medium is not None
                body["medium"] = {"type": medium[0], "value": medium[1]}
            try:
                answer = self._call("POST", f"/gates/{self.lane_code}/scans", body)
            except ServerDown:
                self._go_offline("the server stopped answering")
            else:
                self._show(answer["result"], answer["message"], online=True)
                return
        if self.offline is None:
            self._show("deny", "no bundle: cannot decide offline", online=False)
            return
        decision = self.offline.scan(code=code, medium=medium, direction=direction, persons=persons)
        self._show(decision.result, decision.message(self.language), online=False)
        self._save_state()

    def _show(self, result: str, message: str, *, online: bool) -> None:
        allowed = result == "allow"
        mark = ("✔ " if allowed else "✘ ") + ("通行" if allowed else "禁止")
        if self.language == "en":
            mark = ("✔ " if allowed else "✘ ") + ("GO" if allowed else "STOP")
        where = "" if online else "  [offline]"
        lines = ["", f"{mark}   {message}{where}", ""]
        for line in lines:
            padded = pad(f"  {line}", WIDTH)
            if self.color:
                self.stdout.write(f"{GREEN if allowed else RED}{BOLD}{padded}{RESET}")
            else:
                self.stdout.write(("ALLOW" if allowed else "DENY ") + " |" + padded)

    # --- state ----------------------------------------------------------------------------------

    def _load_offline(self) -> None:
        if self.bundle_path.exists():
            self.offline = OfflineLane(json.loads(self.bundle_path.read_text(encoding="utf-8")))
            if self.state_path.exists():
                self.offline.restore(json.loads(self.state_path.read_text(encoding="utf-8")))

    def _save_state(self) -> None:
        if self.offline is not None:
            self.state_path.write_text(json.dumps(self.offline.state()), encoding="utf-8")


def pad(text: str, width: int) -> str:
    """``text`` filled with spaces to ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


def parse(text: str) -> tuple[str | None, int, str | None, tuple[str, str] | None]:
    """``[in|out] [N*]code-or-medium`` → direction, persons, code, medium."""
    direction = None
    parts = text.split(maxsplit=1)
    if len(parts) == 2 and parts[0].lower() in ("in", "out"):
        direction, text = parts[0].lower(), parts[1]
    persons = 1
    if "*" in text[:5]:
        count, _, text = text.partition("*")
        persons = int(count) if count.strip().isdigit() else 0
        text = text.strip()
    kinds = {"card": "card", "id": "id_card", "id_card": "id_card", "face": "face"}
    head, sep, value = text.partition(":")
    if sep and head.lower() in kinds:
        return direction, persons, None, (kinds[head.lower()], value)
    return direction, persons, text, None
