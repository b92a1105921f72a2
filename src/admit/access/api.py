"""Gate API: lanes, scans (online and uploaded offline), offline bundles, lane modes and
heartbeats, occupancy, offline conflicts, and binding media to tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from admit.accounts.rights import require
from admit.catalog.models import Gate, Site
from admit.core.errors import NotFound, PermissionDenied
from admit.core.schemas import Id
from admit.tickets.models import Ticket, TicketMedium
from admit.tickets.services import medium_bind, medium_unbind

from . import selectors, services
from .models import Conflict, LaneStatus
from .rules import LaneConfig

router = Router(tags=["access"])


class WrongLane(PermissionDenied):
    code = "wrong_lane"
    default_message = _("This device belongs to another lane.")


class MediumIn(Schema):
    type: str = Field(max_length=16, examples=["card", "id_card", "face"])
    value: str = Field(max_length=200)


class ScanIn(Schema):
    code: str | None = Field(None, max_length=400)
    medium: MediumIn | None = None
    direction: Literal["in", "out"] | None = None
    persons: int = Field(1, ge=-(2**31), le=2**31)
    scan_id: str | None = Field(None, min_length=1, max_length=64)
    scanned_at: dt.datetime | None = None


class OfflineScanIn(ScanIn):
    scan_id: str = Field(min_length=1, max_length=64)  # type: ignore[assignment]
    scanned_at: dt.datetime
    result: Literal["allow", "deny"]
    reason: str = Field("", max_length=32)


class BatchIn(Schema):
    scans: list[OfflineScanIn] = Field(max_length=5000)


class ModeIn(Schema):
    mode: str = Field(max_length=16, examples=["normal", "emergency_open", "closed"])


class HeartbeatIn(Schema):
    software: str = Field("", max_length=100)
    offline_queue: int = Field(0, ge=0, le=10**9)
    bundle_cursor: int = Field(0, ge=0, le=2**62)


class ResolveIn(Schema):
    note: str = Field("", max_length=2000)


def _gate_caller(request: HttpRequest, lane_code: str, *perms: str) -> tuple[LaneConfig, Any]:
    """The lane, checked against the caller: a device only at its own lane, staff by right."""
    lane = selectors.lane_config(lane_code)
    device = getattr(request, "device", None)
    if device is not None:
        if not device.is_active or device.lane_id != lane.id:
            raise WrongLane(
                details={"lane": lane_code, "device": device.code},
            )
        return lane, device
    require(request, *perms)
    return lane, None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _request(body: ScanIn, **extra: Any) -> services.ScanRequest:
    return services.ScanRequest(
        code=body.code,
        medium_kind=body.medium.type if body.medium else None,
        medium_value=body.medium.value if body.medium else None,
        direction=body.direction,
        persons=body.persons,
        scan_id=body.scan_id,
        scanned_at=body.scanned_at,
        **extra,
    )


@router.get("/gates", response=list[dict], summary="Gates with their lanes")
def gates_list(request: HttpRequest, site: Id | None = None) -> Any:
    if getattr(request, "device", None) is None:
        require(request, "catalog.view_lane")
    gates = Gate.objects.filter(is_active=True).select_related("site", "zone")
    if site is not None:
        gates = gates.filter(site_id=site)
    gates = gates.prefetch_related("lanes__admits_products", "lanes__admits_categories")
    status = {s.lane_id: s for s in LaneStatus.objects.all()}
    return [
        {
            "id": g.pk,
            "code": g.code,
            "name": str(g),
            "site": g.site_id,
            "zone": g.zone_id,
            "lanes": [
                {
                    "id": ln.pk,
                    "code": ln.code,
                    "name": ln.display_name,
                    "direction": ln.direction,
                    "mode": ln.mode,
                    "device_kind": ln.device_kind,
                    "rules": ln.rules_summary(),
                    "last_contact": _iso(
                        status[ln.pk].last_contact_at if ln.pk in status else None
                    ),
                }
                for ln in g.lanes.all()
                if ln.is_active
            ],
        }
        for g in gates
    ]


@router.post(
    "/gates/{lane}/scans",
    response=dict,
    summary="Scan a ticket code or medium at a lane: allow or deny, with reason and what remains",
)
def scan_create(request: HttpRequest, lane: str, payload: ScanIn) -> Any:
    config, device = _gate_caller(request, lane, "access.add_scan")
    outcome = services.scan_redeem(
        lane=config,
        request=_request(payload),
        device_id=device.pk if device else None,
        operator_id=None if device else request.user.pk,
    )
    return outcome.as_json(get_language() or "zh")


@router.post(
    "/gates/{lane}/scans/batch",
    response=dict,
    summary="Upload scans a lane made offline (idempotent on scan_id)",
)
def scans_batch(request: HttpRequest, lane: str, payload: BatchIn) -> Any:
    config, device = _gate_caller(request, lane, "access.add_scan")
    results = services.scans_upload(
        lane=config,
        scans=[
            _request(s, offline_result=s.result, offline_reason=s.reason) for s in payload.scans
        ],
        device_id=device.pk if device else None,
        operator_id=None if device else request.user.pk,
    )
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "counts": counts,
        "results": [
            {"scan_id": r.scan_id, "status": r.status, "result": r.result, "reason": r.reason}
            for r in results
        ],
    }


@router.get(
    "/gates/{lane}/offline-bundle",
    response=dict,
    summary="Keys, rules, calendar, revocations since a cursor and media for offline work",
)
def offline_bundle(request: HttpRequest, lane: str, since: int = 0) -> Any:
    config, _device = _gate_caller(request, lane, "access.add_scan")
    return selectors.offline_bundle(lane=config, since=since)


@router.post("/gates/{lane}/mode", response=dict, summary="Set a lane's mode")
def lane_mode(request: HttpRequest, lane: str, payload: ModeIn) -> Any:
    user = require(request, "access.set_lane_mode")
    changed = services.lane_mode_set(lane_code=lane, mode=payload.mode, actor=user)
    return {"lane": changed.code, "mode": changed.mode}


@router.post("/gates/{lane}/heartbeat", response=dict, summary="A lane device reports it is alive")
def lane_heartbeat(request: HttpRequest, lane: str, payload: HeartbeatIn) -> Any:
    config, device = _gate_caller(request, lane, "access.add_scan")
    status = services.lane_heartbeat(
        lane=config,
        device_id=device.pk if device else None,
        software=payload.software,
        offline_queue=payload.offline_queue,
        bundle_cursor=payload.bundle_cursor,
    )
    assert status.last_contact_at is not None
    return {
        "lane": config.code,
        "mode": config.mode,
        "server_time": status.last_contact_at.isoformat(),
    }


@router.get("/occupancy", response=dict, summary="People inside a site and each zone now")
def occupancy(request: HttpRequest, site: Id) -> Any:
    require(request, "catalog.view_site")
    found = Site.objects.filter(pk=site).first()
    if found is None:
        raise NotFound(code="site_not_found", details={"site": site})
    zones = selectors.occupancy(site=found)
    return {
        "site": found.pk,
        "inside": selectors.occupancy_totals(zones)["inside"],
        "estimated": any(z.estimated for z in zones),
        "zones": [
            {
                "zone": z.zone_key or None,
                "name": z.name,
                "entered": z.entered,
                "exited": z.exited,
                "inside": z.inside,
            }
            for z in zones
        ],
    }


@router.get(
    "/conflicts", response=list[dict], summary="Offline conflicts for staff to work through"
)
def conflicts_list(request: HttpRequest, status: str = "open") -> Any:
    require(request, "access.view_conflict")
    rows = Conflict.objects.filter(status=status).select_related("scan__lane", "ticket")[:500]
    return [
        {
            "id": c.pk,
            "status": c.status,
            "reason": c.reason,
            "ticket": c.ticket.serial if c.ticket else None,
            "lane": c.scan.lane.code,
            "scanned_at": c.scan.scanned_at.isoformat(),
            "note": c.note,
        }
        for c in rows
    ]


@router.post("/conflicts/{conflict_id}/resolve", response=dict, summary="Resolve a conflict")
def conflict_resolve(request: HttpRequest, conflict_id: int, payload: ResolveIn) -> Any:
    user = require(request, "access.resolve_conflict")
    c = services.conflict_resolve(conflict_id=conflict_id, note=payload.note, actor=user)
    return {"id": c.pk, "status": c.status, "note": c.note}


def _ticket(serial: str) -> Ticket:
    ticket = Ticket.objects.filter(serial=serial).first()
    if ticket is None:
        raise NotFound(code="ticket_not_found", details={"ticket": serial})
    return ticket


def _medium_out(m: TicketMedium) -> dict[str, Any]:
    return {
        "id": m.pk,
        "type": m.kind,
        "value": m.masked,
        "bound": m.active_value is not None,
        "bound_at": m.bound_at.isoformat(),
        "unbound_at": m.unbound_at.isoformat() if m.unbound_at else None,
    }


@router.post(
    "/tickets/{serial}/media",
    response={201: dict},
    summary="Bind a card UID, ID card number or face token to a ticket",
)
def medium_create(request: HttpRequest, serial: str, payload: MediumIn) -> Any:
    user = require(request, "tickets.add_ticketmedium")
    medium = medium_bind(ticket=_ticket(serial), kind=payload.type, value=payload.value, actor=user)
    return Status(201, _medium_out(medium))


@router.get("/tickets/{serial}/media", response=list[dict], summary="A ticket's media")
def medium_list(request: HttpRequest, serial: str) -> Any:
    require(request, "tickets.view_ticket")
    return [_medium_out(m) for m in _ticket(serial).media.all()]


@router.delete(
    "/tickets/{serial}/media/{medium_id}", response=dict, summary="Unbind a medium (lost card)"
)
def medium_delete(request: HttpRequest, serial: str, medium_id: int) -> Any:
    user = require(request, "tickets.delete_ticketmedium")
    return _medium_out(medium_unbind(ticket=_ticket(serial), medium_id=medium_id, actor=user))
