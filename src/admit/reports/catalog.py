"""Every report: what it shows, how it may be grouped, and the query behind it.

A report reads the aggregates (``models``) or small tables (pools, paper stock), never the raw
sales and scans, so it answers in milliseconds over a year of a busy site. Each returns a
``Result``: columns, rows, a totals row and a chart, which the pages, the CSV and XLSX exports,
the API and ``admit bench reports`` all share.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from admit.catalog.models import Channel, Gate, Lane, Product, Site
from admit.customers.models import Account, Book, Guide
from admit.inventory.models import Pool

from .models import EntryHour, EntryProductDay, LedgerDay, MoneyDay, OriginDay, SalesDay

ZERO = Decimal("0.00")
MAX_DAYS = 400


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise | str
    kind: str = "int"  # text, int, money, percent


@dataclass
class Result:
    columns: list[Column]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    # {"type": "bar" | "line", "labels": [...], "series": [{"label", "data"}]}
    chart: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    site: Site
    start: dt.date
    end: dt.date
    group: str = ""
    product: int | None = None
    channel: int | None = None


@dataclass(frozen=True)
class Report:
    code: str
    title: Promise
    description: Promise
    groups: tuple[tuple[str, Promise], ...]
    run: Callable[[Filters], Result]
    uses_product: bool = False
    uses_channel: bool = False


# --- helpers ---------------------------------------------------------------------------------


def _days(f: Filters, qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.filter(site_id=f.site.pk, day__gte=f.start, day__lte=f.end)


def _names(model: Any, ids: Iterable[int], label: Callable[[Any], str] = str) -> dict[int, str]:
    wanted = {i for i in ids if i}
    return {o.pk: label(o) for o in model.objects.filter(pk__in=wanted)} if wanted else {}


def _staff_names(ids: Iterable[int]) -> dict[int, str]:
    user = get_user_model()
    return _names(user, ids, lambda u: getattr(u, "display_name", "") or u.get_username())


def _pct(part: Any, whole: Any) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _totals(columns: list[Column], rows: list[list[Any]], first: Any = None) -> list[Any]:
    out: list[Any] = []
    for i, c in enumerate(columns):
        if i == 0:
            out.append(first if first is not None else _("Total"))
        elif c.kind in ("int", "money"):
            out.append(sum((r[i] or 0 for r in rows), ZERO if c.kind == "money" else 0))
        else:
            out.append(None)
    return out


def _bar(
    labels: list[Any], series: list[tuple[Any, list[Any]]], kind: str = "bar"
) -> dict[str, Any]:
    return {
        "type": kind,
        "labels": [str(x) for x in labels],
        "series": [
            {"label": str(name), "data": [float(v or 0) for v in data]} for name, data in series
        ],
    }


# --- sales -----------------------------------------------------------------------------------

SALES_GROUPS = (
    ("product", _("product")),
    ("channel", _("channel")),
    ("seller", _("seller")),
    ("day", _("day")),
)
SALES_MEASURES = (
    "sold",
    "persons",
    "gross",
    "discount",
    "net",
    "refunded",
    "refunded_value",
    "voided",
    "voided_value",
)
SALES_FIELDS = {
    "product": "product_id",
    "channel": "channel_id",
    "seller": "seller_id",
    "day": "day",
}


def _label_for(group: str, keys: Iterable[Any]) -> dict[Any, str]:
    keys = list(keys)
    if group == "product":
        return _names(Product, keys)
    if group == "channel":
        return _names(Channel, keys)
    if group in ("seller",):
        return _staff_names(keys)
    if group == "account":
        return _names(Account, keys)
    if group == "guide":
        return _names(Guide, keys)
    return {k: str(k) for k in keys}


def sales_sums() -> dict[str, Sum]:
    """The sums of every ``SalesDay`` counter, named as the counters."""
    return {name: Sum(name) for name in SALES_MEASURES}


def _sales_rows(
    f: Filters, group: str, extra: Q | None = None
) -> tuple[list[Any], list[dict[str, Any]]]:
    qs = _days(f, SalesDay.objects.all())
    if f.product:
        qs = qs.filter(product_id=f.product)
    if f.channel:
        qs = qs.filter(channel_id=f.channel)
    if extra is not None:
        qs = qs.filter(extra)
    key = SALES_FIELDS.get(group, group + "_id")
    rows = list(qs.values(key).annotate(**sales_sums()).order_by(key))
    return [r[key] for r in rows], rows


def sales_report(f: Filters) -> Result:
    group = f.group or "product"
    keys, rows = _sales_rows(f, group)
    names = _label_for(group, keys)
    columns = [
        Column(group, dict(SALES_GROUPS)[group], "text"),
        Column("sold", _("tickets sold")),
        Column("persons", _("persons")),
        Column("gross", _("before discounts"), "money"),
        Column("discount", _("discounts"), "money"),
        Column("net", _("sales"), "money"),
        Column("refunded", _("tickets refunded")),
        Column("refunded_value", _("refunded value"), "money"),
        Column("voided", _("tickets voided")),
        Column("voided_value", _("voided value"), "money"),
        Column("kept", _("sales after refunds and voids"), "money"),
    ]
    out: list[list[Any]] = []
    for k, r in zip(keys, rows, strict=True):
        label = names.get(k, str(k)) if group != "day" else k.isoformat()
        if group == "seller" and not k:
            label = str(_("online and partners"))
        kept = r["net"] - r["refunded_value"] - r["voided_value"]
        out.append(
            [
                label,
                r["sold"],
                r["persons"],
                r["gross"],
                r["discount"],
                r["net"],
                r["refunded"],
                r["refunded_value"],
                r["voided"],
                r["voided_value"],
                kept,
            ]
        )
    chart = _bar(
        [r[0] for r in out],
        [(_("sales"), [r[5] for r in out])],
        "line" if group == "day" else "bar",
    )
    return Result(columns, out, _totals(columns, out), chart)


def adjustments_report(f: Filters) -> Result:
    group = f.group or "product"
    keys, rows = _sales_rows(f, group)
    names = _label_for(group, keys)
    columns = [
        Column(group, dict(SALES_GROUPS)[group], "text"),
        Column("discount", _("discounts"), "money"),
        Column("discount_pct", _("discount share"), "percent"),
        Column("refunded", _("tickets refunded")),
        Column("refunded_value", _("refunded value"), "money"),
        Column("voided", _("tickets voided")),
        Column("voided_value", _("voided value"), "money"),
    ]
    out: list[list[Any]] = []
    for k, r in zip(keys, rows, strict=True):
        if not (r["discount"] or r["refunded"] or r["voided"]):
            continue
        label = names.get(k, str(k)) if group != "day" else k.isoformat()
        out.append(
            [
                label,
                r["discount"],
                _pct(r["discount"], r["gross"]),
                r["refunded"],
                r["refunded_value"],
                r["voided"],
                r["voided_value"],
            ]
        )
    chart = _bar(
        [r[0] for r in out],
        [
            (_("discounts"), [r[1] for r in out]),
            (_("refunded value"), [r[4] for r in out]),
            (_("voided value"), [r[6] for r in out]),
        ],
    )
    return Result(columns, out, _totals(columns, out), chart)


# --- money -----------------------------------------------------------------------------------

PAYMENT_GROUPS = (
    ("method", _("method")),
    ("cashier", _("cashier")),
    ("channel", _("channel")),
    ("day", _("day")),
)


def _method_label(code: str) -> str:
    from admit.sales.models import PaymentMethod

    try:
        return str(PaymentMethod(code).label)
    except ValueError:
        return code


def payments_report(f: Filters) -> Result:
    from admit.boxoffice.models import Shift

    group = f.group or "method"
    qs = _days(f, MoneyDay.objects.all())
    if f.channel:
        qs = qs.filter(channel_id=f.channel)
    key = {"method": "method", "cashier": "shift_id", "channel": "channel_id", "day": "day"}[group]
    sums = dict(
        payments=Sum("payments"),
        paid=Sum("paid"),
        refunds=Sum("refunds"),
        refunded=Sum("refunded"),
        fees=Sum("fees"),
    )
    rows = list(qs.values(key).annotate(**sums).order_by(key))
    if group == "cashier":  # shifts → their cashiers
        cashier_of = dict(
            Shift.objects.filter(pk__in={r["shift_id"] for r in rows if r["shift_id"]}).values_list(
                "pk", "cashier_id"
            )
        )
        merged: dict[int, dict[str, Any]] = {}
        for r in rows:
            c = cashier_of.get(r["shift_id"], 0)
            into = merged.setdefault(c, {"shift_id": c, **{n: 0 for n in sums}})
            for n in sums:
                into[n] += r[n]
        rows = [merged[c] for c in sorted(merged)]
        names = _staff_names(merged)
        label = lambda k: names.get(k) or str(_("not at a window"))  # noqa: E731
    elif group == "channel":
        names = _names(Channel, [r[key] for r in rows])
        label = lambda k: names.get(k, str(k))  # noqa: E731
    elif group == "method":
        label = _method_label
    else:
        label = lambda k: k.isoformat()  # noqa: E731
    columns = [
        Column(group, dict(PAYMENT_GROUPS)[group], "text"),
        Column("payments", _("payments")),
        Column("paid", _("taken"), "money"),
        Column("refunds", _("refunds")),
        Column("refunded", _("paid back"), "money"),
        Column("fees", _("refund fees kept"), "money"),
        Column("net", _("net takings"), "money"),
    ]
    out = [
        [
            label(r[key]),
            r["payments"],
            r["paid"],
            r["refunds"],
            r["refunded"],
            r["fees"],
            r["paid"] - r["refunded"],
        ]
        for r in rows
    ]
    chart = _bar(
        [r[0] for r in out],
        [(_("net takings"), [r[6] for r in out])],
        "line" if group == "day" else "bar",
    )
    return Result(columns, out, _totals(columns, out), chart)


def finance_report(f: Filters) -> Result:
    """The business-day summary: takings per method, refunds, account movements, per day."""
    from admit.customers.models import Book

    money = list(
        _days(f, MoneyDay.objects.all())
        .values("day", "method")
        .annotate(paid=Sum("paid"), refunded=Sum("refunded"))
    )
    methods = sorted({r["method"] for r in money})
    ledgers = list(
        LedgerDay.objects.filter(day__gte=f.start, day__lte=f.end)
        .values("day", "book", "kind")
        .annotate(amount=Sum("amount"))
    )
    days = sorted({r["day"] for r in money} | {r["day"] for r in ledgers})
    by_day: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in money:
        by_day[r["day"]][f"in:{r['method']}"] += r["paid"]
        by_day[r["day"]]["refunded"] += r["refunded"]
    for r in ledgers:
        book = "prepaid" if r["book"] == Book.PREPAID else "credit"
        sign = "up" if r["amount"] > 0 else "down"
        by_day[r["day"]][f"{book}:{sign}"] += abs(r["amount"])
    columns = [Column("day", _("business day"), "text")]
    columns += [Column(f"in:{m}", _method_label(m), "money") for m in methods]
    columns += [
        Column("taken", _("taken"), "money"),
        Column("refunded", _("paid back"), "money"),
        Column("net", _("net takings"), "money"),
        Column("prepaid:up", _("prepaid topped up / returned"), "money"),
        Column("prepaid:down", _("prepaid drawn"), "money"),
        Column("credit:up", _("credit charged"), "money"),
        Column("credit:down", _("credit repaid / refunded"), "money"),
    ]
    out: list[list[Any]] = []
    for d in days:
        v = by_day[d]
        taken = sum((v[f"in:{m}"] for m in methods), ZERO)
        out.append(
            [
                d.isoformat(),
                *(v[f"in:{m}"] for m in methods),
                taken,
                v["refunded"],
                taken - v["refunded"],
                v["prepaid:up"],
                v["prepaid:down"],
                v["credit:up"],
                v["credit:down"],
            ]
        )
    chart = _bar(
        [r[0] for r in out],
        [(_method_label(m), [r[1 + i] for r in out]) for i, m in enumerate(methods)],
    )
    notes = [str(_("Account movements are those of every site (accounts are not per site)."))]
    return Result(columns, out, _totals(columns, out), chart, notes)


# --- entries ---------------------------------------------------------------------------------

ENTRY_GROUPS = (("gate", _("gate")), ("lane", _("lane")), ("hour", _("hour")), ("day", _("day")))


def entries_report(f: Filters) -> Result:
    group = f.group or "gate"
    qs = _days(f, EntryHour.objects.all())
    key = {"gate": "lane_id", "lane": "lane_id", "hour": "hour", "day": "day"}[group]
    rows = list(
        qs.values(key, "direction").annotate(
            scans=Sum("scans"), allowed=Sum("allowed"), persons=Sum("persons")
        )
    )
    lanes = {ln.pk: ln for ln in Lane.objects.filter(gate__site=f.site).select_related("gate")}
    table: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        k = r[key]
        if group == "gate":
            lane = lanes.get(k)
            k = lane.gate_id if lane else 0
        t = table[k]
        t["scans"] += r["scans"]
        t["allowed"] += r["allowed"]
        t["denied"] += r["scans"] - r["allowed"]
        t["in" if r["direction"] == "in" else "out"] += (
            r["persons"] if r["direction"] in ("in", "out") else 0
        )
    if group == "gate":
        gates = {g.pk: str(g) for g in Gate.objects.filter(site=f.site)}
        label = lambda k: gates.get(k, str(k))  # noqa: E731
    elif group == "lane":
        label = lambda k: str(lanes[k]) if k in lanes else str(k)  # noqa: E731
    elif group == "hour":
        label = lambda k: f"{k:02d}:00"  # noqa: E731
    else:
        label = lambda k: k.isoformat()  # noqa: E731
    columns = [
        Column(group, dict(ENTRY_GROUPS)[group], "text"),
        Column("in", _("persons in")),
        Column("out", _("persons out")),
        Column("scans", _("scans")),
        Column("allowed", _("allowed")),
        Column("denied", _("denied")),
        Column("denied_pct", _("denied share"), "percent"),
    ]
    out: list[list[Any]] = []
    for k in sorted(table, key=lambda x: (str(type(x)), x)):
        t = table[k]
        out.append(
            [
                label(k),
                t["in"],
                t["out"],
                t["scans"],
                t["allowed"],
                t["denied"],
                _pct(t["denied"], t["scans"]),
            ]
        )
    chart = _bar(
        [r[0] for r in out],
        [(_("persons in"), [r[1] for r in out]), (_("persons out"), [r[2] for r in out])],
        "line" if group in ("hour", "day") else "bar",
    )
    late = qs.filter(late=True).aggregate(n=Sum("scans"))["n"]
    notes = (
        [
            ngettext(
                "%(n)s scan arrived after its day was closed; it counts when it arrived.",
                "%(n)s scans arrived after their day was closed; they count when they arrived.",
                late,
            )
            % {"n": late}
        ]
        if late
        else []
    )
    return Result(columns, out, _totals(columns, out), chart, notes)


def site_capacity(site: Site, day: dt.date) -> int:
    """The day's capacity of the site's own pools (not those of zones inside it)."""
    pools = Pool.objects.filter(site=site, date=day, zone__parent=None)
    return int(pools.aggregate(c=Sum("capacity"))["c"] or 0)


def occupancy_report(f: Filters) -> Result:
    """Hour by hour over the range: persons in and out, inside at the end of the hour, against
    the capacity of the days (inside is counted from the first hour of each day)."""
    rows = list(
        _days(f, EntryHour.objects.all())
        .values("day", "hour", "direction")
        .annotate(persons=Sum("persons"))
        .order_by("day", "hour")
    )
    flows: dict[tuple[dt.date, int], dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0})
    for r in rows:
        if r["direction"] in ("in", "out"):
            flows[(r["day"], r["hour"])][r["direction"]] += r["persons"]
    caps = dict(  # one query for every day of the range
        Pool.objects.filter(site=f.site, date__gte=f.start, date__lte=f.end, zone__parent=None)
        .values("date")
        .annotate(c=Sum("capacity"))
        .values_list("date", "c")
    )
    columns = [
        Column("hour", _("hour"), "text"),
        Column("in", _("persons in")),
        Column("out", _("persons out")),
        Column("inside", _("inside at the end of the hour")),
        Column("capacity", _("capacity of the day")),
        Column("fill", _("inside against capacity"), "percent"),
    ]
    out: list[list[Any]] = []
    inside = 0
    current: dt.date | None = None
    for d, h in sorted(flows):
        if d != current:
            inside, current = 0, d
        v = flows[(d, h)]
        inside = max(inside + v["in"] - v["out"], 0)
        out.append(
            [
                f"{d.isoformat()} {h:02d}:00",
                v["in"],
                v["out"],
                inside,
                int(caps.get(d) or 0),
                _pct(inside, int(caps.get(d) or 0)),
            ]
        )
    chart = _bar(
        [r[0] for r in out],
        [(_("inside"), [r[3] for r in out]), (_("capacity of the day"), [r[4] for r in out])],
        "line",
    )
    totals: list[Any] = [_("Total"), sum(int(r[1]) for r in out), sum(int(r[2]) for r in out)]
    totals += [None, None, None]
    return Result(columns, out, totals, chart)


# --- visitors ---------------------------------------------------------------------------------

ORIGIN_GROUPS = (("province", _("province")), ("city", _("city")))


def origin_report(f: Filters) -> Result:
    from admit.customers.origin import region_label

    group = f.group or "province"
    qs = _days(f, OriginDay.objects.all())
    if f.channel:
        qs = qs.filter(channel_id=f.channel)
    keys = ["province"] if group == "province" else ["province", "city"]
    rows = list(
        qs.values(*keys).annotate(
            orders=Sum("orders"), persons=Sum("persons"), refunded=Sum("refunded")
        )
    )
    total = sum(r["persons"] - r["refunded"] for r in rows) or 0
    columns = [
        Column(group, dict(ORIGIN_GROUPS)[group], "text"),
        Column("orders", _("orders")),
        Column("persons", _("persons")),
        Column("refunded", _("persons refunded")),
        Column("visitors", _("visitors")),
        Column("share", _("share"), "percent"),
    ]
    out: list[list[Any]] = []
    for r in sorted(rows, key=lambda r: -(r["persons"] - r["refunded"])):
        code = r["city"] if group == "city" else r["province"]
        name = (region_label(code) or code) if code else str(_("unknown"))
        if group == "city" and code and code != r["province"]:
            name = f"{region_label(r['province']) or r['province']} {name}"
        v = r["persons"] - r["refunded"]
        out.append([name, r["orders"], r["persons"], r["refunded"], v, _pct(v, total)])
    chart = _bar([r[0] for r in out[:15]], [(_("visitors"), [r[4] for r in out[:15]])])
    chart["ranked"] = True
    return Result(columns, out, _totals(columns, out), chart)


# --- accounts, guides, partners --------------------------------------------------------------


def _performance(f: Filters, dim: str, only: Q, label_of: dict[int, str]) -> Result:
    keys, rows = _sales_rows(f, dim, only)
    columns = [
        Column(dim, _("name"), "text"),
        Column("sold", _("tickets sold")),
        Column("persons", _("persons")),
        Column("net", _("sales"), "money"),
        Column("refunded", _("tickets refunded")),
        Column("refunded_value", _("refunded value"), "money"),
        Column("kept", _("sales after refunds"), "money"),
    ]
    out: list[list[Any]] = []
    for k, r in zip(keys, rows, strict=True):
        out.append(
            [
                label_of.get(k, str(k)),
                r["sold"],
                r["persons"],
                r["net"],
                r["refunded"],
                r["refunded_value"],
                r["net"] - r["refunded_value"] - r["voided_value"],
            ]
        )
    out.sort(key=lambda r: -r[3])
    chart = _bar([r[0] for r in out[:15]], [(_("sales"), [r[3] for r in out[:15]])])
    return Result(columns, out, _totals(columns, out), chart)


def agencies_report(f: Filters) -> Result:
    names = dict(Account.objects.values_list("pk", "name"))
    result = _performance(f, "account", ~Q(account_id=0), names)
    # settlement: how much each account's credit moved in the range (prepaid is paid up front)
    credit = (
        LedgerDay.objects.filter(day__gte=f.start, day__lte=f.end, book=Book.CREDIT)
        .values("account_id")
        .annotate(amount=Sum("amount"))
    )
    owed = {names.get(m["account_id"], str(m["account_id"])): m["amount"] for m in credit}
    result.columns.append(Column("credit_moved", _("credit used in the range"), "money"))
    for row in result.rows:
        row.append(owed.get(row[0], ZERO))
    if result.totals is not None:
        result.totals.append(sum((r[-1] for r in result.rows), ZERO))
    return result


def guides_report(f: Filters) -> Result:
    names = {g.pk: str(g) for g in Guide.objects.all()}
    return _performance(f, "guide", ~Q(guide_id=0), names)


def partners_report(f: Filters) -> Result:
    from admit.partners.models import Partner

    channels = {p.channel_id: p.name for p in Partner.objects.all()}
    return _performance(f, "channel", Q(channel_id__in=list(channels)), channels)


# --- products, passes, slots, paper ---------------------------------------------------------


def passes_report(f: Filters) -> Result:
    from admit.customers.models import Pass

    passes = {p.pk: str(p) for p in Product.objects.filter(site=f.site, kind=Product.Kind.PASS)}
    rows = list(
        _days(f, EntryProductDay.objects.filter(product_id__in=list(passes)))
        .values("product_id")
        .annotate(entries=Sum("entries"), persons=Sum("persons"))
    )
    sold = dict(
        _days(f, SalesDay.objects.filter(product_id__in=list(passes)))
        .values("product_id")
        .annotate(n=Sum("sold"))
        .values_list("product_id", "n")
    )
    days = (f.end - f.start).days + 1
    columns = [
        Column("product", _("pass"), "text"),
        Column("sold", _("sold or renewed")),
        Column("entries", _("entries")),
        Column("per_day", _("entries per day"), "text"),
        Column("live", _("passes valid now")),
    ]
    live = dict(
        Pass.objects.filter(status=Pass.Status.ACTIVE, valid_until__gte=dt.date.today())
        .values("product_id")
        .annotate(n=Count("id"))
        .values_list("product_id", "n")
    )
    by = {r["product_id"]: r for r in rows}
    out: list[list[Any]] = []
    for pid, name in sorted(passes.items(), key=lambda x: x[1]):
        e = by.get(pid, {}).get("entries", 0)
        out.append([name, sold.get(pid, 0), e, f"{e / days:.1f}", live.get(pid, 0)])
    chart = _bar([r[0] for r in out], [(_("entries"), [r[2] for r in out])])
    return Result(columns, out, _totals(columns, out), chart)


def slots_report(f: Filters) -> Result:
    pools = (
        Pool.objects.filter(zone__site=f.site, date__gte=f.start, date__lte=f.end)
        .select_related("zone")
        .order_by("date", "zone__name", "start")
    )
    columns = [
        Column("date", _("date"), "text"),
        Column("zone", _("zone"), "text"),
        Column("slot", _("time slot"), "text"),
        Column("capacity", _("capacity")),
        Column("sold", _("sold")),
        Column("held", _("held")),
        Column("fill", _("fill rate"), "percent"),
    ]
    out: list[list[Any]] = []
    for p in pools:
        slot = f"{p.start:%H:%M}–{p.end:%H:%M}" if p.start and p.end else str(_("all day"))
        out.append(
            [
                p.date.isoformat(),
                str(p.zone),
                slot,
                p.capacity,
                p.sold,
                p.held,
                _pct(p.sold, p.capacity),
            ]
        )
    chart = _bar([f"{r[0]} {r[2]}" for r in out[:60]], [(_("fill rate"), [r[6] for r in out[:60]])])
    return Result(columns, out, _totals(columns, out), chart)


def stock_report(f: Filters) -> Result:
    from admit.boxoffice.stock_report import overview

    batches, _total = overview()
    columns = [
        Column("batch", _("batch"), "text"),
        Column("received", _("received")),
        Column("in_store", _("in the store")),
        Column("issued", _("issued to cashiers")),
        Column("used", _("used")),
        Column("voided", _("voided")),
        Column("balanced", _("adds up"), "text"),
    ]
    out: list[list[Any]] = []
    for batch, fig in batches:
        if batch.site_id != f.site.pk:
            continue
        out.append(
            [
                str(batch),
                fig.received,
                fig.in_store,
                fig.issued,
                fig.used,
                fig.voided,
                str(_("yes")) if fig.balanced else str(_("NO")),
            ]
        )
    chart = _bar(
        [r[0] for r in out], [(_("used"), [r[4] for r in out]), (_("voided"), [r[5] for r in out])]
    )
    return Result(
        columns,
        out,
        _totals(columns, out),
        chart,
        [str(_("Paper stock is counted as it stands now."))],
    )


FEN = Decimal("0.01")


def _finished(fn: Callable[[Filters], Result]) -> Callable[[Filters], Result]:
    """Money to two places (SQLite sums lose them), labels as plain text."""

    def run(f: Filters) -> Result:
        result = fn(f)
        kinds = [c.kind for c in result.columns]
        for row in [*result.rows, *([result.totals] if result.totals is not None else [])]:
            for i, kind in enumerate(kinds):
                value = row[i]
                if value is None:
                    continue
                if kind == "money":
                    row[i] = Decimal(value).quantize(FEN)
                elif kind == "text":
                    row[i] = str(value)
        return result

    return run


def _report(
    code: str,
    title: Promise,
    description: Promise,
    groups: tuple[tuple[str, Promise], ...],
    fn: Callable[[Filters], Result],
    uses_product: bool = False,
    uses_channel: bool = False,
) -> Report:
    return Report(code, title, description, groups, _finished(fn), uses_product, uses_channel)


REPORTS: dict[str, Report] = {
    r.code: r
    for r in (
        _report(
            "sales",
            _("Sales"),
            _("Tickets and money sold per product, channel, seller or day."),
            SALES_GROUPS,
            sales_report,
            True,
            True,
        ),
        _report(
            "payments",
            _("Takings"),
            _("Money taken and paid back per method, cashier, channel or day."),
            PAYMENT_GROUPS,
            payments_report,
            False,
            True,
        ),
        _report(
            "finance",
            _("Business-day summary"),
            _("Per day: takings per method, refunds, prepaid and credit movements."),
            (),
            finance_report,
        ),
        _report(
            "adjustments",
            _("Refunds, discounts and voids"),
            _("What was given back or taken off, and by whom."),
            SALES_GROUPS,
            adjustments_report,
            True,
            True,
        ),
        _report(
            "entries",
            _("Entries"),
            _("Persons in and out per gate, lane, hour or day; denied scans."),
            ENTRY_GROUPS,
            entries_report,
        ),
        _report(
            "occupancy",
            _("Occupancy"),
            _("Inside the site hour by hour against the day's capacity."),
            (),
            occupancy_report,
        ),
        _report(
            "origin",
            _("Visitor origin"),
            _("Where visitors come from, by province or city."),
            ORIGIN_GROUPS,
            origin_report,
            False,
            True,
        ),
        _report(
            "agencies",
            _("Agencies and accounts"),
            _("Sales and settlement of travel agencies and corporate accounts."),
            (),
            agencies_report,
            True,
        ),
        _report(
            "guides",
            _("Guides"),
            _("Groups brought by guides and drivers."),
            (),
            guides_report,
            True,
        ),
        _report(
            "partners",
            _("Partners"),
            _("Sales through OTA and reseller partners."),
            (),
            partners_report,
            True,
        ),
        _report(
            "passes",
            _("Pass usage"),
            _("Annual and other passes: sold, entries, valid now."),
            (),
            passes_report,
        ),
        _report(
            "slots",
            _("Slot fill rates"),
            _("Capacity, sold and fill rate of every time slot."),
            (),
            slots_report,
        ),
        _report(
            "stock",
            _("Paper stock"),
            _("Numbered paper tickets: received, issued, used, voided."),
            (),
            stock_report,
        ),
    )
}
