"""The offline verifier: what gate software embeds to keep admitting when the network is down.

No Django: it needs only ``cryptography`` and three modules of this package (the ticket-code
codec, the access decision and the entry rules). Give it the lane's offline bundle
(``GET /api/v1/gates/{lane}/offline-bundle``); it verifies codes with the public keys, refuses
revoked tickets, judges each scan with the same ``decide`` the server uses, remembers what each
ticket used at this lane, and queues every scan for ``POST /api/v1/gates/{lane}/scans/batch``.

    lane = OfflineLane(bundle)
    decision = lane.scan(code=text)          # or medium=("card", "04A2…")
    ...
    upload(lane.pending())                   # when the network is back
    lane.forget(ids_the_server_acknowledged)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
import zoneinfo
from dataclasses import asdict, dataclass
from typing import Any

from admit.tickets import codec

from .decision import Decision, Reason, Scan, Usage, decide
from .rules import LaneConfig, ProductRule, SiteDay, TicketFacts, right_for


def medium_digest(kind: str, value: str) -> str:
    """How a bundle names a medium: a hash, so that ID numbers never travel to gates in clear."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def normalize_medium(kind: str, value: str) -> str:
    text = value.strip()
    if kind == "card":
        return text.replace(":", "").replace(" ", "").upper()
    if kind == "id_card":
        return text.upper().replace(" ", "")
    return text


@dataclass
class PendingScan:
    scan_id: str
    direction: str
    persons: int
    scanned_at: dt.datetime
    result: str
    reason: str
    code: str | None = None
    medium: tuple[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scan_id": self.scan_id,
            "direction": self.direction,
            "persons": self.persons,
            "scanned_at": self.scanned_at.isoformat(),
            "result": self.result,
            "reason": self.reason,
        }
        if self.code is not None:
            out["code"] = self.code
        if self.medium is not None:
            out["medium"] = {"type": self.medium[0], "value": self.medium[1]}
        return out


class OfflineLane:
    """One lane judging scans on its own, from a bundle."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.lane = LaneConfig.from_json(bundle["lane"])
        self.tz = zoneinfo.ZoneInfo(self.lane.time_zone)
        self.keys: dict[int, Any] = {}
        self.products: dict[int, ProductRule] = {}
        self.calendar: dict[dt.date, SiteDay] = {}
        self.revoked: set[int] = set()
        self.media: dict[str, list[str]] = {}
        self.cursor = 0
        self.usage: dict[int, Usage] = {}
        self.queue: list[PendingScan] = []
        self.update(bundle)

    def update(self, bundle: dict[str, Any]) -> None:
        """Take a newer bundle: keys, rules and media are replaced, revocations added."""
        self.lane = LaneConfig.from_json(bundle["lane"])
        self.keys = {
            int(k["key_id"]): codec.public_key_from_bytes(base64.b64decode(k["public_key"]))
            for k in bundle["keys"]
        }
        self.products = {int(k): ProductRule.from_json(v) for k, v in bundle["products"].items()}
        self.calendar = {
            dt.date.fromisoformat(k): SiteDay.from_json(v) for k, v in bundle["calendar"].items()
        }
        self.revoked.update(int(t) for t in bundle["revocations"])
        self.revoked.difference_update(int(t) for t in bundle.get("reinstated", ()))
        if "media" in bundle:
            self.media = {m["digest"]: m["codes"] for m in bundle["media"]}
        self.cursor = max(self.cursor, int(bundle.get("cursor", 0)))

    def _day(self, day: dt.date) -> SiteDay:
        # A day beyond the bundle: judge with no calendar closure and no hours.
        return self.calendar.get(day, SiteDay())

    def _facts(self, claims: codec.TicketClaims) -> TicketFacts:
        return TicketFacts(
            id=claims.ticket_id,
            site_id=claims.site_id,
            product_id=claims.product_id,
            persons=claims.persons,
            valid_from=claims.valid_from,
            valid_until=claims.valid_until,
            slot_start=claims.slot_start,
            slot_end=claims.slot_end,
            status="voided" if claims.ticket_id in self.revoked else "valid",
        )

    def _judge_code(self, code: str, scan: Scan, kind: str = "qr") -> tuple[Decision, int | None]:
        rules = self.lane.rules(self._day(scan.at.date()))
        try:
            claims = codec.decode(code, self.keys)
        except codec.CodeError as exc:
            return decide(rules, None, Usage(), scan, Reason(exc.reason)), None
        product = self.products.get(claims.product_id)
        if kind != "qr" and (product is None or kind not in product.media):
            return decide(rules, None, Usage(), scan, Reason.MEDIUM_NOT_ALLOWED), None
        right = right_for(self._facts(claims), product, self.lane.zone_key)
        usage = self.usage.get(claims.ticket_id, Usage())
        return decide(rules, right, usage, scan), claims.ticket_id

    def scan(
        self,
        *,
        code: str | None = None,
        medium: tuple[str, str] | None = None,
        direction: str | None = None,
        persons: int = 1,
        at: dt.datetime | None = None,
        now: dt.datetime | None = None,
    ) -> Decision:
        """Judge one scan, remember what it used, and queue it for upload."""
        now = (now or dt.datetime.now(dt.UTC)).astimezone(self.tz)
        at = (at or now).astimezone(self.tz)
        lane_direction = self.lane.direction
        direction = direction or (lane_direction if lane_direction != "both" else "in")
        scan = Scan(direction=direction, persons=persons, at=at, now=now)
        if code is not None:
            decision, ticket_id = self._judge_code(code, scan)
        elif medium is not None:
            kind, value = medium[0], normalize_medium(medium[0], medium[1])
            medium = (kind, value)
            codes = self.media.get(medium_digest(kind, value), [])
            judged = [self._judge_code(c, scan, kind) for c in codes]
            if not judged:
                rules = self.lane.rules(self._day(at.date()))
                judged = [(decide(rules, None, Usage(), scan, Reason.UNKNOWN_MEDIUM), None)]
            decision, ticket_id = next(((d, t) for d, t in judged if d.allowed), judged[0])
        else:
            raise ValueError("a scan needs a code or a medium")
        if decision.allowed and decision.usage is not None and ticket_id is not None:
            self.usage[ticket_id] = decision.usage
        self.queue.append(
            PendingScan(
                scan_id=uuid.uuid4().hex,
                direction=direction,
                persons=persons,
                scanned_at=at,
                result=decision.result,
                reason=str(decision.reason),
                code=code,
                medium=medium if code is None else None,
            )
        )
        return decision

    def state(self) -> dict[str, Any]:
        """What the lane must remember across restarts: usage, revocations, the queue."""
        return {
            "cursor": self.cursor,
            "revoked": sorted(self.revoked),
            "usage": {
                str(k): {**asdict(u), "day": u.day.isoformat() if u.day else None}
                for k, u in self.usage.items()
            },
            "queue": self.pending(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.cursor = max(self.cursor, int(state.get("cursor", 0)))
        self.revoked.update(int(t) for t in state.get("revoked", []))
        for k, u in state.get("usage", {}).items():
            day = dt.date.fromisoformat(u["day"]) if u.get("day") else None
            self.usage[int(k)] = Usage(**{**u, "day": day})
        self.queue = [
            PendingScan(
                scan_id=p["scan_id"],
                direction=p["direction"],
                persons=int(p["persons"]),
                scanned_at=dt.datetime.fromisoformat(p["scanned_at"]),
                result=p["result"],
                reason=p["reason"],
                code=p.get("code"),
                medium=(p["medium"]["type"], p["medium"]["value"]) if p.get("medium") else None,
            )
            for p in state.get("queue", [])
        ]

    def pending(self) -> list[dict[str, Any]]:
        return [p.as_json() for p in self.queue]

    def forget(self, scan_ids: set[str]) -> None:
        """Drop scans the server acknowledged (recorded, duplicate or conflict)."""
        self.queue = [p for p in self.queue if p.scan_id not in scan_ids]
