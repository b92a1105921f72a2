"""The OCTO supplier API (octo.travel): what resellers call to sell the venue's tickets.

Thin views: authenticate the reseller's bearer key, read the request, call a selector or a
``partners.services`` booking service, and write OCTO's shapes (field names, status values and
error bodies as in the specification; money in integer minor units under ``octo/pricing``).

Mapping: an Admit product sold on the partner's channel is an OCTO product with one option
(``DEFAULT``) and one unit named after its visitor category (``adult``, ``child``, …; one unit is
one ticket). An availability is a time slot of the product's capacity pools (``START_TIME``) or
the whole day (``OPENING_HOURS``); its id is its local start, e.g. ``2027-01-11T09:30:00+08:00``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import uuid as uuid_lib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, overload

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Count, Exists, OuterRef, Prefetch, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from admit.access.models import Scan
from admit.catalog.models import Price, Product, Site
from admit.catalog.selectors import DayInfo, product_price, site_day_kept, site_days
from admit.core.errors import DomainError
from admit.core.text import has_nul
from admit.core.versions import CATALOG, remember
from admit.inventory.models import Pool, TemplateSlot
from admit.inventory.selectors import SlotAvailability, availability_days
from admit.inventory.services import pools_ensure
from admit.sales.models import Order, OrderLine
from admit.sales.services.orders import site_today
from admit.sales.services.refunds import refund_deadline_open
from admit.tickets.models import Ticket

from . import errors
from .models import Partner, PartnerBooking, PartnerWebhook
from .services import (
    BookingChange,
    BookingRequest,
    booking_cancel,
    booking_confirm,
    booking_extend,
    booking_reserve,
    booking_update,
    partner_authenticate,
    webhook_delete,
    webhook_register,
)
from .services.bookings import PartnerActor, current_tickets, unit_uuids
from .services.outbox import reachable
from .services.webhooks import webhooks_of

log = logging.getLogger(__name__)

OPTION_ID = "DEFAULT"
PRICING = "octo/pricing"
WEBHOOKS = "octo/webhooks"
CAPABILITIES = [PRICING, WEBHOOKS]
WEBHOOK_EVENTS = [PartnerWebhook.Event.BOOKING_UPDATE.value]
MAX_AVAILABILITY_DAYS = 31
MAX_CALENDAR_DAYS = 366
UNIT_TYPES = {"adult": "ADULT", "child": "CHILD", "senior": "SENIOR", "student": "STUDENT"}
KINDS = (Product.Kind.ADMISSION, Product.Kind.COMBO)


class OctoError(Exception):
    """An answer in OCTO's error shape: ``{"error": CODE, "errorMessage": …, <field>: …}``."""

    def __init__(self, error: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.error, self.message, self.status, self.extra = error, message, status, extra

    def response(self) -> JsonResponse:
        body = {"error": self.error, "errorMessage": self.message, **self.extra}
        return JsonResponse(body, status=self.status)


def bad_request(message: str) -> OctoError:
    return OctoError("BAD_REQUEST", message)


def invalid_product(product_id: Any) -> OctoError:
    return OctoError(
        "INVALID_PRODUCT_ID", "The productId was missing or invalid", productId=str(product_id)
    )


def invalid_option(option_id: Any) -> OctoError:
    return OctoError(
        "INVALID_OPTION_ID", "The optionId was missing or invalid", optionId=str(option_id)
    )


def invalid_availability(availability_id: Any, why: str = "") -> OctoError:
    return OctoError(
        "INVALID_AVAILABILITY_ID",
        "The availabilityId was missing or invalid" + (f": {why}" if why else ""),
        availabilityId=str(availability_id),
    )


def invalid_uuid(value: Any, why: str = "") -> OctoError:
    return OctoError(
        "INVALID_BOOKING_UUID",
        "The uuid was already used, missing or invalid" + (f": {why}" if why else ""),
        uuid=str(value),
    )


def unprocessable(message: str) -> OctoError:
    return OctoError("UNPROCESSABLE_ENTITY", message)


# --- the request ------------------------------------------------------------------------------


class Viewer(Protocol):
    """Whom a response is rendered for: the partner, and whether it asked for prices."""

    @property
    def partner(self) -> Partner: ...

    @property
    def pricing(self) -> bool: ...


@dataclass(frozen=True)
class NoticeViewer:
    """A notice has no request: rendered with prices, as OCTO's webhooks send bookings."""

    partner: Partner
    pricing: bool = True


class Call:
    """One authenticated OCTO request."""

    def __init__(self, request: HttpRequest, partner: Partner) -> None:
        self.request = request
        self.partner = partner
        asked = request.headers.get("Octo-Capabilities", "")
        self.capabilities = [c.strip() for c in asked.split(",") if c.strip() in CAPABILITIES]
        self.pricing = PRICING in self.capabilities

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except RequestDataTooBig:
            raise OctoError("BAD_REQUEST", "The body is too large", status=413) from None
        except RecursionError:
            raise bad_request("The body is nested too deeply") from None
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The body is not valid JSON") from None
        if has_nul(data):
            raise bad_request("The body contains a NUL character (U+0000)")
        if not isinstance(data, dict):
            raise bad_request("The body must be a JSON object")
        return data


Handler = Callable[..., Any]


def octo_view(*methods: str) -> Callable[[Handler], Callable[..., HttpResponse]]:
    def wrap(fn: Handler) -> Callable[..., HttpResponse]:
        @csrf_exempt
        def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise OctoError("BAD_REQUEST", f"Use {' or '.join(methods)}", status=405)
                call = Call(request, _partner(request))
                data = fn(call, **kwargs)
                if isinstance(data, HttpResponse):
                    response = data  # e.g. 204 No Content
                else:
                    response = JsonResponse(data, safe=False)
                response["Octo-Capabilities"] = ", ".join(call.capabilities)
                return response
            except OctoError as exc:
                return exc.response()
            except DomainError as exc:
                return _from_domain(exc).response()
            except Exception:
                log.exception("OCTO %s %s failed", request.method, request.path)
                return OctoError(
                    "INTERNAL_SERVER_ERROR",
                    "There was an un-recoverable error, please try again",
                    status=500,
                ).response()

        return view

    return wrap


def _partner(request: HttpRequest) -> Partner:
    header = request.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise OctoError(
            "UNAUTHORIZED",
            "You didn't send the API Key in the Authorization header to an endpoint that "
            "requires authentication",
            status=401,
        )
    try:
        partner = partner_authenticate(key=key.strip())
    except errors.PartnerUnauthorized:
        raise OctoError("UNAUTHORIZED", "The API Key is unknown or inactive", status=401) from None
    if partner.kind != Partner.Kind.OCTO:
        raise OctoError("FORBIDDEN", "This key is not an OCTO reseller's", status=403)
    return partner


def _from_domain(exc: DomainError) -> OctoError:
    code, details = exc.code, exc.details
    message = f"{exc.code}: {exc.message}"
    if code in ("unknown_product", "not_sold_on_channel"):
        return invalid_product(details.get("product", ""))
    if code in (
        "unknown_availability",
        "invalid_slot",
        "past_date",
        "too_far_ahead",
        "site_closed",
        "slot_required",
        "slot_ended",
    ):
        return invalid_availability(details.get("start") or details.get("date") or "", message)
    if code in ("booking_not_found", "reference_reused", "invalid_reference", "booking_expired"):
        return invalid_uuid(details.get("reference", ""), message)
    if exc.status == 401:
        return OctoError("UNAUTHORIZED", message, status=401)
    if exc.status == 403:
        return OctoError("FORBIDDEN", message, status=403)
    if exc.status == 409 or code in ("not_on_sale", "deadline_passed", "ticket_not_refundable"):
        return unprocessable(message)
    return bad_request(message)


# --- products -----------------------------------------------------------------------------------


def _products(partner: Partner) -> list[Product]:
    return list(
        Product.objects.filter(
            channels=partner.channel,
            is_active=True,
            kind__in=KINDS,
            real_name_required=False,
            site__is_active=True,
        )
        .select_related("site", "category")
        .prefetch_related(
            "zones",
            "components__zone",
            Prefetch("prices", queryset=Price.objects.select_related("channel")),
        )
        .order_by("site", "sort_order", "pk")
    )


def _product(partner: Partner, product_id: Any) -> Product:
    pk = str(product_id or "")
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 18:  # "²".isdigit() is true
        raise invalid_product(product_id)
    product = next((p for p in _products(partner) if p.pk == int(pk)), None)
    if product is None:
        raise invalid_product(product_id)
    return product


def _minor(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _pricing(net: Decimal, retail: Decimal, count: int = 1) -> dict[str, Any]:
    return {
        "original": _minor(retail) * count,
        "retail": _minor(retail) * count,
        "net": _minor(net) * count,
        "currency": "CNY",
        "currencyPrecision": 2,
        "includedTaxes": [],
    }


def _prices(
    partner: Partner, product: Product, day: dt.date, info: DayInfo | None = None
) -> tuple[Decimal, Decimal] | None:
    """Net (the partner's channel) and retail (its retail channel, else net) for one day."""
    info = info or site_day_kept(product.site, day)
    net = product_price(
        product=product, channel=partner.channel.code, day=day, day_type=info.day_type
    )
    if net is None:
        return None
    retail = None
    if partner.retail_channel is not None:
        retail = product_price(
            product=product, channel=partner.retail_channel.code, day=day, day_type=info.day_type
        )
    return net, retail if retail is not None else net


def _unit_items(product: Product, items: Any) -> list[str | None]:
    """The uuids of a request's ``unitItems`` (None where one is not given), each checked to
    name the product's one unit."""
    if not isinstance(items, list) or not items or len(items) > 200:
        raise bad_request("unitItems must list 1 to 200 units")
    out: list[str | None] = []
    for item in items:
        if not isinstance(item, dict) or item.get("unitId") != _unit_id(product):
            raise OctoError(
                "INVALID_UNIT_ID",
                "The unitId was missing or invalid",
                unitId=str(item.get("unitId") if isinstance(item, dict) else item),
            )
        given = item.get("uuid")
        out.append(str(given)[:64] if given else None)
    named = [u for u in out if u]
    if len(set(named)) != len(named):
        raise bad_request("unitItems name one uuid twice")
    return out


@overload
def _minutes(body: dict[str, Any], default: int) -> int: ...
@overload
def _minutes(body: dict[str, Any], default: None = None) -> int | None: ...
def _minutes(body: dict[str, Any], default: int | None = None) -> int | None:
    """``expirationMinutes``: a whole number of minutes, at least 1; ``default`` if absent.
    Without a default, ``null`` means none; with one, ``null`` is refused."""
    minutes = body.get("expirationMinutes", default)
    if minutes is None and default is None:
        return None
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        raise bad_request("expirationMinutes must be a whole number of minutes")
    return minutes


def _unit_id(product: Product) -> str:
    return product.category.code if product.category_id and product.category else "ticket"


def _unit(call: Viewer, product: Product, prices: tuple[Decimal, Decimal] | None) -> dict[str, Any]:
    cat = product.category
    unit: dict[str, Any] = {
        "id": _unit_id(product),
        "internalName": (cat.name_en or cat.name) if cat else "Ticket",
        "reference": cat.code if cat else None,
        "type": UNIT_TYPES.get(cat.code, "OTHER") if cat else "OTHER",
        "restrictions": {
            "minAge": (cat.min_age if cat and cat.min_age is not None else 0),
            "maxAge": (cat.max_age if cat and cat.max_age is not None else 100),
            "idRequired": bool(cat and cat.proof_required),
            "minQuantity": None,
            "maxQuantity": None,
            "paxCount": product.persons,
            "accompaniedBy": [],
        },
        "requiredContactFields": [],
    }
    if call.pricing and prices is not None:
        unit["pricingFrom"] = [_pricing(*prices)]
    return unit


def _start_times(product: Product) -> list[str]:
    """The start times of the product's time slots ("" list: a day ticket), read once per
    product object (a request asks several times)."""
    cached: list[str] | None = getattr(product, "_octo_start_times", None)
    if cached is not None:
        return cached
    found: list[str] = []
    if product.takes_capacity:
        starts = (
            TemplateSlot.objects.filter(
                template__zone__in=product.capacity_zones,
                template__is_active=True,
                start__isnull=False,
            )
            .values_list("start", flat=True)
            .distinct()
        )
        found = sorted({s.strftime("%H:%M") for s in starts if s is not None})
    product._octo_start_times = found  # type: ignore[attr-defined]
    return found


def cancellation_cutoff_hours(product: Product, starts: list[str]) -> int:
    """OCTO's cutoff counts back from an availability's start; the sales engine's refund
    deadline counts back from the visit day's opening time. The whole hours given are never
    fewer than the engine's for any start (the latest slot's, or midnight for a day ticket),
    so a cancellation the reseller lets through is one the engine allows."""
    hours = product.refund_deadline_hours
    if hours is None:  # until the end of the visit day: at least until the start
        return 0
    day = dt.date(2000, 1, 3)
    opens = dt.datetime.combine(day, product.site.opens_at)
    start = max(dt.time.fromisoformat(s) for s in starts) if starts else dt.time(0, 0)
    gap = dt.datetime.combine(day, start) - opens  # positive: the start is after opening
    return max(0, math.ceil(hours + gap.total_seconds() / 3600))


def _option(call: Viewer, product: Product, prices: tuple[Decimal, Decimal] | None) -> dict:
    starts = _start_times(product)
    hours = cancellation_cutoff_hours(product, starts)
    option: dict[str, Any] = {
        "id": OPTION_ID,
        "default": True,
        "internalName": "Default",
        "reference": None,
        "availabilityLocalStartTimes": starts or ["00:00"],  # opening hours
        "cancellationCutoff": f"{hours} hours",
        "cancellationCutoffAmount": hours,
        "cancellationCutoffUnit": "hour",
        "requiredContactFields": [],
        "restrictions": {"minUnits": 1, "maxUnits": 200},
        "units": [_unit(call, product, prices)],
    }
    if call.pricing and prices is not None:
        option["pricingFrom"] = [_pricing(*prices)]
    return option


def product_json(call: Viewer, product: Product) -> dict[str, Any]:
    prices = _prices(call.partner, product, site_today(product.site, timezone.now()))
    out: dict[str, Any] = {
        "id": str(product.pk),
        "internalName": product.name_en or product.name,
        "reference": product.code,
        "locale": "en",
        "timeZone": product.site.time_zone,
        "allowFreesale": False,
        "instantConfirmation": True,
        "instantDelivery": True,
        "availabilityRequired": True,
        "availabilityType": "START_TIME" if _start_times(product) else "OPENING_HOURS",
        "deliveryFormats": ["QRCODE"],
        "deliveryMethods": ["TICKET"],
        "redemptionMethod": "DIGITAL",
        "options": [_option(call, product, prices)],
    }
    if call.pricing:
        out.update(defaultCurrency="CNY", availableCurrencies=["CNY"], pricingPer="UNIT")
    return out


# --- availability -------------------------------------------------------------------------------


def _tz(product: Product) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(product.site.time_zone)


def availability_id(product: Product, day: dt.date, start: dt.time | None) -> str:
    at = dt.datetime.combine(day, start or dt.time(0, 0), tzinfo=_tz(product))
    return at.isoformat()


def parse_availability_id(product: Product, value: Any) -> tuple[dt.date, dt.time | None]:
    try:
        at = dt.datetime.fromisoformat(str(value))
        if at.tzinfo is not None:
            at = at.astimezone(_tz(product))
    except (ValueError, OverflowError):  # not a time, or beyond year 1..9999 once converted
        raise invalid_availability(value) from None
    day, start = at.date(), at.time().replace(tzinfo=None)
    if not _start_times(product):
        if start != dt.time(0, 0):
            raise invalid_availability(value)
        return day, None
    return day, start


def bookable_availability(
    product: Product, value: Any, now: dt.datetime
) -> tuple[dt.date, dt.time | None]:
    """The day and start an availability id names, if it can still be booked: as the
    availability answers show it, a time slot until it starts, a day until it ends."""
    day, start = parse_availability_id(product, value)
    tz = _tz(product)
    cutoff = (
        dt.datetime.combine(day, start, tzinfo=tz)
        if start is not None
        else dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz)
    )
    if cutoff <= now:
        raise invalid_availability(value, "it has started or passed")
    return day, start


def _date(value: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise bad_request(f"{field} must be a date (YYYY-MM-DD)") from None


def _units_count(call: Call, product: Product, units: Any) -> int:
    if units is None:
        return 1
    if not isinstance(units, list):
        raise bad_request("units must be a list")
    count = 0
    for u in units:
        if not isinstance(u, dict) or u.get("id") != _unit_id(product):
            raise OctoError(
                "INVALID_UNIT_ID",
                "The unitId was missing or invalid",
                unitId=str(u.get("id") if isinstance(u, dict) else u),
            )
        quantity = u.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise bad_request("units[].quantity must be a whole number")
        count += quantity
    return max(count, 1)


def _hours(product: Product) -> list[dict[str, str]]:
    site = product.site
    return [{"from": site.opens_at.strftime("%H:%M"), "to": site.closes_at.strftime("%H:%M")}]


def _status(remaining: int | None, capacity: int | None, open_: bool) -> str:
    if not open_:
        return "CLOSED"
    if remaining is None:
        return "FREESALE"
    if remaining <= 0:
        return "SOLD_OUT"
    if capacity and remaining * 10 <= capacity:
        return "LIMITED"
    return "AVAILABLE"


@dataclass
class _Days:
    """What the availability of a product over some days is made of, read for all the days at
    once: a constant number of queries however many days (once their pools exist)."""

    infos: dict[dt.date, DayInfo]
    slots: dict[dt.date, list[SlotAvailability]]
    timed: list[str]


def _days_of(call: Call, product: Product, days: list[dt.date]) -> _Days:
    site = product.site
    first, last = min(days), max(days)
    infos = site_days(site=site, first=first, last=last)
    open_days = [d for d in days if not infos[d].closed]
    if product.takes_capacity and open_days:
        zones = product.capacity_zones
        have = set(
            Pool.objects.filter(site=site, date__gte=first, date__lte=last, zone__in=zones)
            .values_list("date", "zone_id")
            .distinct()
        )
        for day in open_days:
            if not all((day, z.pk) in have for z in zones):
                pools_ensure(site=site, day=day, zones=zones)
    slots = (
        availability_days(product=product, days=open_days, channel=call.partner.channel)
        if open_days
        else {}
    )
    return _Days(infos, slots, _start_times(product))


def _day_availabilities(
    call: Call, product: Product, day: dt.date, count: int, days: _Days | None = None
) -> list[dict[str, Any]]:
    tz = _tz(product)
    now = timezone.now()
    days = days or _days_of(call, product, [day])
    info = days.infos[day]
    prices = None if info.closed else _prices(call.partner, product, day, info)
    slots = [] if info.closed else days.slots.get(day, [])
    timed = days.timed
    out = []
    if info.closed or not slots:
        slots = [SlotAvailability(None, None, None, 0, 0)]
    for s in slots:
        start = s.start if timed else None
        begin = dt.datetime.combine(day, start or dt.time(0, 0), tzinfo=tz)
        if start is not None and s.end is not None:
            end = dt.datetime.combine(day, s.end, tzinfo=tz)
        else:
            end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)
        cutoff = end if start is None else begin
        open_ = not info.closed and prices is not None and cutoff > now
        remaining = s.remaining if open_ else 0
        status = _status(remaining, s.capacity, open_)
        item: dict[str, Any] = {
            "id": begin.isoformat(),
            "localDateTimeStart": begin.isoformat(),
            "localDateTimeEnd": end.isoformat(),
            "utcCutoffAt": _iso_utc(cutoff),
            "allDay": start is None,
            "available": status in ("AVAILABLE", "LIMITED", "FREESALE")
            and (remaining is None or remaining >= count),
            "status": status,
            "vacancies": remaining,
            "capacity": s.capacity if open_ else 0,
            "maxUnits": remaining,
            "openingHours": _hours(product),
        }
        if call.pricing and prices is not None:
            unit_price = _pricing(*prices)
            item["unitPricing"] = [{"unitId": _unit_id(product), **unit_price}]
            item["pricing"] = _pricing(*prices, count=count)
        out.append(item)
    return out


def _date_range(body: dict[str, Any], limit: int) -> list[dt.date]:
    if "localDate" in body:
        first = last = _date(body["localDate"], "localDate")
    else:
        if "localDateStart" not in body or "localDateEnd" not in body:
            raise bad_request("Send localDate, localDateStart and localDateEnd, or availabilityIds")
        first = _date(body["localDateStart"], "localDateStart")
        last = _date(body["localDateEnd"], "localDateEnd")
    if last < first or (last - first).days >= limit:
        raise bad_request(f"The date range must run forward and cover at most {limit} days")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _product_and_option(call: Viewer, body: dict[str, Any]) -> Product:
    product = _product(call.partner, body.get("productId"))
    if body.get("optionId") != OPTION_ID:
        raise invalid_option(body.get("optionId"))
    return product


# --- bookings -----------------------------------------------------------------------------------


def _iso_utc(at: dt.datetime | None) -> str | None:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _contact_in(data: Any) -> dict[str, Any]:
    """A contact sent by the reseller: its ``emailAddress`` must be one (the spec's format)."""
    if not isinstance(data, dict):
        raise bad_request("contact must be an object")
    email = data.get("emailAddress")
    if email not in (None, "") and not (isinstance(email, str) and _is_email(email[:200])):
        raise bad_request("contact.emailAddress is not an email address")
    return _contact(data)


def _contact(data: dict[str, Any]) -> dict[str, Any]:
    """The contact as OCTO shows it (an address that is no email address is left out)."""

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value)[:200] if value not in (None, "") else None

    full = text("fullName")
    if full is None and (text("firstName") or text("lastName")):
        full = " ".join(x for x in (text("firstName"), text("lastName")) if x)
    locales = data.get("locales")
    email = text("emailAddress")
    return {
        "fullName": full,
        "firstName": text("firstName"),
        "lastName": text("lastName"),
        "emailAddress": email if email and _is_email(email) else None,
        "phoneNumber": text("phoneNumber"),
        "locales": [str(x)[:20] for x in locales][:10] if isinstance(locales, list) else [],
        "postalCode": text("postalCode"),
        "country": text("country"),
        "notes": text("notes"),
    }


def booking_status(order: Order, tickets: list[Ticket], now: dt.datetime) -> str:
    if order.status == Order.Status.PENDING:
        return "EXPIRED" if order.expires_at and order.expires_at < now else "ON_HOLD"
    if order.status == Order.Status.EXPIRED:
        return "EXPIRED"
    if order.status == Order.Status.CANCELLED:
        return "CANCELLED"
    live = [t for t in tickets if t.status in (Ticket.Status.VALID, Ticket.Status.USED)]
    if not live:
        return "CANCELLED"
    if all(t.status == Ticket.Status.USED for t in live):
        return "REDEEMED"
    return "CONFIRMED"


def _product_of(line: OrderLine) -> Product:
    """A booked line's product with all its rendering reads (kept per catalog version: a
    booking list shows the same few products again and again)."""
    return (
        Product.objects.filter(pk=line.product_id)
        .select_related("site", "category")
        .prefetch_related(
            "zones",
            "components__zone",
            Prefetch("prices", queryset=Price.objects.select_related("channel")),
        )
        .get()
    )


def booking_json(call: Viewer, booking: PartnerBooking) -> dict[str, Any]:
    order = (
        booking.order
        if PartnerBooking.order.is_cached(booking)
        else Order.objects.select_related("site").get(pk=booking.order_id)
    )
    tickets = current_tickets(order)
    shown: list[tuple[Ticket | None, str]]
    if tickets:
        pairs: list[tuple[Ticket | None, str]] = list(
            zip(tickets, unit_uuids(booking, len(tickets)), strict=True)
        )
        # Units the partner removed (refunded while the booking goes on) are no longer shown.
        gone = (Ticket.Status.REFUNDED, Ticket.Status.VOIDED)
        kept = [p for p in pairs if p[0] is not None and p[0].status not in gone]
        shown = kept if booking.cancelled_at is None and kept else pairs
        line = tickets[-1].line if shown[-1][0] is None else shown[-1][0].line
    else:
        found = order.lines.select_related("slot").order_by("-pk").first()
        assert found is not None
        line = found
        shown = [(None, u) for u in unit_uuids(booking, line.quantity)]
    product = remember(CATALOG, ("octo_product", line.product_id), partial(_product_of, line))
    now = timezone.now()
    status = booking_status(order, tickets, now)
    redeemed = (
        Scan.objects.filter(ticket__in=tickets, result="allow")
        .order_by("scanned_at")
        .values_list("ticket_id", "scanned_at")
    )
    first_use: dict[int, dt.datetime] = {}
    for ticket_id, at in redeemed:
        first_use.setdefault(ticket_id, at)
    start = line.slot.start if line.slot_id and line.slot and _start_times(product) else None
    avail_id = availability_id(product, line.date, start)
    tz = _tz(product)
    begin = dt.datetime.combine(line.date, start or dt.time(0, 0), tzinfo=tz)
    end_time = line.slot.end if start is not None and line.slot and line.slot.end else None
    end = dt.datetime.combine(line.date, end_time or dt.time(23, 59, 59), tzinfo=tz)
    unit_price = Decimal(line.unit_price)
    prices = _prices(call.partner, product, line.date)
    retail = prices[1] if prices else unit_price
    units = []
    for ticket, unit_uuid in shown:
        item_status = status
        used_at = None
        if ticket is not None:
            used_at = first_use.get(ticket.pk)
            if ticket.status == Ticket.Status.USED:
                item_status = "REDEEMED"
            elif ticket.status not in (Ticket.Status.VALID,):
                item_status = "CANCELLED"
        unit: dict[str, Any] = {
            "uuid": unit_uuid,
            "resellerReference": None,
            "supplierReference": ticket.serial if ticket is not None else None,
            "unitId": _unit_id(product),
            "status": item_status,
            "utcRedeemedAt": _iso_utc(used_at),
            "contact": _contact(booking.contact),
            "ticket": {
                "redemptionMethod": "DIGITAL",
                "utcRedeemedAt": _iso_utc(used_at),
                "deliveryOptions": [{"deliveryFormat": "QRCODE", "deliveryValue": ticket.code}],
            }
            if ticket is not None and ticket.code
            else None,
        }
        if call.pricing:
            unit["pricing"] = _pricing(unit_price, retail)
        units.append(unit)
    cancellation = None
    if booking.cancelled_at is not None:
        refunds = order.refunds.aggregate(n=Count("pk"), fee=Sum("fee"))
        if refunds["n"]:
            refund = "PARTIAL" if (refunds["fee"] or 0) > 0 else "FULL"
        else:  # a hold let go (nothing was paid), or a paid order kept in full
            refund = "FULL" if order.status != Order.Status.PAID else "NONE"
        cancellation = {
            "refund": refund,
            "reason": booking.cancel_reason or None,
            "utcCancelledAt": _iso_utc(booking.cancelled_at),
        }
    out: dict[str, Any] = {
        "id": str(booking.pk),
        "uuid": booking.reference,
        "testMode": False,
        "resellerReference": booking.reseller_reference or None,
        "supplierReference": order.code,
        "status": status,
        "utcCreatedAt": _iso_utc(booking.created_at),
        "utcUpdatedAt": _iso_utc(booking.updated_at),
        "utcExpiresAt": _iso_utc(order.expires_at) if status == "ON_HOLD" else None,
        "utcRedeemedAt": _iso_utc(min(first_use.values())) if first_use else None,
        "utcConfirmedAt": _iso_utc(order.paid_at),
        "productId": str(product.pk),
        "product": product_json(call, product),
        "optionId": booking.option,
        "option": _option(call, product, prices),
        # As the sales engine will decide: a hold always; a confirmed booking while its
        # product is refundable and its refund deadline has not passed.
        "cancellable": status == "ON_HOLD"
        or (
            status == "CONFIRMED"
            and product.refundable
            and refund_deadline_open(
                site=product.site,
                first=line.date,
                last=line.date,
                hours=product.refund_deadline_hours,
                now=now,
            )
        ),
        "cancellation": cancellation,
        "freesale": False,
        "availabilityId": avail_id,
        "availability": {
            "id": avail_id,
            "localDateTimeStart": begin.isoformat(),
            "localDateTimeEnd": end.isoformat(),
            "utcCutoffAt": _iso_utc(begin if start is not None else end),
            "allDay": start is None,
            "available": True,
            "status": "AVAILABLE",
            "vacancies": None,
            "capacity": None,
            "maxUnits": None,
            "openingHours": _hours(product),
        },
        "contact": _contact(booking.contact),
        "notes": booking.notes or None,
        "deliveryMethods": ["TICKET"],
        "voucher": None,
        "unitItems": units,
    }
    if call.pricing:
        priced = [t for t, _u in shown if t is not None]
        net = sum((Decimal(t.price) for t in priced), Decimal(0)) if priced else order.total
        out["pricing"] = {**_pricing(unit_price, retail, len(shown)), "net": _minor(Decimal(net))}
    return out


def _reference(value: Any) -> str:
    """The booking's ``uuid`` (the specification's format: a UUID), one made when none is sent."""
    if value is None:
        return str(uuid_lib.uuid4())
    try:
        return str(uuid_lib.UUID(str(value).strip()))
    except ValueError:
        raise invalid_uuid(value, "not a UUID") from None


# --- views --------------------------------------------------------------------------------------


@octo_view("GET")
def supplier(call: Call) -> dict[str, Any]:
    site = Site.objects.filter(is_active=True).order_by("pk").first()
    if site is None:
        raise OctoError("INTERNAL_SERVER_ERROR", "No site is set up", status=500)
    return {
        "id": site.code,
        "name": site.name_en or site.name,
        "endpoint": call.request.build_absolute_uri("/octo"),
        "contact": {
            "website": None,
            "email": None,
            "telephone": site.phone or None,
            "address": site.address or None,
        },
    }


@octo_view("GET")
def capabilities(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "id": PRICING,
            "revision": 1,
            "required": False,
            "dependencies": [],
            "docs": "https://docs.octo.travel/octo-api-pricing/pricing",
        },
        {
            "id": WEBHOOKS,
            "revision": 1,
            "required": False,
            "dependencies": [],
            "docs": "https://docs.octo.travel/octo-api-webhooks/webhooks",
        },
    ]


@octo_view("GET")
def products(call: Call) -> list[dict[str, Any]]:
    return [product_json(call, p) for p in _products(call.partner)]


@octo_view("GET")
def product_detail(call: Call, product_id: str) -> dict[str, Any]:
    return product_json(call, _product(call.partner, product_id))


@octo_view("POST")
def availability_check(call: Call) -> list[dict[str, Any]]:
    body = call.body()
    product = _product_and_option(call, body)
    count = _units_count(call, product, body.get("units"))
    if "availabilityIds" in body:
        ids = body["availabilityIds"]
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise bad_request("availabilityIds must be a list of 1 to 100 ids")
        wanted = [(str(i), *parse_availability_id(product, i)) for i in ids]
        out = []
        asked = sorted({d for _i, d, _s in wanted})
        days = _days_of(call, product, asked)
        for day in asked:
            found = {a["id"]: a for a in _day_availabilities(call, product, day, count, days)}
            for raw, d, start in wanted:
                if d == day:
                    item = found.get(availability_id(product, d, start))
                    if item is None:
                        raise invalid_availability(raw)
                    out.append(item)
        return out
    dates = _date_range(body, MAX_AVAILABILITY_DAYS)
    days = _days_of(call, product, dates)
    return [item for day in dates for item in _day_availabilities(call, product, day, count, days)]


@octo_view("POST")
def availability_calendar(call: Call) -> list[dict[str, Any]]:
    body = call.body()
    product = _product_and_option(call, body)
    count = _units_count(call, product, body.get("units"))
    out = []
    dates = _date_range(body, MAX_CALENDAR_DAYS)
    days = _days_of(call, product, dates)
    for day in dates:
        slots = _day_availabilities(call, product, day, count, days)
        open_slots = [s for s in slots if s["status"] != "CLOSED"]
        capped = [s["vacancies"] for s in open_slots if s["vacancies"] is not None]
        vacancies = None if open_slots and len(capped) < len(open_slots) else sum(capped)
        capacity = sum(s["capacity"] or 0 for s in open_slots) if capped else None
        if not open_slots:
            status = "CLOSED"
        elif vacancies is None:
            status = "FREESALE"
        elif vacancies <= 0:
            status = "SOLD_OUT"
        elif any(s["status"] in ("LIMITED", "SOLD_OUT") for s in open_slots):
            status = "LIMITED"
        else:
            status = "AVAILABLE"
        item: dict[str, Any] = {
            "localDate": day.isoformat(),
            "available": any(s["available"] for s in slots),
            "status": status,
            "vacancies": vacancies if open_slots else 0,
            "capacity": capacity if open_slots else 0,
            "openingHours": _hours(product),
        }
        if call.pricing and open_slots and "unitPricing" in open_slots[0]:
            item["unitPricingFrom"] = open_slots[0]["unitPricing"]
            item["pricingFrom"] = open_slots[0]["pricing"]
        out.append(item)
    return out


@octo_view("POST", "GET")
def bookings(call: Call) -> Any:
    if call.request.method == "GET":
        return _bookings_list(call)
    body = call.body()
    product = _product_and_option(call, body)
    reference = _reference(body.get("uuid"))
    if "availabilityId" not in body:
        raise invalid_availability("", "required")
    day, start = bookable_availability(product, body["availabilityId"], timezone.now())
    unit_uuids = [given or "" for given in _unit_items(product, body.get("unitItems"))]
    minutes = _minutes(body)
    contact = _contact_in(body["contact"]) if body.get("contact") is not None else {}
    booking, _created = booking_reserve(
        partner=call.partner,
        request=BookingRequest(
            reference=reference,
            product=product.pk,
            day=day,
            start=start,
            quantity=len(unit_uuids),
            unit_uuids=tuple(u or f"{reference}-{i + 1}" for i, u in enumerate(unit_uuids)),
            reseller_reference=str(body.get("resellerReference") or "")[:100],
            contact_name=contact.get("fullName") or "",
            contact_phone=contact.get("phoneNumber") or "",
            contact=contact,
            notes=str(body.get("notes") or "")[:500],
            hold_minutes=minutes,
        ),
    )
    return booking_json(call, booking)


def _bookings_list(call: Call) -> list[dict[str, Any]]:
    q = call.request.GET
    qs = PartnerBooking.objects.filter(partner=call.partner).select_related("order__site")
    for field in ("resellerReference", "supplierReference", "localDate", "productId"):
        if field in q and not q[field]:
            raise bad_request(f"{field} is empty")
    if ("localDateStart" in q) != ("localDateEnd" in q) or (
        "localDateStart" in q and not (q["localDateStart"] and q["localDateEnd"])
    ):
        raise bad_request("localDateStart and localDateEnd are given together")
    if not any(
        k in q for k in ("resellerReference", "supplierReference", "localDate", "localDateStart")
    ):
        raise bad_request("Filter by resellerReference, supplierReference or a local date")
    if "resellerReference" in q:
        qs = qs.filter(reseller_reference=q["resellerReference"])
    if "supplierReference" in q:
        qs = qs.filter(order__code=q["supplierReference"])
    # Dates and products are the booking's as it stands: a line a date change replaced counts
    # no more.
    lines = OrderLine.objects.filter(order_id=OuterRef("order_id"), replaced_by__isnull=True)
    if "localDate" in q:
        lines = lines.filter(date=_date(q["localDate"], "localDate"))
    if "localDateStart" in q:
        lines = lines.filter(
            date__gte=_date(q["localDateStart"], "localDateStart"),
            date__lte=_date(q["localDateEnd"], "localDateEnd"),
        )
    if "productId" in q:
        lines = lines.filter(product_id=_product(call.partner, q["productId"]).pk)
    if any(k in q for k in ("localDate", "localDateStart", "productId")):
        qs = qs.filter(Exists(lines))
    return [booking_json(call, b) for b in qs.order_by("pk")[:100]]


def _path_uuid(reference: str) -> str:
    """A booking uuid from the path, in the form it was stored in (lower case, hyphens)."""
    try:
        return str(uuid_lib.UUID(reference.strip()))
    except ValueError:
        raise invalid_uuid(reference) from None


def _booking(call: Call, reference: str) -> PartnerBooking:
    reference = _path_uuid(reference)
    booking = PartnerBooking.objects.filter(partner=call.partner, reference=reference).first()
    if booking is None:
        raise invalid_uuid(reference)
    return booking


@octo_view("GET", "PATCH")
def booking_detail(call: Call, reference: str) -> dict[str, Any]:
    if call.request.method == "PATCH":
        return _booking_patch(call, reference)
    return booking_json(call, _booking(call, reference))


def _booked_product(booking: PartnerBooking) -> Product:
    line = booking.order.lines.order_by("-pk").first()
    assert line is not None
    return (
        Product.objects.filter(pk=line.product_id)
        .select_related("site", "category")
        .prefetch_related("zones", "components__zone")
        .get()
    )


def _optional_text(body: dict[str, Any], field: str, limit: int) -> str | None:
    if field not in body:
        return None
    value = body[field]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string")
    return value[:limit]


def _booking_patch(call: Call, reference: str) -> dict[str, Any]:
    """``PATCH /bookings/{uuid}``: change what the body names; the rest stays."""
    body = call.body()
    booking = _booking(call, reference)
    product = _booked_product(booking)
    if "productId" in body and _product(call.partner, body["productId"]).pk != product.pk:
        raise unprocessable("A booking's product cannot be changed: cancel it and book again")
    if "optionId" in body and body["optionId"] != OPTION_ID:
        raise invalid_option(body["optionId"])
    day = start = None
    if "availabilityId" in body:
        day, start = bookable_availability(product, body["availabilityId"], timezone.now())
    units = None
    if "unitItems" in body:
        units = tuple(
            given or str(uuid_lib.uuid4()) for given in _unit_items(product, body["unitItems"])
        )
    minutes = _minutes(body)
    contact = _contact_in(body["contact"]) if body.get("contact") is not None else None
    updated = booking_update(
        partner=call.partner,
        reference=booking.reference,
        change=BookingChange(
            day=day,
            start=start,
            units=units,
            contact=contact,
            notes=_optional_text(body, "notes", 500),
            reseller_reference=_optional_text(body, "resellerReference", 100),
            hold_minutes=minutes,
        ),
    )
    return booking_json(call, updated)


@octo_view("POST")
def booking_confirm_view(call: Call, reference: str) -> dict[str, Any]:
    body = call.body()
    if "contact" not in body:
        raise bad_request("contact is required")
    contact = body["contact"]
    booking = booking_confirm(
        partner=call.partner,
        reference=_path_uuid(reference),
        contact=_contact_in(contact),
        reseller_reference=str(body["resellerReference"])[:100]
        if body.get("resellerReference")
        else None,
    )
    return booking_json(call, booking)


@octo_view("POST")
def booking_cancel_view(call: Call, reference: str) -> dict[str, Any]:
    body = call.body()
    booking = booking_cancel(
        partner=call.partner,
        reference=_path_uuid(reference),
        reason=str(body.get("reason") or "")[:200],
    )
    return booking_json(call, booking)


@octo_view("POST")
def booking_extend_view(call: Call, reference: str) -> dict[str, Any]:
    body = call.body()
    minutes = _minutes(body, default=30)
    return booking_json(
        call,
        booking_extend(partner=call.partner, reference=_path_uuid(reference), minutes=minutes),
    )


# --- webhooks (the octo/webhooks capability) ---------------------------------------------------


def webhook_json(hook: PartnerWebhook) -> dict[str, Any]:
    return {
        "id": str(hook.uuid),
        "event": hook.event,
        "url": hook.url,
        "retryOnError": hook.retry_on_error,
        "useContactLanguage": hook.use_contact_language,
        "headers": dict(hook.headers or {}),
        "capabilities": list(hook.capabilities or []),
    }


def webhook_payload(hook: PartnerWebhook, booking: PartnerBooking) -> dict[str, Any]:
    """What a ``booking_update`` webhook receives: the webhook and the booking, rendered with the
    capabilities the reseller asked for when it registered the webhook."""
    viewer = NoticeViewer(hook.partner, pricing=PRICING in (hook.capabilities or []))
    return {"webhook": webhook_json(hook), "booking": booking_json(viewer, booking)}


def _flag(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise bad_request(f"{field} must be true or false")
    return value


@octo_view("GET", "POST")
def webhooks(call: Call) -> Any:
    if call.request.method == "GET":
        return [webhook_json(h) for h in webhooks_of(call.partner)]
    body = call.body()
    event = body.get("event")
    if event not in WEBHOOK_EVENTS:
        raise bad_request(f"event must be one of: {', '.join(WEBHOOK_EVENTS)}")
    url = body.get("url")
    if not isinstance(url, str) or len(url) > 300:
        raise bad_request("url must be an http or https URL (at most 300 characters)")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise bad_request("url must be an http or https URL (at most 300 characters)") from None
    if not reachable(url):
        raise bad_request("url must reach a public internet address")
    headers = body.get("headers") or {}
    if (
        not isinstance(headers, dict)
        or len(headers) > 20
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        or any(
            len(k) > 100 or len(v) > 1000 or "\n" in k + v or "\r" in k + v
            for k, v in headers.items()
        )
    ):
        raise bad_request("headers must map at most 20 header names to values (text, one line)")
    hook = webhook_register(  # at most MAX_WEBHOOKS: the service refuses the next one
        partner=call.partner,
        event=event,
        url=url,
        capabilities=call.capabilities,  # Call keeps only the ones Admit serves
        headers=headers,
        retry_on_error=_flag(body, "retryOnError", True),
        use_contact_language=_flag(body, "useContactLanguage", False),
        actor=PartnerActor(call.partner),
    )
    return webhook_json(hook)


@octo_view("DELETE")
def webhook_detail(call: Call, webhook_id: str) -> HttpResponse:
    try:
        webhook_delete(
            partner=call.partner, webhook_id=webhook_id, actor=PartnerActor(call.partner)
        )
    except errors.WebhookNotFound:
        raise OctoError(
            "BAD_REQUEST", "The webhook id was missing or invalid", webhookId=webhook_id[:64]
        ) from None
    return HttpResponse(status=204)
