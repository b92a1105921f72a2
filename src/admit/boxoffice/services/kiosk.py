"""The self-service kiosk (自助售取票机): a touch screen paired with a kiosk terminal that sells
tickets paid by QR code and prints tickets booked elsewhere.

Pairing. A supervisor opens ``/kiosk/pair`` in the kiosk's browser and picks a kiosk terminal;
the browser then carries a long-lived cookie signed with ``django.core.signing`` that names the
terminal and holds a fresh bearer credential of the terminal's device. Every request checks the
signature, the credential (revoked, expired, device switched off: refused from the next request
on, through the token cache's version counter) and the terminal (still a kiosk, active, its
device unchanged). So the back office stops a kiosk by revoking its credential, switching off
the device or the terminal, or giving the terminal another device.

Who acts. A kiosk has no staff user: its orders, events and prints are written for a
``KioskActor`` without a database id, labelled ``kiosk:<terminal code>``. It has no shift, no
account and no discount right, and it may not reprint: a ticket printed before is refused with
``already_printed`` (a reprint needs staff at the window).

Picking up. The three keys a visitor may hold, and why each is enough:

* the order code (10 characters of a 32-letter alphabet: guessing one is hopeless);
* the ID card number of a ticket's holder, for tickets valid today (the number's checksum is
  public, but the number itself is known to its holder, and the lookup rate is capped);
* the phone number given with the order *and* the last four characters of the order code,
  for today's visits. A phone number alone is not enough: it is written on forms and known to
  many people, and a kiosk must not print somebody's tickets, or even list their orders, for
  it. The four characters (about a million possibilities) come with the confirmation message.

Every lookup that finds nothing is recorded in the audit trail against the terminal; after
``LOOKUP_FAILURES`` of them within ``LOOKUP_WINDOW`` the kiosk answers ``lookup_rate_limited``
until the window has passed, so that a kiosk cannot be used to enumerate orders. Counting in
the database works with any number of web processes and needs no cache server.

A lookup answers with a short-lived signed grant naming the tickets found; printing takes the
grant, so the visitor confirms on screen before anything is printed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from admit.accounts.models import ApiToken
from admit.accounts.rights import has
from admit.accounts.services import token_authenticate, token_create, token_revoke
from admit.catalog.models import Channel, Product
from admit.catalog.selectors import products_on_sale, site_day
from admit.core.codes import ALPHABET, normalize_code
from admit.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from admit.core.models import AuditEntry
from admit.core.prc_id import InvalidResidentId, parse_resident_id
from admit.core.services import audit_record
from admit.inventory.selectors import availability, open_slots
from admit.inventory.services import SiteClosed, pools_ensure
from admit.sales import errors as sales_errors
from admit.sales.models import Order, PaymentIntent, Visitor
from admit.sales.selectors import order_by_code
from admit.sales.services import (
    LineRequest,
    VisitorIn,
    intent_sync,
    order_cancel,
    order_expire,
    order_pay_online,
    order_place,
)
from admit.sales.services.orders import MAX_LINES, site_today
from admit.tickets.models import Ticket

from ..errors import AlreadyPrinted, ProductNotAllowed, TerminalInactive
from ..models import Terminal, TicketPrint
from .printing import tickets_print

COOKIE_NAME = "admit_kiosk"
COOKIE_MAX_AGE = 5 * 365 * 24 * 3600
PAIRING_SALT = "admit.boxoffice.kiosk.pairing"
ORDER_SALT = "admit.boxoffice.kiosk.order"
GRANT_SALT = "admit.boxoffice.kiosk.pickup"
TOKEN_NAME = "kiosk screen"
PAIR_PERMISSION = "boxoffice.change_terminal"
DAYS_SHOWN = 7
ORDER_TOKEN_SECONDS = 6 * 3600
GRANT_SECONDS = 5 * 60
LOOKUP_FAILURES = 10
LOOKUP_WINDOW = dt.timedelta(seconds=60)
LOOKUP_FAILED = "kiosk_lookup_failed"
KIOSK_KINDS = (Product.Kind.ADMISSION, Product.Kind.COMBO)
MAX_QUANTITY = 20


# --- Refusals ---------------------------------------------------------------------------------


class KioskNotPaired(PermissionDenied):
    code = "kiosk_not_paired"
    default_message = _("This screen is not set up as a kiosk. Please ask the staff.")


class NotAKiosk(ValidationFailed):
    code = "not_a_kiosk"
    default_message = _("Only a terminal of the kind “self-service kiosk” can be paired.")


class KioskWithoutDevice(Conflict):
    code = "kiosk_no_device"
    default_message = _("Give this kiosk terminal an active device in the back office first.")


class KioskOrderUnknown(NotFound):
    code = "kiosk_order_unknown"
    default_message = _("This purchase is not known at this kiosk. Please start again.")


class PickupNotFound(NotFound):
    code = "pickup_not_found"
    default_message = _(
        "No tickets to pick up were found for what you entered. Check it and try again, "
        "or ask at the ticket window."
    )


class NothingToPickUp(Conflict):
    code = "nothing_to_pick_up"
    default_message = _("This order has no valid tickets left to print.")


class LookupLocked(RateLimited):
    code = "lookup_rate_limited"
    default_message = _("Too many searches found nothing. Please wait a minute and try again.")


class PickupExpired(Conflict):
    code = "pickup_expired"
    default_message = _("This search has expired. Please search again.")


class InvalidPhone(ValidationFailed):
    code = "invalid_phone"
    default_message = _("Enter the phone number given with the order (digits only).")


class InvalidCodePart(ValidationFailed):
    code = "invalid_code_part"
    default_message = _("Enter the last four characters of the order code.")


class InvalidLookup(ValidationFailed):
    code = "invalid_lookup"
    default_message = _("Choose how to find your tickets: order code, ID card or phone.")


# --- Who acts at a kiosk --------------------------------------------------------------------


@dataclass(frozen=True)
class KioskActor:
    """The kiosk as the actor of its sales and prints: no database id, no rights, no shift."""

    terminal_code: str
    pk: None = None
    is_superuser: bool = False

    def get_username(self) -> str:
        return f"kiosk:{self.terminal_code}"

    def __str__(self) -> str:
        return self.get_username()


def kiosk_actor(terminal: Terminal) -> KioskActor:
    return KioskActor(terminal.code)


# --- Pairing --------------------------------------------------------------------------------


def _may_pair(actor: Any) -> None:
    if not has(actor, PAIR_PERMISSION):
        raise PermissionDenied(details={"needs": [PAIR_PERMISSION]})


@transaction.atomic
def kiosk_pair(*, terminal: Terminal, actor: Any) -> str:
    """Bind a browser to a kiosk terminal; returns the signed value of the browser's cookie.

    A terminal is one screen: pairing again revokes the credential of the earlier pairing."""
    _may_pair(actor)
    if terminal.kind != Terminal.Kind.KIOSK:
        raise NotAKiosk(details={"terminal": terminal.code})
    if not terminal.is_active:
        raise TerminalInactive(details={"terminal": terminal.code})
    device = terminal.device
    if device is None or not device.is_active:
        raise KioskWithoutDevice(details={"terminal": terminal.code})
    for old in ApiToken.objects.filter(
        device=device, name__startswith=TOKEN_NAME, revoked_at__isnull=True
    ):
        token_revoke(token=old, actor=actor)
    _token, secret = token_create(
        actor=actor, device=device, name=f"{TOKEN_NAME} {terminal.code}"[:100], days=0
    )
    audit_record(actor=actor, action=AuditEntry.Action.ACTION, obj=terminal, verb="kiosk_pair")
    return signing.dumps({"t": terminal.pk, "s": secret}, salt=PAIRING_SALT)


def _cookie_data(cookie: str) -> tuple[int, str]:
    """The terminal id and the device credential a pairing cookie holds."""
    try:
        data = signing.loads(cookie[:1000], salt=PAIRING_SALT)
    except signing.BadSignature as exc:
        raise KioskNotPaired() from exc
    if not (
        isinstance(data, dict) and isinstance(data.get("t"), int) and isinstance(data.get("s"), str)
    ):
        raise KioskNotPaired()
    return data["t"], data["s"]


def kiosk_terminal(*, cookie: str) -> Terminal:
    """The kiosk terminal a browser's cookie names, checked afresh on every request."""
    if not cookie:
        raise KioskNotPaired()
    terminal_id, secret = _cookie_data(cookie)
    token = token_authenticate(secret=secret)
    if token is None or token.device_id is None:
        raise KioskNotPaired()
    terminal = (
        Terminal.objects.select_related("site", "device")
        .filter(pk=terminal_id, device_id=token.device_id, kind=Terminal.Kind.KIOSK)
        .first()
    )
    if terminal is None:
        raise KioskNotPaired()
    if not terminal.is_active or not terminal.site.is_active:
        raise TerminalInactive(details={"terminal": terminal.code})
    return terminal


@transaction.atomic
def kiosk_unpair(*, cookie: str, actor: Any) -> Terminal | None:
    """Revoke the credential behind a browser's cookie; returns the terminal it named."""
    _may_pair(actor)
    try:
        terminal_id, secret = _cookie_data(cookie)
    except KioskNotPaired:
        return None
    token = token_authenticate(secret=secret)
    if token is None:
        return None
    token_revoke(token=ApiToken.objects.get(pk=token.pk), actor=actor)
    terminal = Terminal.objects.filter(pk=terminal_id).first()
    if terminal is not None:
        audit_record(
            actor=actor, action=AuditEntry.Action.ACTION, obj=terminal, verb="kiosk_unpair"
        )
    return terminal


# --- What a kiosk sells ---------------------------------------------------------------------


def _channel(terminal: Terminal) -> Channel:
    channel = Channel.objects.filter(code=terminal.channel_code, is_active=True).first()
    if channel is None:
        raise sales_errors.UnknownChannel(details={"channel": terminal.channel_code})
    return channel


def kiosk_days(*, terminal: Terminal, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Today and the next days, each saying whether the site is open."""
    today = site_today(terminal.site, now or timezone.now())
    out = []
    for i in range(DAYS_SHOWN):
        day = today + dt.timedelta(days=i)
        info = site_day(site=terminal.site, day=day)
        out.append({"date": day, "closed": info.closed, "note": info.note})
    return out


def _sells(terminal: Terminal) -> Callable[[int, str], bool]:
    """Whether this kiosk sells a product (given its id and kind): admissions and combos,
    narrowed by the terminal's list of products (empty: all)."""
    listed = set(terminal.products.values_list("pk", flat=True))
    return lambda pk, kind: kind in KIOSK_KINDS and (not listed or pk in listed)


def kiosk_offer(
    *, terminal: Terminal, day: dt.date, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The products a kiosk sells on ``day`` with their price and the places left per time
    slot for the kiosk channel; slots of today that have ended are left out."""
    now = now or timezone.now()
    today = site_today(terminal.site, now)
    if day < today or day >= today + dt.timedelta(days=DAYS_SHOWN):
        raise sales_errors.NotOnSale(details={"date": day.isoformat()})
    if site_day(site=terminal.site, day=day).closed:
        raise SiteClosed(details={"date": day.isoformat()})
    channel = _channel(terminal)
    sells = _sells(terminal)
    out = []
    for priced in products_on_sale(site=terminal.site, day=day, channel=channel):
        product = priced.product
        if not sells(product.pk, product.kind):
            continue
        if product.takes_capacity:
            pools_ensure(site=terminal.site, day=day, zones=product.capacity_zones)
        slots = []
        for s in open_slots(
            availability(product=product, day=day, channel=channel, now=now),
            day=day,
            now=now,
            time_zone=terminal.site.time_zone,
        ):
            slots.append(
                {
                    "slot": s.pool.pk if s.pool is not None and s.start is not None else None,
                    "start": s.start.strftime("%H:%M") if s.start else None,
                    "end": s.end.strftime("%H:%M") if s.end else None,
                    "remaining": s.remaining,
                }
            )
        if not slots:
            continue
        out.append(
            {
                "id": product.pk,
                "name": product.display_name,
                "price": priced.price,
                "persons": product.persons,
                "real_name": product.real_name_required,
                "slots": slots,
            }
        )
    return out


# --- Selling --------------------------------------------------------------------------------


def _digits(phone: str) -> str:
    """A phone number as its digits (spaces and dashes dropped): 5 to 20 of them."""
    digits = re.sub(r"\D", "", phone)
    if not 5 <= len(digits) <= 20:
        raise InvalidPhone(details={"phone": phone[:32]})
    return digits


@dataclass(frozen=True)
class KioskSale:
    order: Order
    intent: PaymentIntent | None
    token: str


def kiosk_order_place(
    *,
    terminal: Terminal,
    lines: Sequence[LineRequest],
    contact_phone: str = "",
    notify_url: str,
    now: dt.datetime | None = None,
) -> KioskSale:
    """Sell at a kiosk: place the order on the kiosk channel and start its QR payment, in one
    transaction. Returns a signed token that lets this kiosk follow and print the order."""
    if len(lines) > MAX_LINES:  # refused before the products are looked up
        raise sales_errors.InvalidQuantity(details={"lines": len(lines), "max": MAX_LINES})
    ids = {ln.product for ln in lines}
    sells = _sells(terminal)
    kinds = dict(Product.objects.filter(pk__in=ids, site=terminal.site).values_list("pk", "kind"))
    for index, ln in enumerate(lines):
        if ln.product not in kinds:
            raise sales_errors.UnknownProduct(details={"line": index, "product": ln.product})
        if not sells(ln.product, kinds[ln.product]):
            raise ProductNotAllowed(details={"line": index, "product": ln.product})
        if ln.quantity > MAX_QUANTITY:
            raise sales_errors.InvalidQuantity(
                details={"line": index, "quantity": ln.quantity, "max": MAX_QUANTITY}
            )
    phone = _digits(contact_phone) if contact_phone.strip() else ""
    actor = kiosk_actor(terminal)
    with transaction.atomic():
        order = order_place(
            channel=terminal.channel_code, lines=lines, actor=actor, contact_phone=phone, now=now
        )
        intent = None
        if order.status == Order.Status.PENDING:
            intent = order_pay_online(order=order, actor=actor, notify_url=notify_url)
    token = signing.dumps({"o": order.code, "t": terminal.pk}, salt=ORDER_SALT)
    return KioskSale(order=order, intent=intent, token=token)


def kiosk_order(*, terminal: Terminal, token: str) -> Order:
    """The order a kiosk sold, from the token it was given when it placed it."""
    try:
        data = signing.loads(token[:500], salt=ORDER_SALT, max_age=ORDER_TOKEN_SECONDS)
    except signing.BadSignature as exc:
        raise KioskOrderUnknown() from exc
    if not isinstance(data, dict) or data.get("t") != terminal.pk:
        raise KioskOrderUnknown()
    try:
        return order_by_code(str(data.get("o", "")))
    except sales_errors.OrderNotFound as exc:
        raise KioskOrderUnknown() from exc


def kiosk_order_status(*, terminal: Terminal, token: str, now: dt.datetime | None = None) -> Order:
    """Where a kiosk sale stands: an order whose hold ran out is ended, and a payment whose
    notification is late is asked of the provider."""
    order = kiosk_order(terminal=terminal, token=token)
    if order.status == Order.Status.PENDING:
        now = now or timezone.now()
        if order.expires_at is not None and order.expires_at < now:
            order_expire(order_id=order.pk, now=now)
        else:
            for intent in order.intents.filter(status=PaymentIntent.Status.PENDING):
                intent_sync(intent=intent)
        order = order_by_code(order.code)
    return order


def kiosk_order_cancel(*, terminal: Terminal, token: str) -> Order:
    """The visitor gives up (or walks away): an unpaid order is cancelled and its places go
    back. An order paid meanwhile stays paid and comes back for printing."""
    order = kiosk_order(terminal=terminal, token=token)
    if order.status == Order.Status.PENDING:
        with contextlib.suppress(sales_errors.OrderNotPending):  # paid or expired just now
            order_cancel(order=order, actor=kiosk_actor(terminal))
        order = order_by_code(order.code)
    return order


def kiosk_order_print(*, terminal: Terminal, token: str) -> bytes:
    """The tickets of a sale made at this kiosk, printed once."""
    order = kiosk_order(terminal=terminal, token=token)
    if order.status != Order.Status.PAID:
        raise sales_errors.OrderNotPaid(details={"order": order.code})
    return _print(terminal, [t.pk for t in order.tickets.all()])


def _print(terminal: Terminal, ticket_ids: Sequence[int]) -> bytes:
    # tickets_print locks the tickets before it decides: two kiosks pressing "print" at once
    # print once, and the other gets already_printed.
    tickets = list(
        Ticket.objects.filter(
            pk__in=ticket_ids, site=terminal.site, status=Ticket.Status.VALID
        ).order_by("pk")
    )
    if not tickets:
        raise NothingToPickUp(details={"tickets": list(ticket_ids)})
    return tickets_print(tickets=tickets, actor=kiosk_actor(terminal), terminal=terminal)


# --- Picking up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pickup:
    tickets: list[Ticket]
    printed_before: int
    grant: str


def _check_rate(terminal: Terminal, now: dt.datetime) -> None:
    """``LOOKUP_FAILURES`` failed lookups within ``LOOKUP_WINDOW``: wait until the oldest of
    them has left the window. (A soft limit: lookups racing on one screen may pass it by a
    few, which does not make a key guessable.)"""
    recent = list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Terminal),
            object_id=str(terminal.pk),
            verb=LOOKUP_FAILED,
            at__gte=now - LOOKUP_WINDOW,
        )
        .order_by("-at")
        .values_list("at", flat=True)[:LOOKUP_FAILURES]
    )
    if len(recent) == LOOKUP_FAILURES:
        wait = recent[-1] + LOOKUP_WINDOW - now
        raise LookupLocked(details={"retry_after": max(1, int(wait.total_seconds()) + 1)})


def _failed(terminal: Terminal, by: str) -> None:
    # Outside any transaction of the lookup, so that the failure stays recorded.
    audit_record(
        actor=kiosk_actor(terminal),
        action=AuditEntry.Action.ACTION,
        obj=terminal,
        verb=LOOKUP_FAILED,
        note=by,
    )


def _valid_on(today: dt.date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def _by_code(terminal: Terminal, value: str, today: dt.date) -> list[Ticket]:
    code = normalize_code(value)[:16]
    order = Order.objects.filter(code=code, site=terminal.site).first() if code else None
    if order is None:
        raise PickupNotFound()
    if order.status == Order.Status.PENDING:
        raise sales_errors.OrderNotPaid(details={"order": order.code})
    tickets = list(
        order.tickets.select_related("product", "order")
        .filter(status=Ticket.Status.VALID)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    )
    if not tickets:
        raise NothingToPickUp(details={"order": order.code})
    return tickets


def _by_id(terminal: Terminal, value: str, today: dt.date) -> list[Ticket]:
    try:
        number = parse_resident_id(value[:40], today=today).number
    except InvalidResidentId as exc:
        raise sales_errors.InvalidIdNumber(details={"reason": exc.reason}) from exc
    return list(
        Ticket.objects.select_related("product", "order")
        .filter(site=terminal.site, holder_id_number=number, status=Ticket.Status.VALID)
        .filter(_valid_on(today))
    )


def _by_phone(terminal: Terminal, value: str, last4: str, today: dt.date) -> list[Ticket]:
    phone = _digits(value)
    tail = normalize_code(last4)
    if len(tail) != 4 or any(c not in ALPHABET for c in tail):
        raise InvalidCodePart()
    orders = Order.objects.filter(
        site=terminal.site,
        contact_phone=phone,
        status=Order.Status.PAID,
        code__endswith=tail,
        lines__date=today,
    ).values_list("pk", flat=True)
    return list(
        Ticket.objects.select_related("product", "order")
        .filter(order__in=list(orders), status=Ticket.Status.VALID, line__date=today)
        .filter(_valid_on(today))
    )


def kiosk_lookup(
    *, terminal: Terminal, by: str, value: str, last4: str = "", now: dt.datetime | None = None
) -> Pickup:
    """Find tickets to print by order code, ID card number or phone (+ the order code's last
    four characters). Tickets printed before are left out and counted; when all were printed,
    ``already_printed``. A search that finds nothing counts toward the kiosk's limit."""
    if by not in ("code", "id", "phone"):
        raise InvalidLookup(details={"by": by[:20]})
    now = now or timezone.now()
    _check_rate(terminal, now)
    today = site_today(terminal.site, now)
    try:
        if by == "code":
            tickets = _by_code(terminal, value, today)
        elif by == "id":
            tickets = _by_id(terminal, value, today)
        else:
            tickets = _by_phone(terminal, value, last4, today)
        if not tickets:
            raise PickupNotFound()
    except PickupNotFound:
        _failed(terminal, by)
        raise
    printed = set(
        TicketPrint.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True)
    )
    fresh = [t for t in tickets if t.pk not in printed]
    if not fresh:
        raise AlreadyPrinted(details={"tickets": len(tickets)})
    grant = signing.dumps({"t": terminal.pk, "k": [t.pk for t in fresh]}, salt=GRANT_SALT)
    return Pickup(tickets=fresh, printed_before=len(tickets) - len(fresh), grant=grant)


def kiosk_pickup_print(*, terminal: Terminal, grant: str) -> bytes:
    """Print the tickets a lookup at this kiosk found (first print only)."""
    try:
        data = signing.loads(grant[:5000], salt=GRANT_SALT, max_age=GRANT_SECONDS)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise PickupExpired() from exc
    if not isinstance(data, dict) or data.get("t") != terminal.pk:
        raise PickupExpired()
    ids = [int(i) for i in data.get("k", []) if isinstance(i, int)]
    return _print(terminal, ids)


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    """What the kiosk shows of a ticket before printing: no full name, no ID number."""
    name = ticket.holder_name
    masked = (name[:1] + "*" * max(1, len(name) - 1)) if name else ""
    return {
        "serial": ticket.serial,
        "product": ticket.product.display_name,
        "date": ticket.valid_from.isoformat() if ticket.valid_from else None,
        "until": ticket.valid_until.isoformat() if ticket.valid_until else None,
        "start": ticket.slot_start.strftime("%H:%M") if ticket.slot_start else None,
        "end": ticket.slot_end.strftime("%H:%M") if ticket.slot_end else None,
        "persons": ticket.persons,
        "holder": masked,
        "order": "•" * 6 + ticket.order.code[-4:],
    }


def visitors_in(raw: Sequence[dict[str, Any]]) -> tuple[VisitorIn, ...]:
    """Visitors typed on the kiosk's keyboard: a name and a resident ID card number each."""
    return tuple(
        VisitorIn(
            str(v.get("name", ""))[:100],
            Visitor.IdType.RESIDENT_ID,
            str(v.get("id_number", ""))[:40],
        )
        for v in raw
    )


__all__ = [
    "COOKIE_MAX_AGE",
    "COOKIE_NAME",
    "KioskActor",
    "KioskSale",
    "Pickup",
    "kiosk_days",
    "kiosk_lookup",
    "kiosk_offer",
    "kiosk_order",
    "kiosk_order_cancel",
    "kiosk_order_place",
    "kiosk_order_print",
    "kiosk_order_status",
    "kiosk_pair",
    "kiosk_pickup_print",
    "kiosk_terminal",
    "kiosk_unpair",
    "ticket_summary",
    "visitors_in",
]
