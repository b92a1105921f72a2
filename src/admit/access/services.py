"""Access control writes: judge and record a scan, upload offline scans, set a lane's mode,
record heartbeats, resolve offline conflicts.

A redemption is a compare-and-set: the ticket's usage row is read, the pure ``decide`` judges
the scan, and ``UPDATE usage … WHERE id = :id AND version = :v`` stores the new usage. A second
lane that read the same version updates nothing and judges again with what the first stored,
so the same entry is never spent twice, on any database. The ticket row is then updated with
``… WHERE status IN ('valid', 'used')`` so that a refund racing the scan wins or loses whole.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Lane
from admit.catalog.services import lane_save
from admit.core import hooks
from admit.core.errors import Conflict as ConflictError
from admit.core.errors import NotFound, ValidationFailed
from admit.core.services import audit_record
from admit.core.sql import insert
from admit.tickets import codec
from admit.tickets.keys import public_keys
from admit.tickets.models import TicketMedium
from admit.tickets.services import medium_normalize

from . import selectors, sql
from .decision import ALLOW, DENY, Decision, Reason, Scan, Usage, decide
from .models import Conflict, LaneStatus
from .models import Scan as ScanRow
from .models import Usage as UsageRow
from .rules import LaneConfig, right_for

MAX_ATTEMPTS = 8
MEDIA = TicketMedium.Kind.values


class ScanBusy(ConflictError):
    code = "scan_busy"
    default_message = _("The ticket is being scanned elsewhere at this moment; scan again.")


class ConflictNotFound(NotFound):
    code = "conflict_not_found"
    default_message = _("No such offline conflict.")


@dataclass(frozen=True)
class ScanRequest:
    code: str | None = None
    medium_kind: str | None = None
    medium_value: str | None = None
    direction: str | None = None  # default: the lane's direction ("in" on a two-way lane)
    persons: int = 1
    scan_id: str | None = None
    scanned_at: dt.datetime | None = None
    offline_result: str | None = None  # uploads: what the lane decided offline
    offline_reason: str | None = None


@dataclass(frozen=True)
class ScanOutcome:
    decision: Decision
    ticket_id: int | None
    scanned_at: dt.datetime
    replayed: bool = False
    conflict: bool = False

    def as_json(self, language: str) -> dict[str, Any]:
        d = self.decision
        return {
            "result": d.result,
            "reason": str(d.reason),
            "message": d.message(language),
            "voice": d.voice(language),
            "persons": d.persons,
            "remaining": d.remaining,
            "remaining_today": d.remaining_today,
            "ticket": self.ticket_id,
            "scanned_at": self.scanned_at.isoformat(),
            "replayed": self.replayed,
        }


class _Retry(Exception):
    """Another lane changed the ticket between our read and our write: judge again."""


def _usage(row: dict[str, Any] | None) -> Usage:
    if row is None:
        return Usage()
    return Usage(
        used=row["used"],
        inside=row["inside"],
        day=row["day"],
        day_entries=row["day_entries"],
        out_today=row["out_today"],
    )


def _replay(stored: ScanRow) -> ScanOutcome:
    decision = Decision(
        stored.result,
        stored.reason_enum,
        persons=stored.admitted,
        remaining=stored.remaining,
        remaining_today=stored.remaining_today,
    )
    return ScanOutcome(
        decision=decision,
        ticket_id=stored.ticket_id,
        scanned_at=stored.scanned_at,
        replayed=True,
    )


def _candidates(
    lane: LaneConfig, req: ScanRequest, day: dt.date
) -> tuple[list[int], codec.TicketClaims | None, Reason | None, str]:
    """The tickets a scan leads to (their ids), the code's claims, or the reason it leads
    nowhere, and what was presented (for the scan log)."""
    if req.code is not None:
        presented = req.code.strip()[:24]
        try:
            claims = codec.decode(req.code, public_keys())
        except codec.CodeError as exc:
            return [], None, Reason(exc.reason), presented
        return [claims.ticket_id], claims, None, presented
    kind = req.medium_kind or ""
    try:
        value = medium_normalize(kind, req.medium_value or "")
    except ValidationFailed:
        return [], None, Reason.MALFORMED, ""
    ids = selectors.tickets_by_medium(kind=kind, value=value, site_id=lane.site_id, day=day)
    return ids, None, (None if ids else Reason.UNKNOWN_MEDIUM), TicketMedium(value=value).masked


def scan_redeem(
    *,
    lane: LaneConfig,
    request: ScanRequest,
    device_id: int | None = None,
    operator_id: int | None = None,
) -> ScanOutcome:
    """Judge one scan at a lane and record it; allowed entries are spent exactly once."""
    if (request.code is None) == (request.medium_kind is None):
        raise ValidationFailed(
            _("Send either a ticket code or a medium."), code="code_or_medium_required"
        )
    if request.medium_kind is not None and request.medium_kind not in MEDIA:
        raise ValidationFailed(
            _("Unknown medium type; use one of: %(media)s.") % {"media": ", ".join(MEDIA)},
            code="unknown_medium_type",
            details={"type": request.medium_kind},
        )
    tz = zoneinfo.ZoneInfo(lane.time_zone)
    now = timezone.now().astimezone(tz)
    at = (request.scanned_at or now).astimezone(tz)
    direction = request.direction or (lane.direction if lane.direction != "both" else "in")
    scan = Scan(direction=direction, persons=request.persons, at=at, now=now)
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                return _judge_and_write(lane, request, scan, device_id, operator_id)
        except _Retry:
            continue
        except IntegrityError:
            if request.scan_id:
                stored = ScanRow.objects.filter(lane_id=lane.id, scan_id=request.scan_id).first()
                if stored is not None:
                    return _replay(stored)
            raise
    raise ScanBusy()


def _judge_and_write(
    lane: LaneConfig,
    req: ScanRequest,
    scan: Scan,
    device_id: int | None,
    operator_id: int | None,
) -> ScanOutcome:
    day = scan.at.date()
    offline = req.offline_result is not None
    config = replace(lane, mode="normal") if offline else lane
    rules = config.rules(selectors.site_day(lane.site_id, day))
    products = selectors.product_rules(lane.site_id)
    ids, claims, problem, presented = _candidates(lane, req, day)
    found = sql.tickets_with_usage(ids, lane.zone_key)
    if claims is not None:
        if not found:
            problem = Reason.UNKNOWN_TICKET
        elif (claims.site_id, claims.product_id, claims.persons) != (
            found[0][0]["site_id"],
            found[0][0]["product_id"],
            found[0][0]["persons"],
        ):
            # Signed with our key yet not what we issued: a leaked key or a tampering insider.
            found, problem = [], Reason.FORGED
    rows = [row for row, _usage_row in found]
    usages = {row["pk"]: usage for row, usage in found if usage is not None}
    judged: list[tuple[dict[str, Any] | None, Decision]] = []
    for row in rows:
        rule = products.get(row["product_id"])
        if req.medium_kind is not None and (rule is None or req.medium_kind not in rule.media):
            judged.append((row, decide(rules, None, Usage(), scan, Reason.MEDIUM_NOT_ALLOWED)))
            continue
        right = right_for(selectors.facts(row), rule, lane.zone_key)
        judged.append((row, decide(rules, right, _usage(usages.get(row["pk"])), scan)))
    if not judged:
        judged.append((None, decide(rules, None, Usage(), scan, problem)))
    chosen, decision = next(((r, d) for r, d in judged if d.allowed), judged[0])
    ticket_id = chosen["pk"] if chosen else None

    conflict_reason: Reason | None = None
    if offline and req.offline_result != ALLOW:
        # Refused at the lane: record what the lane said; nothing was used.
        decision = Decision(DENY, _reason(req.offline_reason, decision.reason))
    elif offline and req.offline_reason == Reason.EMERGENCY:
        decision = Decision(ALLOW, Reason.EMERGENCY, persons=scan.persons)
    elif offline and not decision.allowed:
        # Let through offline, but the server would not have: count it and report it.
        conflict_reason = decision.reason
        decision = Decision(
            ALLOW, _reason(req.offline_reason, Reason.OK), persons=scan.persons, remaining=0
        )
    elif decision.allowed and decision.usage is not None and chosen is not None:
        _store_usage(chosen, usages.get(chosen["pk"]), lane.zone_key, decision, products)

    stored = ScanRow(
        lane_id=lane.id,
        site_id=lane.site_id,
        zone_key=lane.zone_key,
        device_id=device_id,
        operator_id=operator_id,
        scan_id=req.scan_id or None,
        ticket_id=ticket_id,
        medium=req.medium_kind or "qr",
        presented=presented,
        direction=scan.direction if scan.direction in ("in", "out") else "?",
        persons=max(min(scan.persons, 2**31 - 1), 0),
        admitted=decision.persons if decision.allowed else 0,
        consumed=decision.consumed,
        result=decision.result,
        reason=str(decision.reason),
        remaining=decision.remaining,
        remaining_today=decision.remaining_today,
        scanned_at=scan.at,
        offline=offline,
    )
    insert([stored])  # a repeated scan id fails here and rolls the whole attempt back
    hooks.publish(
        hooks.SCAN_RECORDED, scan=stored, product_id=chosen["product_id"] if chosen else 0
    )
    if decision.allowed and ticket_id is not None and stored.direction == "in":
        # Higher apps (partners) queue their notices in this transaction.
        hooks.publish(
            hooks.TICKET_USED,
            ticket_id=ticket_id,
            channel_id=chosen["channel_id"] if chosen else None,
            persons=stored.admitted,
            at=scan.at,
        )
    if conflict_reason is not None:
        Conflict.objects.create(scan=stored, ticket_id=ticket_id, reason=str(conflict_reason))
    return ScanOutcome(
        decision=decision,
        ticket_id=ticket_id,
        scanned_at=scan.at,
        conflict=conflict_reason is not None,
    )


def _reason(value: str | None, default: Reason) -> Reason:
    try:
        return Reason(value) if value else default
    except ValueError:
        return default


def _store_usage(
    row: dict[str, Any],
    current: dict[str, Any] | None,
    zone_key: int,
    decision: Decision,
    products: dict[int, Any],
) -> None:
    """Spend what ``decision`` allows, or raise ``_Retry`` when another lane got there first.

    The ticket row is written first: its lock orders every writer of this ticket (on MariaDB
    the foreign keys of the usage and scan rows take shared locks on it, which would otherwise
    deadlock two lanes), and ``status IN ('valid', 'used')`` makes a racing refund win or lose
    whole. Then the usage row's version is compared and set.
    """
    new = decision.usage
    assert new is not None
    rule = products.get(row["product_id"])
    per_person = rule.total_entries if rule is not None else None
    limit = None if per_person is None else per_person * row["persons"]
    if not sql.ticket_spend(row["pk"], decision.consumed, limit):
        raise _Retry()  # refunded or voided meanwhile: judge again (it will be refused)
    values = {
        "used": new.used,
        "inside": new.inside,
        "day": new.day,
        "day_entries": new.day_entries,
        "out_today": new.out_today,
    }
    if current is None:
        try:
            with transaction.atomic():
                insert([UsageRow(ticket_id=row["pk"], zone_key=zone_key, **values)])
        except IntegrityError as exc:
            raise _Retry() from exc  # another lane made the row first
    elif not sql.usage_set(current["pk"], current["version"], values):
        raise _Retry()


@dataclass(frozen=True)
class UploadResult:
    scan_id: str
    status: str  # recorded, duplicate, conflict, rejected
    result: str | None = None
    reason: str | None = None


def scans_upload(
    *,
    lane: LaneConfig,
    scans: Sequence[ScanRequest],
    device_id: int | None = None,
    operator_id: int | None = None,
) -> list[UploadResult]:
    """Record scans a lane made offline. Each is idempotent on its scan id; an entry the lane
    allowed that the server would not have (used up elsewhere, refunded meanwhile) is counted
    and reported as a conflict for staff."""
    out = []
    for req in scans:
        if not req.scan_id:
            out.append(UploadResult("", "rejected", reason="scan_id_required"))
            continue
        if ScanRow.objects.filter(lane_id=lane.id, scan_id=req.scan_id).exists():
            out.append(UploadResult(req.scan_id, "duplicate"))
            continue
        try:
            outcome = scan_redeem(
                lane=lane,
                request=req,
                device_id=device_id,
                operator_id=operator_id,
            )
        except ValidationFailed as exc:
            out.append(UploadResult(req.scan_id, "rejected", reason=exc.code))
            continue
        status = "duplicate" if outcome.replayed else "conflict" if outcome.conflict else "recorded"
        out.append(
            UploadResult(req.scan_id, status, outcome.decision.result, str(outcome.decision.reason))
        )
    return out


def lane_mode_set(*, lane_code: str, mode: str, actor: Any) -> Lane:
    """Switch a lane to normal, emergency-open or closed; every lane obeys at its next scan."""
    if mode not in Lane.Mode.values:
        raise ValidationFailed(
            _("Unknown lane mode; use one of: %(modes)s.") % {"modes": ", ".join(Lane.Mode.values)},
            code="unknown_mode",
        )
    with transaction.atomic():
        lane = Lane.objects.select_for_update().filter(code=lane_code).first()
        if lane is None:
            raise selectors.LaneNotFound(details={"lane": lane_code})
        if lane.mode != mode:
            lane.mode = mode
            lane_save(instance=lane, actor=actor)
    return lane


def lane_heartbeat(
    *,
    lane: LaneConfig,
    device_id: int | None,
    software: str = "",
    offline_queue: int = 0,
    bundle_cursor: int = 0,
) -> LaneStatus:
    values = {
        "last_contact_at": timezone.now(),
        "device_id": device_id,
        "software": software[:100],
        "offline_queue": max(offline_queue, 0),
        "bundle_cursor": max(bundle_cursor, 0),
    }
    for _attempt in range(3):
        if LaneStatus.objects.filter(lane_id=lane.id).update(**values):
            break
        try:
            with transaction.atomic():
                LaneStatus.objects.create(lane_id=lane.id, **values)
            break
        except IntegrityError:
            continue
    return LaneStatus.objects.get(lane_id=lane.id)


def conflict_resolve(*, conflict_id: int, note: str, actor: Any) -> Conflict:
    with transaction.atomic():
        conflict = Conflict.objects.select_for_update().filter(pk=conflict_id).first()
        if conflict is None:
            raise ConflictNotFound(details={"conflict": conflict_id})
        if conflict.status == Conflict.Status.OPEN:
            conflict.status = Conflict.Status.RESOLVED
            conflict.resolved_at = timezone.now()
            conflict.resolved_by = actor if getattr(actor, "pk", None) else None
            conflict.note = note[:2000]
            conflict.save(update_fields=["status", "resolved_at", "resolved_by", "note"])
            audit_record(
                actor=actor,
                action="update",
                obj=conflict,
                verb="conflict_resolved",
                before={"status": "open"},
                after={"status": "resolved", "note": conflict.note},
            )
    return conflict
