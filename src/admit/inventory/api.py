from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from admit.catalog.models import Channel, Product
from admit.catalog.selectors import product_price, site_day
from admit.core.errors import ValidationFailed
from admit.core.money import CURRENCY, money_str
from admit.core.schemas import Id

from . import selectors
from .services import pools_ensure, slot_ended

router = Router(tags=["sales"])


class AvailabilityQuery(Schema):
    product: Id
    date: dt.date
    channel: str = Field(max_length=40)


class SlotOut(Schema):
    slot: int | None = Field(description="Pool id to send as `slot` when ordering")
    date: dt.date
    start: dt.time | None
    end: dt.time | None
    remaining: int | None = Field(description="Places left for this channel; null: not capped")
    capacity: int | None
    available: bool
    price: str | None
    currency: str


@router.get(
    "/availability",
    response=list[SlotOut],
    summary="Time slots of a product on a date, with the places left for a channel",
)
def availability(request: HttpRequest, q: Query[AvailabilityQuery]) -> list[SlotOut]:
    product = (
        Product.objects.filter(pk=q.product, is_active=True)
        .select_related("site")
        .prefetch_related("zones", "components__zone", "prices__channel")
        .first()
    )
    if product is None:
        raise ValidationFailed(
            _("No such product on sale."), code="unknown_product", details={"product": q.product}
        )
    channel = Channel.objects.filter(code=q.channel, is_active=True).first()
    if channel is None:
        raise ValidationFailed(
            _("No such sales channel."), code="unknown_channel", details={"channel": q.channel}
        )
    info = site_day(site=product.site, day=q.date)
    if info.closed:
        return []
    price = product_price(product=product, channel=channel.code, day=q.date, day_type=info.day_type)
    sold_here = product.channels.filter(pk=channel.pk).exists()
    if product.takes_capacity:
        pools_ensure(site=product.site, day=q.date, zones=product.capacity_zones)
    now = timezone.now()
    return [
        SlotOut(
            slot=s.pool.pk if s.pool else None,
            date=q.date,
            start=s.start,
            end=s.end,
            remaining=s.remaining,
            capacity=s.capacity,
            available=sold_here
            and price is not None
            and (s.remaining is None or s.remaining > 0)
            and not slot_ended(
                day=q.date, start=s.start, end=s.end, now=now, time_zone=product.site.time_zone
            ),
            price=money_str(price) if price is not None else None,
            currency=CURRENCY,
        )
        for s in selectors.availability(product=product, day=q.date, channel=channel)
    ]
