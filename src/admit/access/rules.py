"""What a lane and a product say about entry, as plain data that both the server and offline
gate software build the access decision from. No Django.

The server loads these from the database (``access.selectors``); the offline bundle carries them
as JSON (``to_json``/``from_json``), so an online and an offline lane judge a scan alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .decision import LaneRules, Right

SITE_ZONE = 0  # the zone key of gates that lead into the site as a whole


@dataclass(frozen=True)
class ProductRule:
    """A product's rights of entry: per zone key, entries per person (None: unlimited)."""

    id: int
    site_id: int
    zones: dict[int, int | None]
    category: str | None = None
    entries_per_day: int | None = None
    reentry: bool = False
    media: frozenset[str] = frozenset({"qr"})
    slot_zones: frozenset[int] = frozenset()  # where a booked time slot is checked

    def covers(self, zone_key: int) -> bool:
        return zone_key == SITE_ZONE or zone_key in self.zones

    def entries_in(self, zone_key: int) -> int | None:
        if zone_key in self.zones:
            return self.zones[zone_key]
        # The site as a whole: the most any of its zones gives.
        values = list(self.zones.values())
        if not values or any(v is None for v in values):
            return None
        return max(v for v in values if v is not None)

    @property
    def total_entries(self) -> int | None:
        """Person-entries per person over every zone, None when any zone is unlimited."""
        values = list(self.zones.values())
        if not values or any(v is None for v in values):
            return None
        return sum(v for v in values if v is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site_id,
            "zones": {str(k): v for k, v in self.zones.items()},
            "category": self.category,
            "entries_per_day": self.entries_per_day,
            "reentry": self.reentry,
            "media": sorted(self.media),
            "slot_zones": sorted(self.slot_zones),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProductRule:
        return cls(
            id=int(data["id"]),
            site_id=int(data["site"]),
            zones={int(k): v for k, v in data["zones"].items()},
            category=data.get("category"),
            entries_per_day=data.get("entries_per_day"),
            reentry=bool(data.get("reentry")),
            media=frozenset(data.get("media") or ["qr"]),
            slot_zones=frozenset(int(z) for z in data.get("slot_zones") or []),
        )


@dataclass(frozen=True)
class TicketFacts:
    """What is known of one ticket: from its row online, from its signed code offline."""

    id: int
    site_id: int
    product_id: int
    persons: int
    valid_from: dt.date
    valid_until: dt.date | None
    slot_start: dt.time | None = None
    slot_end: dt.time | None = None
    status: str = "valid"


def right_for(ticket: TicketFacts, product: ProductRule | None, zone_key: int) -> Right:
    """The ticket's right to the zone behind a lane."""
    covers = product is not None and product.covers(zone_key)
    slot = product is not None and (
        zone_key in product.slot_zones or (zone_key == SITE_ZONE and bool(product.slot_zones))
    )
    return Right(
        ticket_id=ticket.id,
        site_id=ticket.site_id,
        product_id=ticket.product_id,
        persons=ticket.persons,
        valid_from=ticket.valid_from,
        valid_until=ticket.valid_until,
        status=ticket.status,
        category=product.category if product else None,
        slot_start=ticket.slot_start if slot else None,
        slot_end=ticket.slot_end if slot else None,
        covers_zone=covers,
        entries=product.entries_in(zone_key) if product is not None else 0,
        entries_per_day=product.entries_per_day if product else None,
        reentry=product.reentry if product else False,
    )


@dataclass(frozen=True)
class SiteDay:
    """A site's hours on one day (its calendar applied)."""

    closed: bool = False
    opens: dt.time | None = None
    last_entry: dt.time | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "closed": self.closed,
            "opens": self.opens.strftime("%H:%M") if self.opens else None,
            "last_entry": self.last_entry.strftime("%H:%M") if self.last_entry else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteDay:
        return cls(
            closed=bool(data.get("closed")),
            opens=_time(data.get("opens")),
            last_entry=_time(data.get("last_entry")),
        )


@dataclass(frozen=True)
class LaneConfig:
    """A lane's set-up: where it leads and what it admits."""

    id: int
    code: str
    site_id: int
    zone_key: int
    time_zone: str
    direction: str = "in"
    mode: str = "normal"
    products: frozenset[int] | None = None
    categories: frozenset[str] | None = None
    enforce_hours: bool = True
    early_minutes: int = 30
    late_minutes: int = 0
    anti_passback: bool = False
    name: str = ""

    def rules(self, day: SiteDay) -> LaneRules:
        return LaneRules(
            site_id=self.site_id,
            direction=self.direction,
            mode=self.mode,
            products=self.products,
            categories=self.categories,
            enforce_hours=self.enforce_hours,
            closed_today=day.closed,
            opens=day.opens,
            last_entry=day.last_entry,
            early_minutes=self.early_minutes,
            late_minutes=self.late_minutes,
            anti_passback=self.anti_passback,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "site": self.site_id,
            "zone": self.zone_key,
            "time_zone": self.time_zone,
            "direction": self.direction,
            "mode": self.mode,
            "products": None if self.products is None else sorted(self.products),
            "categories": None if self.categories is None else sorted(self.categories),
            "enforce_hours": self.enforce_hours,
            "early_minutes": self.early_minutes,
            "late_minutes": self.late_minutes,
            "anti_passback": self.anti_passback,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaneConfig:
        products = data.get("products")
        categories = data.get("categories")
        return cls(
            id=int(data["id"]),
            code=str(data["code"]),
            name=str(data.get("name", "")),
            site_id=int(data["site"]),
            zone_key=int(data.get("zone") or SITE_ZONE),
            time_zone=str(data["time_zone"]),
            direction=str(data.get("direction", "in")),
            mode=str(data.get("mode", "normal")),
            products=None if products is None else frozenset(int(p) for p in products),
            categories=None if categories is None else frozenset(categories),
            enforce_hours=bool(data.get("enforce_hours", True)),
            early_minutes=int(data.get("early_minutes", 30)),
            late_minutes=int(data.get("late_minutes", 0)),
            anti_passback=bool(data.get("anti_passback")),
        )


def _time(value: str | None) -> dt.time | None:
    return None if not value else dt.time.fromisoformat(value)
