"""Placing, confirming, cancelling and expiring orders."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from admit.catalog.models import Channel, Price, Product, Site
from admit.catalog.selectors import product_price, site_day_kept
from admit.core import hooks
from admit.core.codes import random_code
from admit.core.errors import ValidationFailed
from admit.core.prc_id import InvalidResidentId, parse_resident_id
from admit.core.sql import insert
from admit.core.versions import CATALOG, remember
from admit.customers.errors import (
    ContractExcludes,
    GuideEntryNotOffered,
    GuideGroupTooSmall,
    GuideNotFound,
    MemberNotFound,
)
from admit.customers.models import Account, Guide, GuideRule, Member
from admit.customers.origin import origin_of
from admit.customers.selectors import account_id_of, contract_terms
from admit.customers.services import guide_credit, points_earn
from admit.inventory.models import CapacityTemplate, Pool
from admit.inventory.services import (
    InvalidSlot,
    SiteClosed,
    SoldOut,
    capacity_confirm,
    capacity_release,
    capacity_take,
    line_pools,
    pools_ensure,
    pools_for_sale,
    slot_end_at,
    slot_still_open,
    takes_save,
)
from admit.tickets.models import Ticket
from admit.tickets.services import tickets_issue

from .. import errors, sql, window
from ..models import Coupon, CouponUse, IdentityQuota, Order, OrderEvent, OrderLine, Visitor
from ..pricing import HUNDRED, CouponTerms, LineIn, ManualDiscount, PricingError, Quote, quote
from ..selectors import with_details
from .common import event, event_row, paid_total

MAX_LINES = 20
MAX_TICKETS_PER_LINE = 200
ORDER_CODE_LENGTH = 10


@dataclass(frozen=True)
class VisitorIn:
    name: str
    id_type: str
    id_number: str
    phone: str = ""


@dataclass(frozen=True)
class LineRequest:
    product: int
    date: dt.date
    quantity: int
    slot: int | None = None
    persons: int | None = None
    visitors: tuple[VisitorIn, ...] = ()


@dataclass
class _Line:
    index: int
    request: LineRequest
    product: Product
    price: Decimal
    persons: int
    slot: Pool | None
    pools: list[Pool]
    visitors: list[VisitorIn]


@dataclass
class _Prepared:
    channel: Channel
    site: Site
    lines: list[_Line]
    quote: Quote
    coupon: Coupon | None
    manual: ManualDiscount | None
    pool_ids: set[int] = field(default_factory=set)


def site_today(site: Site, now: dt.datetime) -> dt.date:
    return timezone.localtime(now, zoneinfo.ZoneInfo(site.time_zone)).date()


def sale_days(
    site: Site, now: dt.datetime, member: Member | None = None
) -> tuple[dt.date, dt.date]:
    """The first and last day a visitor may book at ``site``: today in the site's time zone
    to ``ADMIT_SALE_DAYS_AHEAD`` days later; a member's level may add days
    (``booking_days_ahead``). The one rule for every channel and for the pages that show it."""
    today = site_today(site, now)
    level = member.level if member is not None else None
    ahead = settings.ADMIT_SALE_DAYS_AHEAD + (level.booking_days_ahead if level else 0)
    return today, today + dt.timedelta(days=ahead)


def _products(ids: set[int]) -> dict[int, Product]:
    """Products with everything a sale reads, kept in memory until the catalog changes."""
    out = {}
    for pk in ids:
        product = remember(CATALOG, ("product", pk), partial(_load_product, pk))
        if product is not None:
            out[pk] = product
    return out


def _load_product(pk: int) -> Product | None:
    return _load_products({pk}).get(pk)


def _templated_zones(site: Site) -> set[int]:
    return set(
        CapacityTemplate.objects.filter(site=site, is_active=True).values_list("zone_id", flat=True)
    )


def _load_products(ids: set[int]) -> dict[int, Product]:
    qs = (
        Product.objects.filter(pk__in=ids, is_active=True)
        .select_related("site")
        .prefetch_related(
            "zones",
            "components__zone",
            "channels",
            Prefetch("prices", queryset=Price.objects.select_related("channel")),
        )
    )
    return {p.pk: p for p in qs}


def _visitors(index: int, line: _Line, seen: set[tuple[dt.date, str]], today: dt.date) -> None:
    request, product = line.request, line.product
    needed = request.quantity * line.persons
    if product.real_name_required and len(request.visitors) != needed:
        raise errors.VisitorsRequired(
            details={"line": index, "expected": needed, "given": len(request.visitors)}
        )
    if len(request.visitors) > needed:
        raise errors.VisitorsRequired(
            details={"line": index, "expected": needed, "given": len(request.visitors)}
        )
    for v_index, v in enumerate(request.visitors):
        where = {"line": index, "visitor": v_index}
        if not v.name.strip() or len(v.name) > 100:
            raise ValidationFailed(details={**where, "field": "name"}, code="invalid_visitor")
        if v.id_type not in Visitor.IdType.values:
            raise ValidationFailed(details={**where, "field": "id_type"}, code="invalid_id_type")
        number = v.id_number.strip().upper()
        if v.id_type == Visitor.IdType.RESIDENT_ID:
            try:
                number = parse_resident_id(number, today=today).number
            except InvalidResidentId as exc:
                raise errors.InvalidIdNumber(details={**where, "reason": exc.reason}) from exc
        elif not (3 <= len(number) <= 40 and number.isalnum()):
            raise errors.InvalidIdNumber(details={**where, "reason": "format"})
        key = (request.date, number)
        if key in seen:
            raise errors.DuplicateVisitor(details=where)
        seen.add(key)
        line.visitors.append(VisitorIn(v.name.strip(), v.id_type, number, v.phone.strip()[:32]))


def _coupon(code: str | None, now: dt.datetime) -> Coupon | None:
    if not code:
        return None
    coupon = (
        Coupon.objects.filter(code=code.strip().upper(), is_active=True, valid_from__lte=now)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=now))
        .prefetch_related("products")
        .first()
    )
    if coupon is None:
        raise errors.CouponInvalid(details={"coupon": code})
    return coupon


def prepare(
    *,
    channel: str,
    lines: Sequence[LineRequest],
    actor: Any,
    coupon: str | None = None,
    manual_discount: ManualDiscount | None = None,
    discount_approver: Any = None,
    account_id: int | None = None,
    member: Member | None = None,
    line_percent: dict[str, tuple[str, Decimal]] | None = None,
    now: dt.datetime,
) -> _Prepared:
    """Everything an order needs, checked, before anything is written. A manual discount may
    go up to the actor's limit, or to ``discount_approver``'s (a supervisor whose approval the
    caller has checked)."""
    channel_obj = remember(
        CATALOG,
        ("channel", channel),
        lambda: Channel.objects.filter(code=channel[:40], is_active=True).first(),
    )
    if channel_obj is None:
        raise errors.UnknownChannel(details={"channel": channel})
    if not lines:
        raise ValidationFailed(code="no_lines")
    if len(lines) > MAX_LINES:
        raise errors.InvalidQuantity(details={"lines": len(lines), "max": MAX_LINES})
    products = _products({ln.product for ln in lines})
    terms = contract_terms(account_id, timezone.localdate(now)) if account_id else None
    level = member.level if member is not None else None
    site: Site | None = None
    seen: set[tuple[dt.date, str]] = set()
    prepared: list[_Line] = []
    days: dict[dt.date, Any] = {}
    for index, req in enumerate(lines):
        product = products.get(req.product)
        if product is None:
            raise errors.UnknownProduct(details={"line": index, "product": req.product})
        if channel_obj not in product.channels.all():
            raise errors.NotSoldOnChannel(details={"line": index, "channel": channel})
        if terms is not None and not terms.allows(product_id=product.pk, channel_id=channel_obj.pk):
            raise ContractExcludes(details={"line": index, "contract": terms.contract})
        if site is None:
            site = product.site
        elif product.site_id != site.pk:
            raise errors.MixedSites(details={"line": index})
        if not 1 <= req.quantity <= MAX_TICKETS_PER_LINE:
            raise errors.InvalidQuantity(
                details={"line": index, "quantity": req.quantity, "max": MAX_TICKETS_PER_LINE}
            )
        persons = product.persons
        if product.kind == Product.Kind.GROUP:
            persons = req.persons if req.persons is not None else product.persons
            if not (product.persons <= persons <= (product.max_persons or product.persons)):
                raise errors.InvalidQuantity(
                    details={
                        "line": index,
                        "persons": persons,
                        "min": product.persons,
                        "max": product.max_persons,
                    }
                )
        elif req.persons not in (None, product.persons):
            raise errors.InvalidQuantity(details={"line": index, "persons": req.persons})
        today, last_day = sale_days(site, now, member)
        if req.date < today:
            raise errors.PastDate(details={"line": index, "date": req.date.isoformat()})
        if req.date > last_day:
            raise errors.TooFarAhead(details={"line": index, "date": req.date.isoformat()})
        if (product.valid_from and req.date < product.valid_from) or (
            product.valid_until and req.date > product.valid_until
        ):
            raise errors.NotOnSale(details={"line": index})
        if req.date not in days:
            days[req.date] = site_day_kept(site, req.date)
        info = days[req.date]
        if info.closed:
            raise SiteClosed(details={"line": index, "date": req.date.isoformat()})
        price = product_price(
            product=product, channel=channel_obj.code, day=req.date, day_type=info.day_type
        )
        if price is None:
            raise errors.NotOnSale(details={"line": index})
        line = _Line(index, req, product, price, persons, None, [], [])
        _visitors(index, line, seen, today)
        if product.takes_capacity:
            zones = product.capacity_zones
            day_pools = pools_for_sale(zones=zones, day=req.date, channel=channel_obj)
            templated = remember(
                CATALOG, ("templated_zones", site.pk), partial(_templated_zones, site)
            )
            if {z.pk for z in zones if z.pk in templated} - {p.zone_id for p in day_pools}:
                pools_ensure(site=site, day=req.date, zones=zones)
                day_pools = pools_for_sale(zones=zones, day=req.date, channel=channel_obj)
            if req.slot is not None:
                line.slot = next((p for p in day_pools if p.pk == req.slot), None)
                if line.slot is None:
                    raise InvalidSlot(details={"line": index, "slot": req.slot})
            if product.slot_required and not any(p.start for p in day_pools):
                raise errors.NotOnSale(details={"line": index, "reason": "no_slots"})
            try:
                line.pools = line_pools(
                    product=product,
                    day=req.date,
                    slot=line.slot if line.slot and line.slot.start else None,
                    pools=day_pools,
                )
            except ValidationFailed as exc:
                exc.details = {"line": index, **exc.details}
                raise
            if line.slot is None:
                line.slot = next((p for p in line.pools if p.start), None)
            if line.slot is not None:
                slot_still_open(
                    slot=line.slot, day=req.date, now=now, time_zone=site.time_zone, line=index
                )
        elif req.slot is not None:
            raise InvalidSlot(details={"line": index, "slot": req.slot})
        prepared.append(line)
    assert site is not None
    coupon_obj = _coupon(coupon, now)
    limit = getattr(actor, "discount_limit_percent", None)
    if getattr(actor, "is_superuser", False) or getattr(discount_approver, "is_superuser", False):
        limit = None
    else:
        limit = max(
            Decimal(limit or 0),
            Decimal(getattr(discount_approver, "discount_limit_percent", None) or 0),
        )
    try:
        priced = quote(
            [
                LineIn(
                    str(ln.index),
                    ln.product.pk,
                    ln.price,
                    ln.request.quantity,
                    ln.persons,
                    ln.product.kind == Product.Kind.GROUP,
                )
                for ln in prepared
            ],
            contract_percent={ln.product.pk: terms.percent(ln.product.pk) for ln in prepared}
            if terms is not None
            else None,
            member_prices={
                ln.product.pk: ln.price * (HUNDRED - level.discount_percent) / HUNDRED
                for ln in prepared
                if ln.product.kind != Product.Kind.FEE
            }
            if level is not None and level.discount_percent
            else None,
            coupon=CouponTerms(
                code=coupon_obj.code,
                percent=coupon_obj.percent,
                amount=coupon_obj.amount,
                min_spend=coupon_obj.min_spend,
                product_ids=frozenset(p.pk for p in coupon_obj.products.all()) or None,
            )
            if coupon_obj
            else None,
            manual=manual_discount,
            manual_limit_percent=limit if manual_discount else None,
            line_percent=line_percent,
        )
    except PricingError as exc:
        if exc.code == "coupon_min_spend":
            raise errors.CouponMinSpend(details=dict(exc.details)) from exc
        if exc.code == "discount_over_limit":
            raise errors.DiscountOverLimit(details=dict(exc.details)) from exc
        raise ValidationFailed(code=exc.code, details=dict(exc.details)) from exc
    return _Prepared(
        channel=channel_obj,
        site=site,
        lines=prepared,
        quote=priced,
        coupon=coupon_obj,
        manual=manual_discount,
        pool_ids={p.pk for ln in prepared for p in ln.pools},
    )


def order_place(
    *,
    channel: str,
    lines: Sequence[LineRequest],
    actor: Any,
    contact_name: str = "",
    contact_phone: str = "",
    coupon: str | None = None,
    manual_discount: ManualDiscount | None = None,
    discount_approver: Any = None,
    account: Account | None = None,
    member: Member | None = None,
    guide: Guide | None = None,
    guide_entry: bool = False,
    now: dt.datetime | None = None,
) -> Order:
    """Place an order: check it, price it, hold its places until ``expires_at``.

    An order that costs nothing is confirmed at once. When places are short, holds that have
    run out are ended first and the order is tried once more. ``account`` books it for a B2B
    account at the window (an account's own users always book for their account); an order
    placed by a cashier belongs to their open shift.
    """
    now = now or timezone.now()
    account_id = _account_for(actor, account)
    if member is not None and not member.is_active:
        raise MemberNotFound(details={"member": member.number})
    if guide is not None and not guide.is_active:
        raise GuideNotFound(details={"guide": guide.licence_number})
    line_percent = None
    if guide is not None and guide_entry:
        lines, line_percent = _with_guide_entry(lines, guide)
    prepared = prepare(
        channel=channel,
        lines=lines,
        actor=actor,
        coupon=coupon,
        manual_discount=manual_discount,
        discount_approver=discount_approver,
        account_id=account_id,
        member=member,
        line_percent=line_percent,
        now=now,
    )
    kwargs = {
        "prepared": prepared,
        "actor": actor,
        "contact_name": contact_name[:100],
        "contact_phone": contact_phone[:32],
        "account_id": account_id,
        "shift_id": window.shift_of(actor),
        "member_id": member.pk if member is not None else None,
        "guide_id": guide.pk if guide is not None else None,
        "now": now,
    }
    try:
        return _place(**kwargs)
    except SoldOut:
        if not holds_expire(now=now, pool_ids=prepared.pool_ids):
            raise
        return _place(**kwargs)


def _with_guide_entry(
    lines: Sequence[LineRequest], guide: Guide
) -> tuple[list[LineRequest], dict[str, tuple[str, Decimal]]]:
    """The order's lines plus the guide's own entry, free or discounted by the site's rule once
    the group is large enough; on the first line's day and slot."""
    if not lines:
        raise ValidationFailed(code="no_lines")
    products = _products({ln.product for ln in lines})
    first = products.get(lines[0].product)
    if first is None:
        raise errors.UnknownProduct(details={"line": 0, "product": lines[0].product})
    rule = (
        GuideRule.objects.select_related("product")
        .filter(site_id=first.site_id, kind=guide.kind)
        .first()
    )
    if rule is None or rule.product is None:
        raise GuideEntryNotOffered(details={"guide": guide.licence_number})
    head = sum(
        ln.quantity
        * (ln.persons or (products[ln.product].persons if ln.product in products else 1))
        for ln in lines
    )
    if head < rule.min_group:
        raise GuideGroupTooSmall(details={"min": rule.min_group, "given": head})
    entry = LineRequest(product=rule.product.pk, date=lines[0].date, quantity=1, slot=lines[0].slot)
    return [*lines, entry], {str(len(lines)): ("guide", rule.entry_discount_percent)}


def _account_for(actor: Any, account: Account | None) -> int | None:
    own = account_id_of(actor)
    if own is not None:
        if account is not None and account.pk != own:
            raise errors.AccountNotAllowed(details={"account": account.code})
        return own
    if account is None:
        return None
    if not account.is_active:
        raise errors.AccountNotAllowed(details={"account": account.code})
    return account.pk


@transaction.atomic
def _place(
    *,
    prepared: _Prepared,
    actor: Any,
    contact_name: str,
    contact_phone: str,
    account_id: int | None,
    shift_id: int | None,
    member_id: int | None,
    guide_id: int | None,
    now: dt.datetime,
) -> Order:
    q = prepared.quote
    where = origin_of(
        id_numbers=[v.id_number for ln in prepared.lines for v in ln.visitors][:5],
        phone=contact_phone,
    )
    # On MariaDB/MySQL, places are taken before any row that points at their pools is inserted
    # (see ``capacity_take`` on foreign-key locks). PostgreSQL's foreign-key check takes a key
    # share lock that does not conflict with the counter update, so there places are taken
    # last: a sold-out slot's row then stays locked only from its UPDATE to the COMMIT.
    # (SQLite runs one writer at a time: the order does not matter.)
    capacity_first = connection.vendor == "mysql"
    takes = _take_places(prepared, now) if capacity_first else []
    if prepared.coupon is not None:
        first_id = next((v.id_number for ln in prepared.lines for v in ln.visitors), "")
        _coupon_take(prepared.coupon, contact_phone or first_id)
    for ln in prepared.lines:
        if ln.product.limit_per_id_per_day:
            for v in ln.visitors:
                _identity_take(ln.product, ln.request.date, v.id_number, 1)
    order = Order(
        code=random_code(ORDER_CODE_LENGTH),
        site=prepared.site,
        channel=prepared.channel,
        subtotal=q.subtotal,
        discount=q.discount,
        total=q.total,
        coupon=prepared.coupon,
        manual_discount_reason=(prepared.manual.reason if prepared.manual else "")[:200],
        contact_name=contact_name,
        contact_phone=contact_phone,
        created_by=actor if getattr(actor, "pk", None) and hasattr(actor, "username") else None,
        account_id=account_id,
        shift_id=shift_id,
        member_id=member_id,
        guide_id=guide_id,
        origin_province=where.province,
        origin_city=where.city,
        expires_at=hold_until(
            now + dt.timedelta(minutes=settings.ADMIT_HOLD_MINUTES),
            prepared.site,
            [(ln.request.date, ln.slot) for ln in prepared.lines],
        ),
    )
    insert([order])
    lines = {}
    visitors = []
    for ln, lq in zip(prepared.lines, q.lines, strict=True):
        line = OrderLine(
            order=order,
            product=ln.product,
            date=ln.request.date,
            slot=ln.slot,
            quantity=ln.request.quantity,
            persons=ln.persons,
            unit_price=lq.unit_price,
            base=lq.base,
            total=lq.total,
            adjustments=[
                {"kind": a.kind, "label": a.label, "amount": str(a.amount)} for a in lq.adjustments
            ],
            ticket_prices=[str(p) for p in lq.ticket_prices],
        )
        insert([line])
        lines[ln.index] = line
        visitors += [
            Visitor(line=line, name=v.name, id_type=v.id_type, id_number=v.id_number, phone=v.phone)
            for v in ln.visitors
        ]
    Visitor.objects.bulk_create(visitors)
    event(order, "placed", actor, total=order.total, lines=len(prepared.lines))
    if not capacity_first:
        takes = _take_places(prepared, now)
    takes_save(takes=takes, lines=lines)
    with_details(order, lines=list(lines.values()), tickets=[], payments=[], refunds=[])
    if order.total == 0:
        order_confirm(order=order, actor=actor, now=now)
    return order


def _take_places(prepared: _Prepared, now: dt.datetime) -> list[tuple[Any, Any]]:
    return capacity_take(
        requests=[
            (ln.index, pool, ln.request.quantity * ln.persons)
            for ln in prepared.lines
            for pool in ln.pools
        ],
        channel=prepared.channel,
        now=now,
    )


def _identity_take(product: Product, day: dt.date, id_number: str, n: int) -> None:
    limit = product.limit_per_id_per_day or 0
    filters = {"product": product, "date": day, "id_number": id_number}
    for _attempt in range(2):
        if IdentityQuota.objects.filter(**filters, used__lte=limit - n).update(used=F("used") + n):
            return
        if IdentityQuota.objects.filter(**filters).exists() or n > limit:
            raise errors.IdLimitReached(details={"id_number": id_number[-4:], "limit": limit})
        try:
            with transaction.atomic():
                IdentityQuota.objects.create(site_id=product.site_id, used=n, **filters)
            return
        except IntegrityError:
            continue  # created meanwhile by another order: count against it
    raise errors.IdLimitReached(details={"limit": limit})


def _identity_give_back(order: Order) -> None:
    for line in order.lines.select_related("product"):
        if not line.product.limit_per_id_per_day:
            continue
        for v in line.visitors.all():
            IdentityQuota.objects.filter(
                product=line.product, date=line.date, id_number=v.id_number, used__gt=0
            ).update(used=F("used") - 1)


def _coupon_take(coupon: Coupon, customer: str) -> None:
    if (
        not Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(max_uses__isnull=True) | Q(used__lt=F("max_uses")))
        .update(used=F("used") + 1)
    ):
        raise errors.CouponUsedUp(details={"coupon": coupon.code})
    if coupon.max_uses_per_customer and customer:
        limit = coupon.max_uses_per_customer
        for _attempt in range(2):
            if CouponUse.objects.filter(coupon=coupon, customer=customer, count__lt=limit).update(
                count=F("count") + 1
            ):
                return
            if CouponUse.objects.filter(coupon=coupon, customer=customer).exists():
                raise errors.CouponUsedUp(details={"coupon": coupon.code, "per_customer": limit})
            try:
                with transaction.atomic():
                    CouponUse.objects.create(coupon=coupon, customer=customer, count=1)
                return
            except IntegrityError:
                continue
        raise errors.CouponUsedUp(details={"coupon": coupon.code})


def _coupon_give_back(order: Order) -> None:
    if order.coupon_id is None:
        return
    Coupon.objects.filter(pk=order.coupon_id, used__gt=0).update(used=F("used") - 1)
    customer = order.contact_phone or (
        Visitor.objects.filter(line__order=order).values_list("id_number", flat=True).first() or ""
    )
    if customer:
        CouponUse.objects.filter(coupon_id=order.coupon_id, customer=customer, count__gt=0).update(
            count=F("count") - 1
        )


def order_confirm(
    *,
    order: Order,
    actor: Any,
    now: dt.datetime,
    paid: Decimal | None = None,
    events: Sequence[OrderEvent] = (),
) -> list[Ticket]:
    """Fully paid: sell the held places and issue the tickets. The caller holds the order;
    ``events`` are the caller's events not yet written (they go in one insert with "paid").

    The order comes back with its lines and tickets attached. The pools are touched last, so
    that a sold-out slot's row stays locked only for the end of the transaction."""
    if not sql.order_mark_paid(order.pk, now):
        raise errors.OrderNotPending(details={"order": order.code})
    order.status, order.paid_at = Order.Status.PAID, now
    lines = _lines_to_issue(order)
    people: dict[int, list[Visitor]] = defaultdict(list)
    if any(getattr(line, "has_visitors", True) for line in lines):
        for v in Visitor.objects.filter(line__in=[ln.pk for ln in lines]).order_by("pk"):
            people[v.line_id].append(v)
    issued: list[Ticket] = []
    named: list[Visitor] = []
    for line in lines:
        if line.product.kind == Product.Kind.FEE:  # a service charge: money, no ticket
            continue
        per = line.persons
        line_people = people[line.pk]
        holders = [
            (line_people[i * per].name, line_people[i * per].id_number)
            for i in range(line.quantity)
            if i * per < len(line_people)
        ]
        tickets = tickets_issue(
            line=line, prices=[Decimal(p) for p in line.ticket_prices], holders=holders
        )
        for i, ticket in enumerate(tickets):
            for v in line_people[i * per : (i + 1) * per]:
                v.ticket = ticket
                named.append(v)
        issued += tickets
    Visitor.objects.bulk_update(named, ["ticket"])
    insert(
        [
            *events,
            event_row(
                order,
                "paid",
                actor,
                paid=paid_total(order) if paid is None else paid,
                tickets=len(issued),
            ),
        ]
    )
    capacity_confirm(lines=lines)
    if order.member_id is not None:
        points_earn(member_id=order.member_id, spent=order.total, order_id=order.pk, actor=actor)
    if order.guide_id is not None:
        own = {ln.pk for ln in lines if any(a["kind"] == "guide" for a in ln.adjustments)}
        guide_credit(
            guide_id=order.guide_id,
            site_id=order.site_id,
            order_id=order.pk,
            visitors=sum(t.persons for t in issued if t.line_id not in own),
        )
    hooks.publish(hooks.ORDER_PAID, order=order, lines=lines, now=now)
    with_details(order, lines=lines, tickets=issued)
    return issued


def _lines_to_issue(order: Order) -> list[OrderLine]:
    """The order's lines with their slots' times, in one query; products come from the catalog
    cache, and ``has_visitors`` says whether named visitors need reading at all."""
    lines = sql.lines_to_issue(order.pk)
    products = _products({ln.product_id for ln in lines})
    missing = {ln.product_id for ln in lines} - set(products)
    if missing:  # no longer on sale: read as they are
        products.update(Product.objects.select_related("site").in_bulk(missing))
    for ln in lines:
        ln.order = order
        ln.product = products[ln.product_id]
        ln.slot = _slot_of(ln) if ln.slot_id else None
    return lines


def _slot_of(line: OrderLine) -> Pool:
    """A slot read with its line (``sql.lines_to_issue``): its id and times; any other field
    is read from the database if asked for."""
    times = [getattr(line, "slot_start", None), getattr(line, "slot_end", None)]
    return Pool.from_db(connection.alias, ["id", "start", "end"], [line.slot_id, *times])


def order_cancel(*, order: Order, actor: Any, now: dt.datetime | None = None) -> Order:
    """Cancel an order that is still awaiting payment (a paid one is refunded instead)."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(
            status=Order.Status.CANCELLED, closed_at=now
        ):
            raise errors.OrderNotPending(details={"order": order.code})
        if paid_total(order) > 0:
            raise errors.OrderNotPending(details={"order": order.code, "reason": "partly_paid"})
        _release(order)
        event(order, "cancelled", actor)
    order.refresh_from_db()
    return order


def _release(order: Order) -> None:
    capacity_release(lines=list(order.lines.all()))
    _coupon_give_back(order)
    _identity_give_back(order)


def order_expire(*, order_id: int, now: dt.datetime | None = None) -> bool:
    """End an unpaid order whose hold has run out; True when this call ended it."""
    now = now or timezone.now()
    if not Order.objects.filter(
        pk=order_id, status=Order.Status.PENDING, expires_at__lt=now
    ).exists():
        return False  # the common case, without a write transaction
    with transaction.atomic():
        if not Order.objects.filter(
            pk=order_id, status=Order.Status.PENDING, expires_at__lt=now
        ).update(status=Order.Status.EXPIRED, closed_at=now):
            return False
        order = Order.objects.get(pk=order_id)
        if paid_total(order) > 0:
            # Partly paid orders keep their hold: a cashier finishes or refunds them.
            transaction.set_rollback(True)
            return False
        _release(order)
        event(order, "expired", None)
    return True


def holds_expire(
    *, now: dt.datetime | None = None, pool_ids: set[int] | None = None, limit: int = 5000
) -> int:
    """End unpaid orders whose holds have run out (all, or those holding the given pools)."""
    now = now or timezone.now()
    qs = Order.objects.filter(status=Order.Status.PENDING, expires_at__lt=now)
    if pool_ids:
        qs = qs.filter(lines__takes__pool_id__in=pool_ids, lines__takes__held__gt=0)
    ids = list(qs.values_list("pk", flat=True).distinct()[:limit])
    return sum(order_expire(order_id=i, now=now) for i in ids)


def hold_until(
    until: dt.datetime, site: Site, slots: Iterable[tuple[dt.date, Pool | None]]
) -> dt.datetime:
    """``until``, or the end of the earliest time slot held if that comes first: a hold never
    outlasts its slot (a reservation confirmed after its slot would sell an ended slot)."""
    for day, slot in slots:
        if slot is not None:
            ends = slot_end_at(day=day, start=slot.start, end=slot.end, time_zone=site.time_zone)
            if ends is not None and ends < until:
                until = ends
    return until


def order_hold_extend(
    *, order: Order, until: dt.datetime, actor: Any, now: dt.datetime | None = None
) -> Order:
    """Keep an unpaid order's places held until ``until`` (a partner's reservation asks for
    more or less time). Only while its hold still runs: an ended hold is not revived."""
    now = now or timezone.now()
    held = order.lines.filter(replaced_by__isnull=True).select_related("slot", "order__site")
    if held:
        until = hold_until(until, held[0].order.site, [(ln.date, ln.slot) for ln in held])
    with transaction.atomic():
        if not Order.objects.filter(
            pk=order.pk, status=Order.Status.PENDING, expires_at__gte=now
        ).update(expires_at=until):
            raise errors.OrderNotPending(details={"order": order.code})
        event(order, "hold_extended", actor, until=until.isoformat())
    order.expires_at = until
    return order
