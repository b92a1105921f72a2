"""The online shop (官方微商城): phones book and pay through the sales engine on the ``online``
channel, look their orders up, refund and change dates themselves.

Who acts. Buyers are anonymous, or members signed in with a code sent to their phone
(``services.members``): the shop's orders, payments, refunds and date changes are written for
``SHOP``, an actor without a database id labelled ``shop``. An order belongs to the contact
phone given with it, and to the member who booked it signed in (member prices, points).

Who may see an order. The browser that placed it (its session remembers the code), the member
it belongs to while signed in, or anyone who gives its code *and* its contact phone. A wrong
phone and an unknown code get the same answer, so that a code leaks nothing; every lookup that
finds nothing is written in the audit trail with the caller's address, and after
``LOOKUP_FAILURES`` of them within ``LOOKUP_WINDOW`` that address gets
``shop_lookup_rate_limited`` until the window has passed.

Against scalpers. Products may limit tickets per ID number and day (the sales engine enforces
it); the shop also limits the tickets one contact phone holds per visit day
(``ShopSettings.phone_limit_per_day``). The count lives in a ``PhoneQuota`` row (created
beforehand in its own short transaction) taken with one conditional UPDATE in the transaction
that places the order. The counter only grows; when it
refuses, the phone's live tickets (unexpired holds and valid or used tickets: expired,
cancelled, refunded and exchanged ones gave their places back) are counted under the row's lock
and the counter is set to that before it is tried once more.

Double submit. The booking form carries a one-time key; placing runs through
``core.idempotency``, so a second submit of the same form (even at the same instant) gets the
first order back instead of a second one.

Waiting room. On a rush day (or every day when the site's settings say so) buyers first take a
place in the queue; each poll admits waiting places in the order they joined, at most
``queue_rate_per_minute`` within any minute, and an admitted buyer may shop for
``queue_admit_minutes``. All of it is rows in the database: no Redis needed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.catalog.models import Product, Site
from admit.core.context import current_context
from admit.core.errors import Conflict, NotFound, RateLimited, ValidationFailed
from admit.core.idempotency import IdempotencyKeyReused, fingerprint, run_idempotent
from admit.core.models import AuditEntry
from admit.core.services import audit_record
from admit.customers.models import Member
from admit.sales import errors as sales_errors
from admit.sales.models import Order, OrderLine, PaymentIntent, Refund
from admit.sales.selectors import order_by_code
from admit.sales.services import (
    LineRequest,
    intent_sync,
    order_cancel,
    order_expire,
    order_pay_online,
    order_place,
    order_refund,
    order_reschedule,
)
from admit.sales.services.orders import MAX_LINES
from admit.tickets.models import Ticket

from ..models import PhoneQuota, QueueEntry, RushDay, ShopSettings

CHANNEL = "online"
SHOP_KINDS = (Product.Kind.ADMISSION, Product.Kind.COMBO)
MAX_QUANTITY = 10
LOOKUP_FAILURES = 10
LOOKUP_WINDOW = dt.timedelta(seconds=60)
LOOKUP_FAILED = "shop_lookup_failed"
QUEUE_WINDOW = dt.timedelta(seconds=60)


# --- Refusals ---------------------------------------------------------------------------------


class InvalidPhone(ValidationFailed):
    code = "invalid_phone"
    default_message = _("Enter a mobile phone number (digits only).")


class NoTickets(ValidationFailed):
    code = "no_tickets"
    default_message = _("Choose at least one ticket.")


class ShopOrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("No order matches this code and phone number.")


class ShopLookupLocked(RateLimited):
    code = "shop_lookup_rate_limited"
    default_message = _("Too many searches found nothing. Please wait a minute and try again.")


class PhoneLimitReached(Conflict):
    code = "phone_limit_reached"
    default_message = _("This phone number already holds the most tickets allowed for this day.")


class HoldExpired(Conflict):
    code = "hold_expired"
    default_message = _(
        "The time to pay for this order ran out and its places were given back. Please book again."
    )


class ChangeCostsMore(Conflict):
    code = "payment_required"
    default_message = _(
        "The new date costs more, and the shop cannot take the difference. Choose a day at "
        "the same price, or change the date at the ticket window."
    )


class FormAlreadySent(Conflict):
    code = "form_already_sent"
    default_message = _("This form was already sent with other details. Please start again.")


# --- Who acts in the shop -------------------------------------------------------------------


@dataclass(frozen=True)
class ShopActor:
    """The shop as the actor of its buyers' writes: no database id, no rights, no shift."""

    pk: None = None
    is_superuser: bool = False

    def get_username(self) -> str:
        return "shop"

    def __str__(self) -> str:
        return self.get_username()


SHOP = ShopActor()


# --- Settings --------------------------------------------------------------------------------


def shop_settings(site: Site) -> ShopSettings:
    """The site's shop settings (the defaults, unsaved, where none were set)."""
    return ShopSettings.objects.filter(site=site).first() or ShopSettings(site=site)


def _settings_ensure(site: Site) -> None:
    """Create the site's settings row in its own short transaction (creators racing inside
    their transactions deadlock on MariaDB)."""
    if not ShopSettings.objects.filter(site=site).exists():
        with contextlib.suppress(IntegrityError), transaction.atomic():
            ShopSettings.objects.create(site=site)


def phone_normalize(phone: str) -> str:
    """A contact phone as its digits (spaces, dashes and a leading + dropped): 5 to 20."""
    digits = re.sub(r"[\s\-()+]", "", phone[:40])
    if not (digits.isascii() and digits.isdigit() and 5 <= len(digits) <= 20):
        raise InvalidPhone(details={"phone": phone[:32]})
    return digits


# --- The limit per phone --------------------------------------------------------------------


def phone_tickets(*, site: Site, phone: str, day: dt.date, now: dt.datetime) -> int:
    """Tickets a contact phone holds in the shop for a visit day: places held by unpaid orders
    that have not expired, and valid or used tickets."""
    mine = {"order__site": site, "order__contact_phone": phone, "order__channel__code": CHANNEL}
    held = (
        OrderLine.objects.filter(
            **mine,
            date=day,
            order__status=Order.Status.PENDING,
            order__expires_at__gt=now,
        ).aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    issued = Ticket.objects.filter(**mine, line__date=day, status__in=Ticket.LIVE).count()
    return int(held) + issued


def phone_quota_ensure(*, site: Site, phone: str, days: Sequence[dt.date]) -> None:
    """Create the counter rows before the transaction that takes from them: on MariaDB,
    buyers racing to insert one row inside their transactions deadlock on its key."""
    for day in days:
        if not PhoneQuota.objects.filter(site=site, phone=phone, date=day).exists():
            with contextlib.suppress(IntegrityError), transaction.atomic():
                PhoneQuota.objects.create(site=site, phone=phone, date=day, used=0)


def phone_quota_take(
    *, site: Site, phone: str, day: dt.date, n: int, limit: int, now: dt.datetime
) -> None:
    """Count ``n`` more tickets of ``day`` against ``phone``; refuse beyond ``limit`` (0: no
    limit). Runs inside the transaction that places the order, so a refused order or one
    that fails later takes nothing. The row exists (``phone_quota_ensure``)."""
    if not limit or n <= 0:
        return
    if n > limit:
        raise PhoneLimitReached(details={"limit": limit, "asked": n})
    mine = PhoneQuota.objects.filter(site=site, phone=phone, date=day)
    if mine.filter(used__lte=limit - n).update(used=F("used") + n):
        return
    row = mine.select_for_update().first()
    if row is None:  # not ensured: a plain create (only a race with another creator fails)
        row = PhoneQuota.objects.create(site=site, phone=phone, date=day, used=0)
    live = phone_tickets(site=site, phone=phone, day=day, now=now)
    if live + n > limit:
        raise PhoneLimitReached(details={"limit": limit, "held": live, "asked": n})
    PhoneQuota.objects.filter(pk=row.pk).update(used=live + n)


# --- Placing and paying ---------------------------------------------------------------------


def _check_lines(site: Site, lines: Sequence[LineRequest]) -> None:
    if not lines:
        raise NoTickets()
    if len(lines) > MAX_LINES:
        raise sales_errors.InvalidQuantity(details={"lines": len(lines), "max": MAX_LINES})
    kinds = dict(
        Product.objects.filter(pk__in={ln.product for ln in lines}, site=site).values_list(
            "pk", "kind"
        )
    )
    for index, ln in enumerate(lines):
        if not 1 <= ln.quantity <= MAX_QUANTITY:
            raise sales_errors.InvalidQuantity(
                details={"line": index, "quantity": ln.quantity, "max": MAX_QUANTITY}
            )
        if kinds.get(ln.product) not in SHOP_KINDS:
            raise sales_errors.UnknownProduct(details={"line": index, "product": ln.product})


def shop_order_place(
    *,
    site: Site,
    lines: Sequence[LineRequest],
    contact_phone: str,
    form_key: str,
    member: Member | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """Book in the shop: check the lines and the phone, count the tickets against the phone's
    limit per day and place the order on the online channel, in one transaction. The same
    ``form_key`` sent again gives back the order it placed. A signed-in ``member`` books at
    member prices and earns points once the order is paid."""
    now = now or timezone.now()
    phone = phone_normalize(contact_phone)
    _check_lines(site, lines)
    limit = shop_settings(site).phone_limit_per_day
    per_day: dict[dt.date, int] = {}
    for ln in lines:
        per_day[ln.date] = per_day.get(ln.date, 0) + ln.quantity
    key = re.sub(r"[^0-9a-zA-Z]", "", form_key)[:64] or secrets.token_hex(16)
    if limit:
        phone_quota_ensure(site=site, phone=phone, days=sorted(per_day))

    def place() -> tuple[int, Any]:
        for day, n in sorted(per_day.items()):
            phone_quota_take(site=site, phone=phone, day=day, n=n, limit=limit, now=now)
        order = order_place(
            channel=CHANNEL,
            lines=lines,
            actor=SHOP,
            contact_name=member.name if member is not None else "",
            contact_phone=phone,
            member=member,
            now=now,
        )
        return 201, {"code": order.code}

    fp = fingerprint(site.pk, phone, member.pk if member else None, [repr(ln) for ln in lines])
    try:
        _status, body = run_idempotent(scope="shop_order", key=key, fp=fp, fn=place)
    except IdempotencyKeyReused as exc:
        raise FormAlreadySent() from exc
    return order_by_code(body["code"])


def shop_order_refresh(*, order: Order, now: dt.datetime | None = None) -> Order:
    """Where an order stands: an unpaid order whose hold ran out is ended, and a payment whose
    notification is late is asked of the provider."""
    if order.status != Order.Status.PENDING:
        return order
    now = now or timezone.now()
    if order.expires_at is not None and order.expires_at <= now:
        order_expire(order_id=order.pk, now=now)
    else:
        for intent in order.intents.filter(status=PaymentIntent.Status.PENDING):
            intent_sync(intent=intent)
    return order_by_code(order.code)


def shop_order_pay(
    *, order: Order, notify_url: str, now: dt.datetime | None = None
) -> PaymentIntent:
    """Start paying an order online (or go on with the payment already started)."""
    now = now or timezone.now()
    if order.status == Order.Status.PENDING and order.expires_at and order.expires_at <= now:
        order_expire(order_id=order.pk, now=now)
        raise HoldExpired(details={"order": order.code})
    if order.status == Order.Status.EXPIRED:
        raise HoldExpired(details={"order": order.code})
    if order.status != Order.Status.PENDING:
        raise sales_errors.OrderNotPending(details={"order": order.code, "status": order.status})
    started = (
        order.intents.filter(status=PaymentIntent.Status.PENDING, amount=order.total)
        .order_by("-pk")
        .first()
    )
    if started is not None:
        return started
    return order_pay_online(order=order, actor=SHOP, notify_url=notify_url)


def shop_order_cancel(*, order: Order) -> Order:
    """The buyer gives up an unpaid order: its places go back."""
    if order.status != Order.Status.PENDING:
        raise sales_errors.OrderNotPending(details={"order": order.code, "status": order.status})
    order_cancel(order=order, actor=SHOP)
    return order_by_code(order.code)


# --- Finding an order -----------------------------------------------------------------------


def _check_rate(now: dt.datetime) -> None:
    """``LOOKUP_FAILURES`` failed lookups from one address within ``LOOKUP_WINDOW``: wait
    until the oldest of them has left the window."""
    recent = list(
        AuditEntry.objects.filter(
            verb=LOOKUP_FAILED,
            source_ip=current_context().source_ip,
            at__gte=now - LOOKUP_WINDOW,
        )
        .order_by("-at")
        .values_list("at", flat=True)[:LOOKUP_FAILURES]
    )
    if len(recent) == LOOKUP_FAILURES:
        wait = recent[-1] + LOOKUP_WINDOW - now
        raise ShopLookupLocked(details={"retry_after": max(1, int(wait.total_seconds()) + 1)})


def shop_order_find(*, code: str, phone: str, now: dt.datetime | None = None) -> Order:
    """An order of the shop by its code and contact phone. An unknown code and a wrong phone
    get the same refusal; each counts toward the caller's limit of failed lookups."""
    now = now or timezone.now()
    _check_rate(now)
    try:
        digits = phone_normalize(phone)
        order = order_by_code(code)
    except (InvalidPhone, sales_errors.OrderNotFound):
        order, digits = None, ""
    if (
        order is None
        or order.channel.code != CHANNEL
        or not digits
        or order.contact_phone != digits
    ):
        # Outside any transaction, so that the failure stays recorded.
        audit_record(
            actor=SHOP,
            action=AuditEntry.Action.ACTION,
            verb=LOOKUP_FAILED,
            note=code[:16],
        )
        raise ShopOrderNotFound()
    return order


# --- Refunds and date changes ---------------------------------------------------------------


def shop_order_refund(
    *, order: Order, ticket_ids: Sequence[int] | None = None, now: dt.datetime | None = None
) -> list[Refund]:
    """A self-service refund: the product's rules (refundable, deadline, fee) apply; the money
    goes back the way it was paid."""
    return order_refund(
        order=order, actor=SHOP, ticket_ids=ticket_ids, reason="shop self-service", now=now
    )


def shop_order_reschedule(
    *,
    order: Order,
    line_id: int,
    date: dt.date,
    slot: int | None = None,
    now: dt.datetime | None = None,
) -> list[Ticket]:
    """A self-service date change of one line's valid tickets, within the product's rules and
    the phone's limit on the new day. A change that costs more is refused (payment_required):
    the shop pays back differences but takes no extra money for a change."""
    now = now or timezone.now()
    tickets = list(
        order.tickets.filter(line_id=line_id, status=Ticket.Status.VALID).values_list(
            "pk", flat=True
        )
    )
    if not tickets:
        raise sales_errors.TicketNotFound(details={"line": line_id})
    limit = shop_settings(order.site).phone_limit_per_day
    if limit:
        phone_quota_ensure(site=order.site, phone=order.contact_phone, days=[date])
    try:
        with transaction.atomic():
            phone_quota_take(
                site=order.site,
                phone=order.contact_phone,
                day=date,
                n=len(tickets),
                limit=limit,
                now=now,
            )
            return order_reschedule(
                order=order, actor=SHOP, date=date, slot=slot, ticket_ids=tickets, now=now
            )
    except sales_errors.PaymentRequired as exc:
        raise ChangeCostsMore(details=exc.details) from exc


# --- The waiting room -----------------------------------------------------------------------


def queue_needed(*, site: Site, day: dt.date) -> bool:
    """Whether buyers of ``day`` go through the waiting room."""
    return shop_settings(site).queue_always or RushDay.objects.filter(site=site, date=day).exists()


def queue_join(*, site: Site, now: dt.datetime | None = None) -> QueueEntry:
    return QueueEntry.objects.create(
        site=site, token=secrets.token_hex(16), joined_at=now or timezone.now()
    )


def queue_admit(*, site: Site, now: dt.datetime | None = None) -> int:
    """Admit the longest-waiting places, so that at most the site's rate are admitted within
    any minute. Serialised on the site's settings row. Returns how many were admitted."""
    now = now or timezone.now()
    waiting = QueueEntry.objects.filter(site=site, admitted_at__isnull=True)
    if not waiting.exists():
        return 0
    _settings_ensure(site)
    with transaction.atomic():
        settings = ShopSettings.objects.select_for_update().get(site=site)
        recent = QueueEntry.objects.filter(site=site, admitted_at__gt=now - QUEUE_WINDOW).count()
        free = settings.queue_rate_per_minute - recent
        if free <= 0:
            return 0
        ids = list(waiting.order_by("pk").values_list("pk", flat=True)[:free])
        return QueueEntry.objects.filter(pk__in=ids, admitted_at__isnull=True).update(
            admitted_at=now
        )


@dataclass(frozen=True)
class QueuePlace:
    entry: QueueEntry | None  # None: unknown or no longer valid (join again)
    admitted: bool
    position: int  # 1: next to be admitted; 0 when admitted
    wait_minutes: int


def queue_place(*, site: Site, token: str, now: dt.datetime | None = None) -> QueuePlace:
    """Where a place in the queue stands, after admitting whoever is due."""
    now = now or timezone.now()
    queue_admit(site=site, now=now)
    entry = QueueEntry.objects.filter(site=site, token=token[:32]).first() if token else None
    if entry is None:
        return QueuePlace(None, False, 0, 0)
    settings = shop_settings(site)
    if entry.admitted_at is not None:
        if entry.admitted_at + dt.timedelta(minutes=settings.queue_admit_minutes) <= now:
            return QueuePlace(None, False, 0, 0)
        return QueuePlace(entry, True, 0, 0)
    ahead = QueueEntry.objects.filter(site=site, admitted_at__isnull=True, pk__lt=entry.pk).count()
    rate = max(1, settings.queue_rate_per_minute)
    return QueuePlace(entry, False, ahead + 1, ahead // rate + 1)


__all__ = [
    "CHANNEL",
    "SHOP",
    "QueuePlace",
    "ShopActor",
    "phone_normalize",
    "phone_quota_ensure",
    "phone_quota_take",
    "phone_tickets",
    "queue_admit",
    "queue_join",
    "queue_needed",
    "queue_place",
    "shop_order_cancel",
    "shop_order_find",
    "shop_order_pay",
    "shop_order_place",
    "shop_order_refresh",
    "shop_order_refund",
    "shop_order_reschedule",
    "shop_settings",
]
