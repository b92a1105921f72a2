"""The report aggregates computed again from the raw rows, by the same rules as ``facts``.

``compute`` answers what each aggregate table should hold for a site and a range of business
days; ``differences`` compares that with what the tables hold (``admit check-reports``);
``rebuild`` replaces the stored rows with the computed ones (after bulk loads such as
``admit gen-history``, or to repair).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import ExtractHour, TruncDate

from admit.access.models import Scan
from admit.catalog.models import Site
from admit.customers.models import LedgerEntry
from admit.sales.models import OrderLine, Payment, Refund
from admit.tickets.models import Ticket

from .models import DayClose, EntryHour, EntryProductDay, LedgerDay, MoneyDay, OriginDay, SalesDay

Key = tuple[Any, ...]
Table = dict[Key, dict[str, Any]]
ZERO = Decimal("0.00")

KEYS: dict[type[models.Model], tuple[str, ...]] = {
    SalesDay: ("site_id", "day", "product_id", "channel_id", "seller_id", "account_id", "guide_id"),
    MoneyDay: ("site_id", "day", "method", "channel_id", "shift_id"),
    LedgerDay: ("day", "account_id", "book", "kind"),
    EntryHour: ("site_id", "day", "hour", "lane_id", "direction", "late"),
    EntryProductDay: ("site_id", "day", "product_id"),
    OriginDay: ("site_id", "day", "channel_id", "province", "city"),
}


def measures(model: type[models.Model]) -> list[str]:
    keys = KEYS[model]
    return [f.name for f in model._meta.concrete_fields if not f.primary_key and f.name not in keys]


def _span(zone: zoneinfo.ZoneInfo, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of ``start`` to the end of ``end`` in ``zone``."""
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone),
    )


def _add(table: Table, key: Key, values: dict[str, Any]) -> None:
    row = table.setdefault(key, {})
    for name, value in values.items():
        row[name] = row.get(name, 0) + (value or 0)


def _sales(site: Site, start: dt.date, end: dt.date, out: dict[type[models.Model], Table]) -> None:
    zone = zoneinfo.ZoneInfo(site.time_zone)
    lo, hi = _span(zone, start, end)
    sold = (
        OrderLine.objects.filter(
            order__site=site, order__paid_at__gte=lo, order__paid_at__lt=hi, replaces=None
        )
        .annotate(day=TruncDate("order__paid_at", tzinfo=zone))
        .values(
            "day",
            "product_id",
            "order__channel_id",
            "order__created_by_id",
            "order__account_id",
            "order__guide_id",
        )
        .annotate(
            sold=Sum("quantity"),
            persons=Sum(F("quantity") * F("persons")),
            gross=Sum("base"),
            net=Sum("total"),
        )
    )
    for r in sold:
        key: Key = (
            site.pk,
            r["day"],
            r["product_id"],
            r["order__channel_id"],
            r["order__created_by_id"] or 0,
            r["order__account_id"] or 0,
            r["order__guide_id"] or 0,
        )
        _add(
            out[SalesDay],
            key,
            {
                "sold": r["sold"],
                "persons": r["persons"],
                "gross": r["gross"],
                "discount": r["gross"] - r["net"],
                "net": r["net"],
            },
        )
    origin = (
        OrderLine.objects.filter(
            order__site=site, order__paid_at__gte=lo, order__paid_at__lt=hi, replaces=None
        )
        .annotate(day=TruncDate("order__paid_at", tzinfo=zone))
        .values("day", "order__channel_id", "order__origin_province", "order__origin_city")
        .annotate(
            orders=Count("order_id", distinct=True), persons=Sum(F("quantity") * F("persons"))
        )
    )
    for r in origin:
        key = (
            site.pk,
            r["day"],
            r["order__channel_id"],
            r["order__origin_province"],
            r["order__origin_city"],
        )
        _add(out[OriginDay], key, {"orders": r["orders"], "persons": r["persons"]})

    # Tickets refunded (or voided at the window) count on the day their status changed.
    refunded = list(
        Ticket.objects.filter(
            site=site, status=Ticket.Status.REFUNDED, changed_at__gte=lo, changed_at__lt=hi
        )
        .annotate(day=TruncDate("changed_at", tzinfo=zone))
        .values_list(
            "pk",
            "day",
            "product_id",
            "price",
            "persons",
            "order_id",
            "order__channel_id",
            "order__created_by_id",
            "order__account_id",
            "order__guide_id",
            "order__origin_province",
            "order__origin_city",
        )
    )
    voided: set[int] = set()
    orders = {r[5] for r in refunded}
    for chunk in _chunks(sorted(orders), 500):
        for ids in Refund.objects.filter(order_id__in=chunk, reason="void").values_list(
            "tickets", flat=True
        ):
            voided.update(int(i) for i in ids or ())
    for (
        pk,
        day,
        product,
        price,
        persons,
        _order,
        channel,
        seller,
        account,
        guide,
        prov,
        city,
    ) in refunded:
        key = (site.pk, day, product, channel, seller or 0, account or 0, guide or 0)
        if pk in voided:
            _add(out[SalesDay], key, {"voided": 1, "voided_value": price})
        else:
            _add(out[SalesDay], key, {"refunded": 1, "refunded_value": price})
        _add(out[OriginDay], (site.pk, day, channel, prov, city), {"refunded": persons})


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _money(site: Site, start: dt.date, end: dt.date, out: dict[type[models.Model], Table]) -> None:
    zone = zoneinfo.ZoneInfo(site.time_zone)
    lo, hi = _span(zone, start, end)
    for model, measures_of in (
        (Payment, {"payments": Count("id"), "paid": Sum("amount")}),
        (Refund, {"refunds": Count("id"), "refunded": Sum("amount"), "fees": Sum("fee")}),
    ):
        rows = (
            model.objects.filter(order__site=site, at__gte=lo, at__lt=hi)
            .annotate(day=TruncDate("at", tzinfo=zone))
            .values("day", "method", "order__channel_id", "shift_id")
            .annotate(**measures_of)
        )
        for r in rows:
            key: Key = (site.pk, r["day"], r["method"], r["order__channel_id"], r["shift_id"] or 0)
            _add(out[MoneyDay], key, {name: r[name] for name in measures_of})


def _entries(
    site: Site, start: dt.date, end: dt.date, out: dict[type[models.Model], Table]
) -> None:
    zone = zoneinfo.ZoneInfo(site.time_zone)
    lo, hi = _span(zone, start, end)
    closed_late = Exists(
        DayClose.objects.filter(
            site_id=OuterRef("site_id"),
            day=OuterRef("scan_day"),
            closed_at__lt=OuterRef("received_at"),
        )
    )
    scans = Scan.objects.filter(site=site)
    # On time: counted when scanned. Late (their day closed before they came): when received.
    for late, field, window in (
        (False, "scanned_at", Q(scanned_at__gte=lo, scanned_at__lt=hi)),
        (True, "received_at", Q(received_at__gte=lo, received_at__lt=hi)),
    ):
        rows = (
            scans.filter(window)
            .annotate(scan_day=TruncDate("scanned_at", tzinfo=zone))
            .annotate(late=closed_late)
            .filter(late=late)
        )
        hours = (
            rows.annotate(day=TruncDate(field, tzinfo=zone), hour=ExtractHour(field, tzinfo=zone))
            .values("day", "hour", "lane_id", "direction")
            .annotate(
                scans=Count("id"),
                allowed=Count("id", filter=Q(result=Scan.Result.ALLOW)),
                persons=Sum("admitted"),
            )
        )
        for r in hours:
            key: Key = (site.pk, r["day"], r["hour"], r["lane_id"], r["direction"], late)
            _add(
                out[EntryHour],
                key,
                {"scans": r["scans"], "allowed": r["allowed"], "persons": r["persons"]},
            )
        products = (
            rows.filter(result=Scan.Result.ALLOW, direction="in", admitted__gt=0)
            .exclude(ticket=None)
            .annotate(day=TruncDate(field, tzinfo=zone))
            .values("day", "ticket__product_id")
            .annotate(entries=Count("id"), persons=Sum("admitted"))
        )
        for r in products:
            key = (site.pk, r["day"], r["ticket__product_id"])
            _add(out[EntryProductDay], key, {"entries": r["entries"], "persons": r["persons"]})


def _ledgers(start: dt.date, end: dt.date, out: dict[type[models.Model], Table]) -> None:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    lo, hi = _span(zone, start, end)
    rows = (
        LedgerEntry.objects.filter(at__gte=lo, at__lt=hi)
        .annotate(day=TruncDate("at", tzinfo=zone))
        .values("day", "account_id", "book", "kind")
        .annotate(entries=Count("id"), amount=Sum("amount"))
    )
    for r in rows:
        key: Key = (r["day"], r["account_id"], r["book"], r["kind"])
        _add(out[LedgerDay], key, {"entries": r["entries"], "amount": r["amount"]})


PARTS: tuple[Callable[[Site, dt.date, dt.date, dict[type[models.Model], Table]], None], ...] = (
    _sales,
    _money,
    _entries,
)


def compute(
    start: dt.date, end: dt.date, *, sites: Iterable[Site] | None = None, ledgers: bool = True
) -> dict[type[models.Model], Table]:
    """What every aggregate should hold for the business days ``start``..``end``."""
    out: dict[type[models.Model], Table] = defaultdict(dict)
    for site in sites if sites is not None else Site.objects.all():
        for part in PARTS:
            part(site, start, end, out)
    if ledgers:
        _ledgers(start, end, out)
    return {model: out.get(model, {}) for model in KEYS}


def _stored_rows(
    model: type[models.Model], start: dt.date, end: dt.date, site_ids: set[int] | None
) -> models.QuerySet[Any]:
    qs = model._default_manager.filter(day__gte=start, day__lte=end)
    if site_ids is not None and "site_id" in KEYS[model]:
        qs = qs.filter(site_id__in=site_ids)
    return qs


def stored(
    start: dt.date, end: dt.date, *, site_ids: set[int] | None = None
) -> dict[type[models.Model], Table]:
    out: dict[type[models.Model], Table] = {}
    for model, keys in KEYS.items():
        names = measures(model)
        table: Table = {}
        for r in _stored_rows(model, start, end, site_ids).values(*keys, *names):
            if any(r[n] for n in names):
                table[tuple(r[k] for k in keys)] = {n: r[n] for n in names}
        out[model] = table
    return out


def _clean(table: Table, names: list[str]) -> Table:
    return {
        k: {n: v.get(n, 0) or 0 for n in names}
        for k, v in table.items()
        if any(v.get(n) for n in names)
    }


def differences(start: dt.date, end: dt.date, *, sites: Iterable[Site] | None = None) -> list[str]:
    """Where the stored aggregates disagree with the raw rows, one line each."""
    site_list = list(sites) if sites is not None else list(Site.objects.all())
    want = compute(start, end, sites=site_list)
    have = stored(start, end, site_ids={s.pk for s in site_list})
    problems: list[str] = []
    for model, keys in KEYS.items():
        names = measures(model)
        w, h = _clean(want[model], names), _clean(have[model], names)
        for key in sorted(set(w) | set(h), key=str):
            a, b = w.get(key), h.get(key)
            if a != b:
                label = ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))
                problems.append(f"{model.__name__} [{label}]: rows say {a}, aggregate holds {b}")
    return problems


def rebuild(
    start: dt.date, end: dt.date, *, sites: Iterable[Site] | None = None, ledgers: bool = True
) -> int:
    """Replace the stored aggregates of ``start``..``end`` with the computed ones; the number
    of rows written."""
    site_list = list(sites) if sites is not None else list(Site.objects.all())
    want = compute(start, end, sites=site_list, ledgers=ledgers)
    written = 0
    with transaction.atomic():
        for model, keys in KEYS.items():
            if model is LedgerDay and not ledgers:
                continue
            _stored_rows(model, start, end, {s.pk for s in site_list}).delete()
            objs = [
                model(**dict(zip(keys, key, strict=True)), **values)
                for key, values in want[model].items()
            ]
            model._default_manager.bulk_create(objs, batch_size=2000)
            written += len(objs)
    return written
