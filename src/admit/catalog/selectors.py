"""Catalog reads that several callers need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from .calendar import DayType, day_type_for
from .models import CalendarDay, Channel, Price, Product, Site
from .pricing import PriceRule, resolve_price


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    day_type: DayType
    closed: bool
    note: str


def site_day(*, site: Site, day: dt.date) -> DayInfo:
    override = CalendarDay.objects.filter(site=site, date=day).first()
    return DayInfo(
        date=day,
        day_type=day_type_for(
            day, weekend_days=site.weekend, override=override.day_type if override else None
        ),
        closed=bool(override and override.closed),
        note=override.note if override else "",
    )


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
    if info.closed:
        return []
    qs: QuerySet[Product] = (
        Product.objects.filter(site=site, is_active=True, channels=channel)
        .select_related("category")
        .prefetch_related(Prefetch("prices", queryset=Price.objects.select_related("channel")))
        .order_by("sort_order", "code")
    )
    out = []
    for product in qs:
        if product.valid_from and day < product.valid_from:
            continue
        if product.valid_until and day > product.valid_until:
            continue
        price = product_price(
            product=product, channel=channel.code, day=day, day_type=info.day_type
        )
        if price is not None:
            out.append(PricedProduct(product=product, price=price))
    return out
