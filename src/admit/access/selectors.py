"""Reads for access control: lane and product rules (kept in memory per catalog version),
tickets by code or medium, occupancy, recent scans."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import CalendarDay, Lane, Product, Site, Zone
from admit.core.errors import NotFound
from admit.core.versions import CATALOG, remember
from admit.inventory.models import TemplateSlot
from admit.tickets.models import Revocation, SigningKey, Ticket, TicketMedium

from .models import Scan
from .rules import SITE_ZONE, LaneConfig, ProductRule, SiteDay, TicketFacts


class LaneNotFound(NotFound):
    code = "lane_not_found"
    default_message = _("No such lane.")


def _load_lane(code: str) -> LaneConfig | None:
    lane = (
        Lane.objects.filter(code=code, is_active=True, gate__is_active=True)
        .select_related("gate__site")
        .prefetch_related("admits_products", "admits_categories")
        .first()
    )
    if lane is None:
        return None
    products = frozenset(p.pk for p in lane.admits_products.all())
    categories = frozenset(c.code for c in lane.admits_categories.all())
    site = lane.gate.site
    return LaneConfig(
        id=lane.pk,
        code=lane.code,
        name=lane.name,
        site_id=site.pk,
        zone_key=lane.gate.zone_id or SITE_ZONE,
        time_zone=site.time_zone,
        direction=lane.direction,
        mode=lane.mode,
        products=products or None,
        categories=categories or None,
        enforce_hours=lane.enforce_hours,
        early_minutes=lane.early_minutes,
        late_minutes=lane.late_minutes,
        anti_passback=lane.anti_passback,
    )


def lane_config(code: str) -> LaneConfig:
    """A lane's rules, from memory until the catalog changes (a mode switch is a change)."""
    config = remember(CATALOG, ("lane", code), partial(_load_lane, code))
    if config is None:
        raise LaneNotFound(details={"lane": code})
    return config


def _load_site_day(site_id: int, day: dt.date) -> SiteDay:
    site = Site.objects.get(pk=site_id)
    override = CalendarDay.objects.filter(site_id=site_id, date=day).first()
    opens = (override.opens_at if override else None) or site.opens_at
    closes = (override.closes_at if override else None) or site.closes_at
    last_entry = site.last_entry_at or closes
    if override and override.closes_at and last_entry > override.closes_at:
        last_entry = override.closes_at
    return SiteDay(closed=bool(override and override.closed), opens=opens, last_entry=last_entry)


def site_day(site_id: int, day: dt.date) -> SiteDay:
    return remember(CATALOG, ("site_day", site_id, day), partial(_load_site_day, site_id, day))


def _slotted_zones(site_id: int) -> frozenset[int]:
    return frozenset(
        TemplateSlot.objects.filter(
            template__site_id=site_id, template__is_active=True, start__isnull=False
        ).values_list("template__zone_id", flat=True)
    )


def _load_product_rules(site_id: int) -> dict[int, ProductRule]:
    slotted = remember(CATALOG, ("slotted_zones", site_id), partial(_slotted_zones, site_id))
    rules = {}
    for p in (
        Product.objects.filter(site_id=site_id)
        .select_related("category")
        .prefetch_related("zones", "components")
    ):
        if p.kind == Product.Kind.COMBO:
            zones: dict[int, int | None] = {c.zone_id: c.entries for c in p.components.all()}
        else:
            zones = {z.pk: p.entries for z in p.zones.all()}
        capacity_zones = set(zones) if p.takes_capacity else set()
        rules[p.pk] = ProductRule(
            id=p.pk,
            site_id=site_id,
            zones=zones,
            category=p.category.code if p.category else None,
            entries_per_day=p.entries_per_day,
            reentry=p.reentry,
            media=frozenset(p.allowed_media or ["qr"]),
            slot_zones=frozenset(capacity_zones & slotted),
        )
    return rules


def product_rules(site_id: int) -> dict[int, ProductRule]:
    """Every product's entry rules for a site, from memory until the catalog changes."""
    return remember(CATALOG, ("product_rules", site_id), partial(_load_product_rules, site_id))


def facts(row: dict[str, Any]) -> TicketFacts:
    return TicketFacts(
        id=row["pk"],
        site_id=row["site_id"],
        product_id=row["product_id"],
        persons=row["persons"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        slot_start=row["slot_start"],
        slot_end=row["slot_end"],
        status=row["status"],
    )


def tickets_by_medium(*, kind: str, value: str, site_id: int, day: dt.date) -> list[int]:
    """Tickets of a site usable on ``day`` that a card, ID card or face token leads to: those
    bound to it, and for an ID card the real-name tickets of its holder."""
    bound = TicketMedium.objects.filter(kind=kind, active_value=value).values("ticket_id")
    match = Q(pk__in=bound)
    if kind == TicketMedium.Kind.ID_CARD:
        match |= Q(holder_id_number=value)
    rows = (
        Ticket.objects.filter(match, site_id=site_id, status__in=Ticket.LIVE, valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .order_by("valid_from", "id")
        .values_list("pk", flat=True)[:20]
    )
    return list(rows)


def local_now(time_zone: str) -> dt.datetime:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(time_zone))


@dataclass(frozen=True)
class ZoneOccupancy:
    zone_key: int
    name: str
    entered: int
    exited: int
    inside: int
    estimated: bool
    top_level: bool


def occupancy(*, site: Site, at: dt.datetime | None = None) -> list[ZoneOccupancy]:
    """People inside each zone of a site now: persons in − persons out today, from the scans.

    A site without any lane that scans exits has its inside count estimated: those who entered
    within the site's average stay.
    """
    tz = zoneinfo.ZoneInfo(site.time_zone)
    now = (at or timezone.now()).astimezone(tz)
    day_start = dt.datetime.combine(now.date(), dt.time.min, tzinfo=tz)
    counts_exits = Lane.objects.filter(
        gate__site=site, is_active=True, direction__in=[Lane.Direction.OUT, Lane.Direction.BOTH]
    ).exists()
    base = Scan.objects.filter(
        site=site, result=Scan.Result.ALLOW, scanned_at__gte=day_start, scanned_at__lte=now
    )
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for row in base.values("zone_key", "direction").annotate(n=Sum("admitted")):
        sums[(row["zone_key"], row["direction"])] += row["n"] or 0
    recent: dict[int, int] = {}
    if not counts_exits:
        since = now - dt.timedelta(minutes=site.average_stay_minutes)
        for row in (
            base.filter(direction="in", scanned_at__gte=since)
            .values("zone_key")
            .annotate(n=Sum("admitted"))
        ):
            recent[row["zone_key"]] = row["n"] or 0
    zones = {z.pk: z for z in Zone.objects.filter(site=site, is_active=True)}
    names = {pk: str(z) for pk, z in zones.items()}
    keys = sorted(set(names) | {k for k, _ in sums})
    out = []
    for key in keys:
        entered, exited = sums[(key, "in")], sums[(key, "out")]
        inside = max(entered - exited, 0) if counts_exits else recent.get(key, 0)
        out.append(
            ZoneOccupancy(
                zone_key=key,
                name=names.get(key, str(site)) if key != SITE_ZONE else str(site),
                entered=entered,
                exited=exited,
                inside=inside,
                estimated=not counts_exits,
                top_level=key == SITE_ZONE or key not in zones or zones[key].parent_id is None,
            )
        )
    return out


def occupancy_totals(zones: list[ZoneOccupancy]) -> dict[str, int]:
    """A site's figures: its top-level zones (and gates into the site itself) added up, so a
    visitor in a zone inside another is counted once."""
    top = [z for z in zones if z.top_level]
    return {
        "inside": sum(z.inside for z in top),
        "entered": sum(z.entered for z in top),
        "exited": sum(z.exited for z in top),
    }


def recent_scans(lane_ids: Iterable[int], per_lane: int = 5) -> dict[int, list[Scan]]:
    out: dict[int, list[Scan]] = {}
    for lane_id in lane_ids:
        out[lane_id] = list(Scan.objects.filter(lane_id=lane_id).order_by("-id")[:per_lane])
    return out


BUNDLE_DAYS = 3  # the calendar and media a bundle carries: today and the next days
# Longer than any transaction that revokes a ticket stays open after its revocation row.
REVOCATION_OVERLAP = dt.timedelta(minutes=10)


def offline_bundle(*, lane: LaneConfig, since: int = 0) -> dict[str, Any]:
    """What a lane needs to judge scans offline (see ``access.offline``): public keys, the
    lane's and products' rules, the site's calendar for the next days, the tickets revoked since
    ``since`` (the cursor of an earlier bundle, with those revoked just before it again; 0: all
    that are still within their validity) and the media bound to tickets usable in those days,
    hashed."""
    from .offline import medium_digest

    today = local_now(lane.time_zone).date()
    days = [today + dt.timedelta(days=i) for i in range(BUNDLE_DAYS)]
    last = days[-1]
    keys = [
        {"key_id": k.key_id, "public_key": k.public_key_b64}
        for k in SigningKey.objects.filter(retired_at__isnull=True).order_by("key_id")
    ]
    site_revocations = Revocation.objects.filter(site_id=lane.site_id)
    # The cursor is read before the list, so the list holds at least what the cursor covers.
    cursor = site_revocations.order_by("-pk").values_list("pk", flat=True).first() or 0
    newer = Q(pk__gt=max(since, 0))
    mark = site_revocations.filter(pk=since).values_list("at", flat=True).first()
    if mark is not None:
        # Ids are drawn at insert but committed in any order: a refund still open when the
        # earlier bundle read its cursor commits later with a lower id. What was revoked shortly
        # before the cursor's own row is sent again, so that such a late one is never skipped.
        newer |= Q(pk__lt=since, at__gte=mark - REVOCATION_OVERLAP)
    revoked = site_revocations.filter(newer).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    latest = dict(revoked.order_by("pk").values_list("ticket_id", "status"))  # last row wins
    usable = Ticket.objects.filter(
        site_id=lane.site_id, status__in=Ticket.LIVE, valid_from__lte=last
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    media: dict[str, list[str]] = defaultdict(list)
    for kind, value, code in TicketMedium.objects.filter(
        active_value__isnull=False, ticket__in=usable
    ).values_list("kind", "value", "ticket__code"):
        media[medium_digest(kind, value)].append(code)
    rules = product_rules(lane.site_id)
    by_id_card = [pk for pk, rule in rules.items() if TicketMedium.Kind.ID_CARD in rule.media]
    for value, code in (
        usable.exclude(holder_id_number="")
        .filter(product_id__in=by_id_card)
        .values_list("holder_id_number", "code")
    ):
        media[medium_digest(TicketMedium.Kind.ID_CARD, value)].append(code)
    return {
        "format": 1,
        "generated_at": timezone.now().isoformat(),
        "lane": lane.to_json(),
        "keys": keys,
        "products": {str(k): v.to_json() for k, v in rules.items()},
        "calendar": {d.isoformat(): site_day(lane.site_id, d).to_json() for d in days},
        "revocations": sorted(t for t, st in latest.items() if st != Ticket.Status.REINSTATED),
        # Lifted since (a pass thawed): the lane forgets these, unless revoked again later.
        "reinstated": sorted(t for t, st in latest.items() if st == Ticket.Status.REINSTATED),
        "cursor": cursor,
        "since": since,
        "media": [{"digest": k, "codes": sorted(set(v))} for k, v in sorted(media.items())],
    }
