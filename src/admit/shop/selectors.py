"""What the shop shows: the products of a day with their slots, a month of days with a price
and how many places are left, and a signed-in member's passes, points and orders. Prices and
places come from the catalog's and inventory's own selectors for the online channel."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from admit.catalog.models import Channel, Product, Site
from admit.catalog.selectors import (
    PricedProduct,
    products_on_sale,
    products_on_sale_days,
    site_days,
)
from admit.core.text import mask
from admit.customers.models import Member, Pass, PointsEntry
from admit.inventory.models import Pool
from admit.inventory.selectors import (
    SlotAvailability,
    availability,
    availability_days,
    open_slots,
)
from admit.inventory.services import pools_ensure
from admit.sales import errors as sales_errors
from admit.sales.models import Order, OrderLine
from admit.sales.services.orders import sale_days, site_today
from admit.tickets.models import Ticket

from .models import Notice, RushDay
from .services import CHANNEL, SHOP_KINDS

FEW_LEFT = 100  # fewer places than this: "few left"


@dataclass(frozen=True)
class Slot:
    id: int | None
    start: dt.time | None
    end: dt.time | None
    remaining: int | None  # None: not capped


@dataclass(frozen=True)
class Offer:
    product_id: int
    name: str
    price: Decimal
    persons: int
    real_name: bool
    refundable: bool
    reschedule: bool
    slots: list[Slot]

    @property
    def sold_out(self) -> bool:
        return all(s.remaining is not None and s.remaining <= 0 for s in self.slots)


@dataclass(frozen=True)
class Day:
    date: dt.date
    in_month: bool
    state: str  # past, closed, not_on_sale, sold_out, few, open
    price: Decimal | None = None
    remaining: int | None = None
    rush: bool = False
    note: str = ""


@dataclass
class Month:
    first: dt.date
    weeks: list[list[Day]] = field(default_factory=list)
    previous: dt.date | None = None
    next: dt.date | None = None


def shop_channel() -> Channel:
    channel = Channel.objects.filter(code=CHANNEL, is_active=True).first()
    if channel is None:
        raise sales_errors.UnknownChannel(details={"channel": CHANNEL})
    return channel


def day_offers(
    *,
    site: Site,
    day: dt.date,
    channel: Channel,
    now: dt.datetime | None = None,
    member: Member | None = None,
) -> list[Offer]:
    """The shop's products on ``day`` with price and the places left per slot; slots of today
    that have ended are left out, and so are products with no slot left."""
    now = now or timezone.now()
    first, last = sale_days(site, now, member)
    if day < first:
        raise sales_errors.PastDate(details={"date": day.isoformat()})
    if day > last:
        raise sales_errors.TooFarAhead(details={"date": day.isoformat()})
    out = []
    loaded: dict[int, Product] = {}
    for priced in products_on_sale(site=site, day=day, channel=channel):
        if priced.product.kind not in SHOP_KINDS:
            continue
        product = _with_zones(loaded, priced.product)
        slots = _slots(site, product, day, channel, now)
        if slots:
            out.append(
                Offer(
                    product_id=product.pk,
                    name=product.display_name,
                    price=priced.price,
                    persons=product.persons,
                    real_name=product.real_name_required,
                    refundable=product.refundable,
                    reschedule=product.reschedule_allowed,
                    slots=slots,
                )
            )
    return out


def _with_zones(products: dict[int, Product], product: Product) -> Product:
    """The product with its zones and combo components loaded once per page (the capacity
    reads ask for them several times per day)."""
    if product.pk not in products:
        prefetch_related_objects([product], "zones", "components__zone")
        products[product.pk] = product
    return products[product.pk]


def _slots(
    site: Site,
    product: Product,
    day: dt.date,
    channel: Channel,
    now: dt.datetime,
) -> list[Slot]:
    """The slots of a product on a day with the places left (ended ones of today left out)."""
    if product.takes_capacity:
        pools_ensure(site=site, day=day, zones=product.capacity_zones)
    return _open_slots(
        availability(product=product, day=day, channel=channel, now=now),
        day=day,
        now=now,
        time_zone=site.time_zone,
    )


def _open_slots(
    found: list[SlotAvailability], *, day: dt.date, now: dt.datetime, time_zone: str
) -> list[Slot]:
    return [
        Slot(
            s.pool.pk if s.pool is not None and s.start is not None else None,
            s.start,
            s.end,
            s.remaining,
        )
        for s in open_slots(found, day=day, now=now, time_zone=time_zone)
    ]


def _day_state(day: dt.date, main: PricedProduct, slots: list[Slot], rush: set[dt.date]) -> Day:
    """A day of the calendar from its main product's price and slots."""
    if not slots:
        return Day(day, True, "not_on_sale")
    capped = [s.remaining for s in slots if s.remaining is not None]
    remaining = sum(max(0, n) for n in capped) if capped else None
    if remaining is not None and remaining <= 0:
        state = "sold_out"
    elif remaining is not None and remaining < FEW_LEFT:
        state = "few"
    else:
        state = "open"
    return Day(day, True, state, main.price, remaining, day in rush)


def _month_days(
    site: Site, first: dt.date, last: dt.date, channel: Channel, now: dt.datetime
) -> dict[dt.date, Day]:
    """The days from ``first`` to ``last`` (all on sale) of the calendar. The first product of
    the shop on sale that day (the main admission, by the catalog's order) stands for the day:
    its price, and the places left over its slots. Read in bulk: a constant number of queries
    whatever the number of days and products, once the days' pools exist (the first look at a
    month creates them from the capacity templates)."""
    infos = site_days(site=site, first=first, last=last)
    on_sale = products_on_sale_days(site=site, days=list(infos.values()), channel=channel)
    rush = set(
        RushDay.objects.filter(site=site, date__gte=first, date__lte=last).values_list(
            "date", flat=True
        )
    )
    out: dict[dt.date, Day] = {}
    mains: dict[int, tuple[Product, dict[dt.date, PricedProduct]]] = {}
    for day, info in infos.items():
        priced = [p for p in on_sale[day] if p.product.kind in SHOP_KINDS]
        if not priced:
            out[day] = Day(day, True, "closed" if info.closed else "not_on_sale", note=info.note)
            continue
        product = priced[0].product
        mains.setdefault(product.pk, (product, {}))[1][day] = priced[0]
    if not mains:
        return out
    products = [product for product, _days in mains.values()]
    prefetch_related_objects(products, "zones", "components__zone")
    have = set(
        Pool.objects.filter(site=site, date__gte=first, date__lte=last)
        .values_list("date", "zone_id")
        .distinct()
    )
    for product, days in mains.values():
        zones = product.capacity_zones
        if product.takes_capacity:
            for day in days:
                if not all((day, z.pk) in have for z in zones):
                    pools_ensure(site=site, day=day, zones=zones)
        found = availability_days(product=product, days=list(days), channel=channel, now=now)
        for day, main in days.items():
            slots = _open_slots(found[day], day=day, now=now, time_zone=site.time_zone)
            out[day] = _day_state(day, main, slots, rush)
    return out


def month_calendar(
    *, site: Site, month: dt.date, now: dt.datetime | None = None, member: Member | None = None
) -> Month:
    """The weeks (Monday first) of ``month``, each day with its state, lowest price and the
    places left of its main product; days outside the shop's sale window have no price."""
    now = now or timezone.now()
    first, last = sale_days(site, now, member)
    month = month.replace(day=1)
    channel = shop_channel()
    _, days_in_month = calendar.monthrange(month.year, month.month)
    month_end = month.replace(day=days_in_month)
    on_sale_from, on_sale_until = max(first, month), min(last, month_end)
    days = (
        _month_days(site, on_sale_from, on_sale_until, channel, now)
        if on_sale_from <= on_sale_until
        else {}
    )
    out = Month(first=month)
    start = month - dt.timedelta(days=month.weekday())
    week: list[Day] = []
    day = start
    while day <= month_end or len(week) % 7:
        if day.month != month.month:
            week.append(Day(day, False, "outside"))
        elif day < first or day > last:
            week.append(Day(day, True, "past" if day < first else "not_on_sale"))
        else:
            week.append(days[day])
        if len(week) == 7:
            out.weeks.append(week)
            week = []
        day += dt.timedelta(days=1)
    if month > first.replace(day=1):
        out.previous = (month - dt.timedelta(days=1)).replace(day=1)
    if month_end < last:
        out.next = month_end + dt.timedelta(days=1)
    return out


def notices(*, site: Site, today: dt.date) -> list[Notice]:
    return list(
        Notice.objects.filter(site=site, is_active=True)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    )


# --- A member's account -----------------------------------------------------------------------


@dataclass(frozen=True)
class PassCard:
    """A member's pass as the account page shows it."""

    pass_: Pass
    state: str  # active, frozen, cancelled, expired
    card: str  # the card's UID, masked; "" without a card
    ticket: Ticket | None  # the period whose code opens the gates today (or next); None: none
    remaining: int | None  # entries left of a pass limited in entries (次卡); None: no limit


def _pass_ticket(tickets: list[Ticket], today: dt.date) -> Ticket | None:
    """The pass's period valid today, else the next one; only a valid period with a code."""
    live = [
        t
        for t in tickets
        if t.status == Ticket.Status.VALID
        and t.code
        and t.valid_until is not None
        and t.valid_until >= today
    ]
    live.sort(key=lambda t: (t.valid_from or today, t.pk))
    return live[0] if live else None


def member_passes(*, member: Member, now: dt.datetime) -> list[PassCard]:
    """The member's passes, newest first, with the period that opens the gates. "Today" is the
    day at the pass's site, in its time zone (as at its gates), not on the server's clock. Two
    queries whatever the number of passes."""
    out = []
    for p in (
        Pass.objects.filter(member=member)
        .select_related("product__site")
        .prefetch_related("tickets")
        .order_by("-created_at", "-pk")
    ):
        today = site_today(p.product.site, now)
        tickets = list(p.tickets.all())
        if p.status != Pass.Status.ACTIVE:
            state = p.status
        elif p.valid_until < today:
            state = "expired"
        else:
            state = "active"
        ticket = _pass_ticket(tickets, today) if state == "active" else None
        counted = ticket or max(tickets, key=lambda t: (t.valid_until or today, t.pk), default=None)
        remaining = None
        if counted is not None and counted.entries_allowed is not None:
            remaining = max(0, counted.entries_allowed - counted.entries_used)
        out.append(PassCard(p, state, mask(p.card_uid) if p.card_uid else "", ticket, remaining))
    return out


def member_points(*, member: Member, limit: int = 10) -> list[PointsEntry]:
    """The member's latest points entries, newest first."""
    return list(
        PointsEntry.objects.filter(member=member)
        .select_related("order")
        .order_by("-at", "-pk")[:limit]
    )


def member_orders(*, member: Member) -> QuerySet[Order]:
    """The member's orders, newest first, with what a list of them shows."""
    return (
        Order.objects.filter(member=member)
        .select_related("site", "channel")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product")))
        .order_by("-placed_at", "-pk")
    )
