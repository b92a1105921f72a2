"""Helpers for partner tests: a real HTTP receiver on the loopback address, in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from admit.partners.models import Partner


class Receiver:
    """Records every POST (headers and JSON body); answers ``status`` (a list is used in turn)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/notices"

    def ids(self) -> list[str]:
        return [r["headers"].get("Admit-Message-Id", "") for r in self.requests]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(
                        {"headers": dict(self.headers), "raw": raw, "body": json.loads(raw)}
                    )
                self.send_response(status)
                if 300 <= status < 400:  # a redirect back to itself
                    self.send_header("Location", receiver.url)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    r = Receiver(statuses)
    r.server = ThreadingHTTPServer(("127.0.0.1", 0), r.handler())
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        thread.join(timeout=5)


def point_at(partner_code: str, url: str) -> Partner:
    partner = Partner.objects.get(code=partner_code)
    Partner.objects.filter(pk=partner.pk).update(webhook_url=url)
    partner.webhook_url = url
    return partner
