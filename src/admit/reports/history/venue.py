"""What ``admit gen-history`` needs to know about a site, read once: products and their prices,
channels, lanes, capacity templates, accounts, guides, members and cashiers."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from admit.access.rules import SITE_ZONE
from admit.accounts.models import Device, User
from admit.catalog.calendar import DayType, day_type_for
from admit.catalog.models import CalendarDay, Channel, Lane, Product, Site
from admit.catalog.pricing import PriceRule, resolve_price
from admit.catalog.selectors import price_rules
from admit.customers.models import Account, AccountMember, Guide, GuideRule, Member
from admit.inventory.models import CapacityTemplate

HISTORY_AGENCY = "hist-agency-"  # code prefix of the agencies gen-history adds


@dataclass(frozen=True)
class ProductInfo:
    id: int
    code: str
    kind: str
    persons: int
    max_persons: int
    entries: int | None
    refund_fee_percent: Decimal
    zone_ids: tuple[int, ...]  # the zones whose capacity a ticket takes
    enters_site: bool  # scanned at the gates into the site itself
    inner: tuple[tuple[int, int], ...]  # (zone id, entries) of inner zones it is scanned in
    medium: str
    channel_ids: frozenset[int]


@dataclass(frozen=True)
class LaneInfo:
    id: int
    device_id: int | None
    zone_key: int
    weight: float


@dataclass(frozen=True)
class SlotInfo:
    start: dt.time | None
    end: dt.time | None
    capacity: int


@dataclass
class Venue:
    site: Site
    zone: zoneinfo.ZoneInfo
    opens: int  # seconds after midnight
    last_entry: int
    closes: int
    stay_minutes: int
    products: dict[str, ProductInfo]
    rules: dict[int, list[PriceRule]]
    channels: dict[str, int]  # code -> id
    partners: list[tuple[str, int, int]]  # channel code, channel id, account id
    entry_lanes: list[LaneInfo]
    exit_lanes: list[LaneInfo]
    zone_lanes: dict[int, LaneInfo]  # inner zone -> its entry lane
    templates: dict[int, list[CapacityTemplate]]  # zone -> templates
    agencies: list[tuple[int, int | None, list[int]]]  # account, its portal user, its guides
    members: list[tuple[int, Decimal]]  # member, discount percent of their level
    cashiers: list[tuple[int, int, str]]  # user, window terminal, username
    supervisor_id: int | None
    guide_rule: tuple[int, Decimal, int] | None  # product, discount percent, minimum group
    presets: list[tuple[str, Decimal]]
    calendar: dict[dt.date, CalendarDay] = field(default_factory=dict)
    _prices: dict[tuple[int, str, dt.date], Decimal | None] = field(default_factory=dict)

    def day_type(self, day: dt.date) -> DayType:
        row = self.calendar.get(day)
        return day_type_for(
            day, weekend_days=self.site.weekend, override=row.day_type if row else None
        )

    def closed(self, day: dt.date) -> bool:
        row = self.calendar.get(day)
        return bool(row and row.closed)

    def price(self, product_id: int, channel: str, day: dt.date) -> Decimal | None:
        """The catalog's price on ``day``; for days before the catalog's prices begin, the
        first price the product had (history predates the demo's price list)."""
        key = (product_id, channel, day)
        if key not in self._prices:
            rules = self.rules.get(product_id, [])
            day_type = self.day_type(day)
            rule = resolve_price(rules, channel=channel, day=day, day_type=day_type)
            if rule is None and rules:
                first = min(r.valid_from for r in rules)
                if day < first:
                    rule = resolve_price(rules, channel=channel, day=first, day_type=day_type)
            self._prices[key] = rule.amount if rule else None
        return self._prices[key]

    def template_slots(self, zone_id: int, day: dt.date) -> tuple[CapacityTemplate, list[SlotInfo]]:
        """The pattern of a zone's pools on ``day``: the template in force, or for days before
        any template began, the earliest one (its weekdays still apply)."""
        templates = [
            t
            for t in self.templates.get(zone_id, [])
            if not t.weekdays or day.weekday() in t.weekdays
        ]
        if not templates:
            raise LookupError(zone_id)
        in_force = [t for t in templates if t.applies_on(day)]
        if in_force:
            in_force.sort(key=lambda t: (-t.priority, -t.valid_from.toordinal(), t.pk))
            chosen = in_force[0]
        else:
            chosen = min(templates, key=lambda t: (t.valid_from, -t.priority, t.pk))
        slots = [SlotInfo(s.start, s.end, s.capacity) for s in chosen.slots.all()]
        return chosen, slots


def _seconds(t: dt.time | None, default: int) -> int:
    return t.hour * 3600 + t.minute * 60 if t is not None else default


def load_venue(site: Site, start: dt.date, end: dt.date) -> Venue:
    products: dict[str, ProductInfo] = {}
    rules: dict[int, list[PriceRule]] = {}
    qs = (
        Product.objects.filter(site=site)
        .exclude(kind__in=[Product.Kind.PASS, Product.Kind.FEE])
        .prefetch_related("zones", "components__zone", "prices__channel", "channels")
    )
    for p in qs:
        if p.kind == Product.Kind.COMBO:
            pairs = [(c.zone, c.entries) for c in p.components.all()]
        else:
            pairs = [(z, p.entries or 1) for z in p.zones.all()]
        media = list(p.allowed_media or ["qr"])
        products[p.code] = ProductInfo(
            id=p.pk,
            code=p.code,
            kind=p.kind,
            persons=p.persons,
            max_persons=p.max_persons or p.persons,
            entries=p.entries,
            refund_fee_percent=p.refund_fee_percent or Decimal(0),
            zone_ids=tuple(z.pk for z, _n in pairs),
            enters_site=any(z.parent_id is None for z, _n in pairs),
            inner=tuple((z.pk, n or 1) for z, n in pairs if z.parent_id is not None),
            medium="id_card" if p.real_name_required and "id_card" in media else media[0],
            channel_ids=frozenset(c.pk for c in p.channels.all()),
        )
        rules[p.pk] = price_rules(list(p.prices.all()))

    devices = dict(Device.objects.exclude(lane=None).values_list("lane_id", "id"))
    entry, exits, inner = [], [], {}
    lanes = Lane.objects.filter(gate__site=site, is_active=True, gate__is_active=True)
    for lane in lanes.select_related("gate__zone").order_by("pk"):
        zone = lane.gate.zone
        key = lane.gate.zone_id or SITE_ZONE
        weight = {"turnstile": 1.0, "accessible": 0.3}.get(lane.device_kind, 0.2)
        info = LaneInfo(lane.pk, devices.get(lane.pk), key, weight)
        if zone is None or zone.parent_id is None:
            if lane.direction in ("in", "both"):
                entry.append(info)
            if lane.direction in ("out", "both"):
                exits.append(info)
        elif lane.direction in ("in", "both") and zone.pk not in inner:
            inner[zone.pk] = info

    templates: dict[int, list[CapacityTemplate]] = defaultdict(list)
    for t in CapacityTemplate.objects.filter(site=site, is_active=True).prefetch_related("slots"):
        templates[t.zone_id].append(t)

    from admit.partners.models import Partner

    partners = [
        (p.channel.code, p.channel_id, p.account_id)
        for p in Partner.objects.select_related("channel").order_by("pk")
        if p.account_id is not None and p.channel_id is not None
    ]
    partner_accounts = {a for _c, _ch, a in partners}
    portal = dict(AccountMember.objects.values_list("account_id", "user_id"))
    guides: dict[int, list[int]] = defaultdict(list)
    for gid, account_id in Guide.objects.filter(is_active=True).values_list("pk", "account_id"):
        if account_id is not None:
            guides[account_id].append(gid)
    agencies = [
        (a, portal.get(a), guides.get(a, []))
        for a in Account.objects.filter(is_active=True, kind=Account.Kind.AGENCY)
        .exclude(pk__in=partner_accounts)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    members = [
        (m.pk, m.level.discount_percent if m.level else Decimal(0))
        for m in Member.objects.filter(is_active=True).select_related("level").order_by("pk")
    ]

    from admit.boxoffice.models import DiscountPreset, Terminal

    windows = list(
        Terminal.objects.filter(site=site, kind=Terminal.Kind.WINDOW).order_by("code")[:4]
    )
    sellers = User.objects.filter(is_active=True, groups__name="cashier").order_by("pk")
    cashiers = [(u.pk, t.pk, u.get_username()) for u, t in zip(sellers, windows, strict=False)]
    supervisor = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(username="supervisor"))
        .order_by("-username")
        .values_list("pk", flat=True)
        .first()
    )
    rule = GuideRule.objects.filter(site=site, kind=Guide.Kind.GUIDE).first()
    presets = [
        (str(p.name), p.percent)
        for p in DiscountPreset.objects.filter(is_active=True).order_by("sort")
    ]
    calendar = {
        c.date: c for c in CalendarDay.objects.filter(site=site, date__gte=start, date__lte=end)
    }
    return Venue(
        site=site,
        zone=zoneinfo.ZoneInfo(site.time_zone),
        opens=_seconds(site.opens_at, 8 * 3600),
        last_entry=_seconds(site.last_entry_at or site.closes_at, 16 * 3600),
        closes=_seconds(site.closes_at, 17 * 3600 + 1800),
        stay_minutes=site.average_stay_minutes or 180,
        products=products,
        rules=rules,
        channels=dict(Channel.objects.filter(is_active=True).values_list("code", "pk")),
        partners=partners,
        entry_lanes=entry,
        exit_lanes=exits,
        zone_lanes=inner,
        templates=dict(templates),
        agencies=agencies,
        members=members,
        cashiers=cashiers,
        supervisor_id=supervisor,
        guide_rule=(rule.product_id, rule.entry_discount_percent, rule.min_group)
        if rule is not None and rule.product_id
        else None,
        presets=presets,
        calendar=calendar,
    )


def ensure_agencies(site: Site, count: int, guides_each: int = 3) -> int:
    """At least ``count`` travel agencies, each with ``guides_each`` guides, created through the
    services (audited like any set-up); returns how many agencies were added."""
    from admit.customers.services import account_save, guide_register
    from admit.partners.models import Partner

    partner_accounts = set(Partner.objects.values_list("account_id", flat=True))
    have = (
        Account.objects.filter(is_active=True, kind=Account.Kind.AGENCY)
        .exclude(pk__in=partner_accounts)
        .count()
    )
    added = 0
    n = 0
    while have + added < count:
        n += 1
        code = f"{HISTORY_AGENCY}{n:02d}"
        if Account.objects.filter(code=code).exists():
            continue
        account = account_save(
            instance=Account(
                code=code,
                name=f"历史旅行社 {n:02d} History Travel {n:02d}",
                credit_limit=Decimal("500000.00"),
            ),
            actor=None,
        )
        for j in range(1, guides_each + 1):
            guide_register(
                name=f"导游 {n:02d}-{j}",
                licence_number=f"H-{n:02d}-{j:03d}-{site.pk}",
                account=account,
                actor=None,
            )
        added += 1
    return added
