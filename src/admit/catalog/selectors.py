"""Catalog reads that several callers need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db.models import Prefetch, QuerySet

from admit.core.versions import CATALOG, remember

from .calendar import DayType, day_type_for
from .models import CalendarDay, Channel, Price, Product, Site
from .pricing import PriceRule, resolve_price


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    day_type: DayType
    closed: bool
    note: str


def _day_info(site: Site, day: dt.date, override: CalendarDay | None) -> DayInfo:
    return DayInfo(
        date=day,
        day_type=day_type_for(
            day, weekend_days=site.weekend, override=override.day_type if override else None
        ),
        closed=bool(override and override.closed),
        note=override.note if override else "",
    )


def site_day(*, site: Site, day: dt.date) -> DayInfo:
    return _day_info(site, day, CalendarDay.objects.filter(site=site, date=day).first())


def site_day_kept(site: Site, day: dt.date) -> DayInfo:
    """``site_day``, kept in memory until the catalog changes (hot paths ask for the same few
    days again and again)."""
    return remember(CATALOG, ("day", site.pk, day), partial(site_day, site=site, day=day))


def site_days(*, site: Site, first: dt.date, last: dt.date) -> dict[dt.date, DayInfo]:
    """``site_day`` for every day from ``first`` to ``last``, in one query."""
    overrides = {
        c.date: c for c in CalendarDay.objects.filter(site=site, date__gte=first, date__lte=last)
    }
    out = {}
    day = first
    while day <= last:
        out[day] = _day_info(site, day, overrides.get(day))
        day += dt.timedelta(days=1)
    return out


def price_rules(prices: list[Price]) -> list[PriceRule]:
    return [
        PriceRule(
            amount=p.amount,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            channel=p.channel.code if p.channel_id and p.channel else None,
            day_type=p.day_type or None,
            id=p.pk,
        )
        for p in prices
    ]


def product_price(
    *, product: Product, channel: str, day: dt.date, day_type: DayType
) -> Decimal | None:
    """Price of one product; uses prefetched ``prices`` when present."""
    rule = resolve_price(
        price_rules(list(product.prices.all())), channel=channel, day=day, day_type=day_type
    )
    return rule.amount if rule else None


@dataclass(frozen=True)
class PricedProduct:
    product: Product
    price: Decimal


def products_on_sale(*, site: Site, day: dt.date, channel: Channel) -> list[PricedProduct]:
    """Active products of a site sold on a channel and usable on a day, with their price.

    Products without a price for that day and channel are not on sale and are left out.
    Three queries whatever the number of products.
    """
    info = site_day(site=site, day=day)
    return products_on_sale_days(site=site, days=[info], channel=channel)[day]


def products_on_sale_days(
    *, site: Site, days: Sequence[DayInfo], channel: Channel
) -> dict[dt.date, list[PricedProduct]]:
    """``products_on_sale`` for several days (from ``site_days``), read in at most two
    queries whatever the number of days and products."""
    out: dict[dt.date, list[PricedProduct]] = {d.date: [] for d in days}
    open_days = [d for d in days if not d.closed]
    if not open_days:
        return out
    qs: QuerySet[Product] = (
        Product.objects.filter(site=site, is_active=True, channels=channel)
        .select_related("category")
        .prefetch_related(Prefetch("prices", queryset=Price.objects.select_related("channel")))
        .order_by("sort_order", "code")
    )
    products = [(p, price_rules(list(p.prices.all()))) for p in qs]
    for info in open_days:
        day = info.date
        for product, rules in products:
            if product.valid_from and day < product.valid_from:
                continue
            if product.valid_until and day > product.valid_until:
                continue
            rule = resolve_price(rules, channel=channel.code, day=day, day_type=info.day_type)
            if rule is not None:
                out[day].append(PricedProduct(product=product, price=rule.amount))
    return out
