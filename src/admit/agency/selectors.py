"""Reads of the agency portal: one account's figures, contract, ledger and orders, and what it
may book on a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from admit.catalog.models import Channel, Price, Product
from admit.catalog.selectors import product_price, site_day
from admit.core.errors import DomainError
from admit.customers.errors import ContractExcludes
from admit.customers.models import Account, Contract, LedgerEntry
from admit.customers.selectors import contract_terms
from admit.inventory.selectors import SlotAvailability, availability, open_slots
from admit.inventory.services import pools_ensure
from admit.sales.models import Order, Payment
from admit.sales.services.agency import AGENCY_CHANNEL

LEDGER_SHOWN = 10
ORDERS_SHOWN = 50
NOT_BOOKABLE = (Product.Kind.PASS, Product.Kind.FEE)  # passes belong to members; fees to sales


def account_contract(account: Account, day: dt.date) -> Contract | None:
    """The contract valid on ``day``, else the latest active one (shown as not valid)."""
    active = Contract.objects.filter(account=account, is_active=True).prefetch_related(
        "products__product"
    )
    return (
        active.filter(valid_from__lte=day, valid_until__gte=day).order_by("-valid_from").first()
        or active.order_by("-valid_until").first()
    )


def account_ledger(account: Account, limit: int = LEDGER_SHOWN) -> list[LedgerEntry]:
    """The latest movements of the account's prepaid balance and credit, newest first."""
    return list(
        LedgerEntry.objects.filter(account=account)
        .select_related("order")
        .order_by("-at", "-id")[:limit]
    )


def account_orders(account: Account, limit: int = ORDERS_SHOWN) -> QuerySet[Order]:
    """The account's orders, newest first, with their number of visitors and payments."""
    return (
        Order.objects.filter(account=account)
        .annotate(visitors=Sum(F("lines__quantity") * F("lines__persons")))
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("id")))
        .order_by("-placed_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Bookable:
    product: Product
    price: Decimal
    discount_percent: Decimal
    slots: list[SlotAvailability]  # timed slots to choose from; empty: the whole day

    @property
    def is_group(self) -> bool:
        return self.product.kind == Product.Kind.GROUP


def bookable_products(account: Account, day: dt.date) -> tuple[list[Bookable], str]:
    """The products the account's contract lets it book on the agency channel for ``day``,
    with the day's price, the contract's discount and the time slots; and, translated, why
    there are none (a closed day, no valid contract), else ""."""
    channel = Channel.objects.filter(code=AGENCY_CHANNEL, is_active=True).first()
    if channel is None:
        return [], _("The agency channel is not open for bookings.")
    try:
        terms = contract_terms(account.pk, timezone.localdate())
    except DomainError as exc:
        return [], str(exc.message)
    if terms is not None and terms.channels and channel.pk not in terms.channels:
        return [], str(ContractExcludes.default_message)
    products = (
        Product.objects.filter(is_active=True, channels=channel)
        .exclude(kind__in=NOT_BOOKABLE)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .select_related("site")
        .prefetch_related(
            "zones",
            "components__zone",
            Prefetch("prices", queryset=Price.objects.select_related("channel")),
        )
        .order_by("site", "sort_order", "code")
    )
    if terms is not None and terms.products:
        products = products.filter(pk__in=list(terms.products))
    out: list[Bookable] = []
    days = {}
    for p in products:
        if p.site_id not in days:
            days[p.site_id] = site_day(site=p.site, day=day)
        info = days[p.site_id]
        if info.closed:
            continue
        price = product_price(product=p, channel=channel.code, day=day, day_type=info.day_type)
        if price is None:
            continue
        slots: list[SlotAvailability] = []
        if p.takes_capacity:
            pools_ensure(site=p.site, day=day, zones=p.capacity_zones)
            found = [s for s in availability(product=p, day=day, channel=channel) if s.start]
            slots = open_slots(found, day=day, now=timezone.now(), time_zone=p.site.time_zone)
            if found and not slots:
                continue  # every time slot of the day has ended
        percent = terms.percent(p.pk) if terms is not None else Decimal("0.00")
        out.append(Bookable(p, price, percent, slots))
    if not out and days and all(info.closed for info in days.values()):
        return [], _("The site is closed on this day.")
    return out, ""
