from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from admit.core.errors import NotFound, ValidationFailed
from admit.core.money import CURRENCY, money_str
from admit.core.schemas import Id

from . import selectors
from .models import Channel, Site

router = Router(tags=["catalog"])


class SiteOut(Schema):
    id: int
    code: str
    name: str
    time_zone: str
    opens_at: dt.time
    closes_at: dt.time
    last_entry_at: dt.time | None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    category: str | None
    persons: int
    max_persons: int | None
    real_name_required: bool
    slot_required: bool
    validity: str
    price: str = Field(description="Decimal string with two places; per person for group tickets")
    currency: str


class ProductsQuery(Schema):
    site: Id
    date: dt.date
    channel: str = Field(max_length=40)


@router.get("/sites", response=list[SiteOut], summary="Sites (景区)")
def sites(request: HttpRequest) -> list[SiteOut]:
    return [
        SiteOut(
            id=s.pk,
            code=s.code,
            name=s.display_name,
            time_zone=s.time_zone,
            opens_at=s.opens_at,
            closes_at=s.closes_at,
            last_entry_at=s.last_entry_at,
        )
        for s in Site.objects.filter(is_active=True).order_by("code")
    ]


@router.get(
    "/products",
    response=list[ProductOut],
    summary="Products on sale at a site on a date through a channel, with their price",
)
def products(request: HttpRequest, q: Query[ProductsQuery]) -> list[ProductOut]:
    site = Site.objects.filter(pk=q.site, is_active=True).first()
    if site is None:
        raise NotFound(_("No such site."), code="site_not_found", details={"site": q.site})
    channel = Channel.objects.filter(code=q.channel, is_active=True).first()
    if channel is None:
        raise ValidationFailed(
            _("No such sales channel."), code="unknown_channel", details={"channel": q.channel}
        )
    return [
        ProductOut(
            id=p.product.pk,
            code=p.product.code,
            name=p.product.display_name,
            kind=p.product.kind,
            category=p.product.category.code if p.product.category else None,
            persons=p.product.persons,
            max_persons=p.product.max_persons,
            real_name_required=p.product.real_name_required,
            slot_required=p.product.slot_required,
            validity=p.product.validity,
            price=money_str(p.price),
            currency=CURRENCY,
        )
        for p in selectors.products_on_sale(site=site, day=q.date, channel=channel)
    ]
