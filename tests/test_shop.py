"""The online shop (/shop/): the site page and its calendar, booking and paying on the sandbox,
the e-tickets, finding an order by code and phone, self-service refunds and date changes, the
limit per phone against scalpers, the waiting room, and the refusals of bad input."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from admit.catalog import services as catalog_services
from admit.catalog.models import Channel, Price, Product, Site
from admit.core.services import model_save
from admit.sales.models import Order, PaymentIntent, Refund
from admit.sales.providers import PROVIDERS
from admit.sales.services import LineRequest
from admit.shop import services as svc
from admit.shop.models import Notice, PhoneQuota, QueueEntry, RushDay, ShopSettings
from admit.tickets.models import Ticket
from tests.conftest import run_concurrently
from tests.sales_helpers import IDS, MAINTENANCE, MON, SAT, product

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
OTHER_PHONE = "13900139000"
TUE = MON + dt.timedelta(days=1)


def site() -> Site:
    return Site.objects.get(code="yunling")


def shopper(language: str = "en") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def html(response: Any) -> str:
    return response.content.decode()


def slot_of(client: Client, day: dt.date, code: str, start: str = "09:30") -> str:
    page = html(client.get(f"/shop/yunling/{day.isoformat()}/"))
    select = re.search(rf'<select name="s_{product(code).pk}".*?</select>', page, re.S)
    assert select, page
    return re.search(rf'<option value="(\d+)">{start}', select.group(0)).group(1)  # type: ignore[union-attr]


def book(
    client: Client,
    day: dt.date = MON,
    quantities: dict[str, Any] | None = None,
    phone: str = PHONE,
    visitors: dict[str, list[tuple[str, str]]] | None = None,
    form_key: str = "",
    status: int = 302,
) -> Any:
    """Go through the shop's three steps; returns the last response."""
    quantities = quantities if quantities is not None else {"adult": 2}
    form: dict[str, Any] = {}
    for code, n in quantities.items():
        form[f"q_{product(code).pk}"] = n
        if code in ("adult", "senior", "child"):
            form[f"s_{product(code).pk}"] = slot_of(client, day, code)
    assert client.get(f"/shop/yunling/{day.isoformat()}/").status_code == 200
    step2 = client.post(f"/shop/yunling/{day.isoformat()}/details", form)
    if step2.status_code != 200:
        assert step2.status_code == status, html(step2)
        return step2
    key = form_key or re.search(r'name="form_key" value="(\w+)"', html(step2)).group(1)  # type: ignore[union-attr]
    form.update({"phone": phone, "form_key": key})
    for code, people in (visitors or {}).items():
        for i, (name, id_number) in enumerate(people):
            form[f"v_{product(code).pk}_{i}_name"] = name
            form[f"v_{product(code).pk}_{i}_id"] = id_number
    response = client.post(f"/shop/yunling/{day.isoformat()}/place", form)
    assert response.status_code == status, html(response)
    return response


def booked(client: Client, **kwargs: Any) -> Order:
    response = book(client, **kwargs)
    code = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    return Order.objects.get(code=code)


def pay(client: Client, order: Order) -> Order:
    """Pay on the sandbox provider's side, as the phone does on the pay page."""
    response = client.post(f"/shop/orders/{order.code}/pay")
    assert response.status_code == 302, html(response)
    assert "/sandbox-pay/" in response["Location"]
    ref = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    PROVIDERS["sandbox"].customer_pays(ref=ref)  # type: ignore[attr-defined]
    assert client.get(f"/shop/orders/{order.code}/").status_code == 200  # asks the provider
    order.refresh_from_db()
    return order


def error_of(response: Any) -> str:
    match = re.search(
        r'<div class="error" id="error" data-code="(\w+)">(.*?)</div>', html(response)
    )
    assert match, html(response)
    return match.group(1)


def nothing_sold() -> None:
    assert Order.objects.count() == 0
    assert Ticket.objects.count() == 0


# --- The site page --------------------------------------------------------------------------


def test_the_site_page_shows_the_picture_hours_notices_and_a_month_of_prices(
    demo: None, clock: Any
) -> None:
    Notice.objects.create(site=site(), text="索道检修至月底", text_en="Cable car closed for works")
    Notice.objects.create(site=site(), text="旧公告", ends_on=dt.date(2026, 1, 1))
    client = shopper()
    assert client.get("/shop/")["Location"] == "/shop/yunling/"
    page = html(client.get("/shop/yunling/", {"month": "2027-01"}))
    assert "shop/site.svg" in page and 'id="hours"' in page and "07:30" in page
    assert "Cable car closed for works" in page and "旧公告" not in page
    assert 'id="month">2027-01<' in page
    # Monday 11 January: a weekday, the online price of the adult ticket (the main product).
    cell = re.search(
        r'<a class="day (\w+)[^"]*" href="/shop/yunling/2027-01-11/".*?</a>', page, re.S
    )
    assert cell and cell.group(1) == "open" and "¥110" in cell.group(0), page
    # Saturday: weekend prices.
    assert re.search(r'href="/shop/yunling/2027-01-16/".*?¥140', page, re.S)
    chinese = html(shopper("zh-hans").get("/shop/yunling/", {"month": "2027-01"}))
    assert "索道检修至月底" in chinese and "开放时间" in chinese
    # The closed Monday of the demo cannot be chosen.
    december = html(client.get("/shop/yunling/", {"month": "2026-12"}))
    assert f'data-date="{MAINTENANCE.isoformat()}" data-state="closed"' in december
    assert f'href="/shop/yunling/{MAINTENANCE.isoformat()}/"' not in december
    # Days before today are past.
    assert 'data-date="2026-11-21" data-state="past"' in html(
        client.get("/shop/yunling/", {"month": "2026-11"})
    )


def test_a_sold_out_day_shows_so_in_the_calendar(demo: None, clock: Any) -> None:
    from admit.inventory.models import Pool
    from admit.inventory.services import pools_ensure

    pools_ensure(site=site(), day=MON)
    Pool.objects.filter(date=MON, zone__code="main").update(capacity=0, reserved=0)
    page = html(shopper().get("/shop/yunling/", {"month": "2027-01"}))
    assert 'data-date="2027-01-11" data-state="sold_out"' in page


def calendar_queries(client: Client, month: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/shop/yunling/", {"month": month})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_calendar_costs_a_few_queries_whatever_the_days_and_products(
    demo: None, clock: Any, supervisor: Any, django_assert_max_num_queries: Any
) -> None:
    """The month is read in bulk (calendar days, products and prices, pools and allocations):
    the count is the same for 28 or 31 days and for 3 more products on sale."""
    client = shopper()
    for month in ("2027-01", "2027-02"):
        client.get("/shop/yunling/", {"month": month})  # the first look creates the pools
    with django_assert_max_num_queries(14):
        client.get("/shop/yunling/", {"month": "2027-01"})
    january, february = calendar_queries(client, "2027-01"), calendar_queries(client, "2027-02")
    assert january == february
    main = product("adult").zones.all()
    online = Channel.objects.get(code="online")
    for i in range(3):
        extra = catalog_services.product_save(
            instance=Product(site=site(), code=f"extra{i}", name=f"加票{i}", sort_order=50 + i),
            actor=supervisor,
            m2m={"zones": main, "channels": [online]},
        )
        catalog_services.price_save(
            instance=Price(product=extra, amount=Decimal("50.00"), valid_from=dt.date(2026, 1, 1)),
            actor=supervisor,
        )
    assert calendar_queries(client, "2027-01") == january
    page = html(client.get("/shop/yunling/", {"month": "2027-01"}))
    assert re.search(r'href="/shop/yunling/2027-01-11/".*?¥110', page, re.S)


# --- Booking and paying ---------------------------------------------------------------------


def test_a_buyer_books_pays_on_the_sandbox_and_opens_the_e_tickets(demo: None, clock: Any) -> None:
    client = shopper()
    order = booked(
        client, quantities={"adult": 2, "senior": 1}, visitors={"senior": [("王芳", IDS[5])]}
    )
    assert order.status == Order.Status.PENDING and order.channel.code == "online"
    assert order.contact_phone == PHONE and order.total == 2 * 110 + 60
    page = html(client.get(f"/shop/orders/{order.code}/"))
    assert 'data-status="pending"' in page and 'id="pay"' in page
    order = pay(client, order)
    assert order.status == Order.Status.PAID
    page = html(client.get(f"/shop/orders/{order.code}/"))
    assert 'id="etickets"' in page
    tickets = html(client.get(f"/shop/orders/{order.code}/tickets"))
    assert tickets.count("<svg") == 3
    for t in order.tickets.all():
        assert t.serial in tickets
    assert "王芳" in tickets
    # Self-contained: no stylesheet, script or image is fetched from anywhere.
    assert not re.search(r"<(link|img|iframe)\b", tickets)
    assert not re.search(r"<script[^>]+src=", tickets)
    assert "http://" not in tickets.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in tickets
    # Another browser does not see the order without its code and phone.
    stranger = shopper()
    for url in (f"/shop/orders/{order.code}/", f"/shop/orders/{order.code}/tickets"):
        response = stranger.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/shop/lookup")


def test_paying_twice_goes_on_with_the_payment_already_started(demo: None, clock: Any) -> None:
    client = shopper()
    order = booked(client)
    first = client.post(f"/shop/orders/{order.code}/pay")["Location"]
    again = client.post(f"/shop/orders/{order.code}/pay")["Location"]
    assert first == again
    assert PaymentIntent.objects.filter(order=order).count() == 1


def test_a_double_submit_of_the_booking_form_places_one_order(demo: None, clock: Any) -> None:
    client = shopper()
    first = book(client, form_key="samekey1")
    second = book(client, form_key="samekey1")
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    # The same key with other details is refused, and changes nothing.
    third = book(client, quantities={"adult": 3}, form_key="samekey1", status=409)
    assert error_of(third) == "form_already_sent"
    assert Order.objects.count() == 1


@pytest.mark.parametrize("quantity", ["-1", "11", "100000", "1.5", "abc", "0"])
def test_bad_quantities_are_refused_with_a_clear_error(
    demo: None, clock: Any, quantity: str
) -> None:
    client = shopper()
    response = book(client, quantities={"adult": quantity}, status=400)
    assert error_of(response) == ("no_tickets" if quantity == "0" else "invalid_quantity")
    nothing_sold()


def test_a_forged_quantity_at_the_last_step_changes_nothing(demo: None, clock: Any) -> None:
    client = shopper()
    adult = product("adult")
    form = {
        f"q_{adult.pk}": "-3",
        f"s_{adult.pk}": slot_of(client, MON, "adult"),
        "phone": PHONE,
        "form_key": "k1",
    }
    response = client.post(f"/shop/yunling/{MON.isoformat()}/place", form)
    assert response.status_code == 400 and error_of(response) == "invalid_quantity"
    # A product the shop does not sell (the group ticket), or a slot of another product.
    form.update({f"q_{adult.pk}": "1", f"s_{adult.pk}": "999999"})
    assert error_of(client.post(f"/shop/yunling/{MON.isoformat()}/place", form)) == "invalid_slot"
    with pytest.raises(svc.sales_errors.UnknownProduct):
        svc.shop_order_place(
            site=site(),
            lines=[LineRequest(product=product("group").pk, date=MON, quantity=1)],
            contact_phone=PHONE,
            form_key="k2",
        )
    nothing_sold()


def test_errors_speak_chinese_to_a_chinese_browser(demo: None, clock: Any) -> None:
    response = book(shopper("zh-hans"), quantities={"adult": "-1"}, status=400)
    assert "数量" in html(response)
    response = book(shopper("zh-hans"), phone="12", status=400)
    assert error_of(response) == "invalid_phone"
    nothing_sold()


def test_real_name_tickets_need_a_valid_id_per_visitor(demo: None, clock: Any) -> None:
    client = shopper()
    response = book(
        client, quantities={"senior": 1}, visitors={"senior": [("王芳", "123")]}, status=400
    )
    assert error_of(response) == "invalid_id_number"
    assert 'value="王芳"' in html(response)  # what was typed stays
    response = book(
        client, quantities={"senior": 1}, visitors={"senior": [("", IDS[5])]}, status=400
    )
    assert error_of(response) == "invalid_visitor"
    nothing_sold()


def test_the_products_limit_per_id_holds_in_the_shop_too(demo: None, clock: Any) -> None:
    senior = product("senior")
    senior.limit_per_id_per_day = 1
    model_save(instance=senior, actor=None)
    client = shopper()
    booked(client, quantities={"senior": 1}, visitors={"senior": [("王芳", IDS[5])]})
    again = book(
        client,
        quantities={"senior": 1},
        visitors={"senior": [("王芳", IDS[5])]},
        phone=OTHER_PHONE,
        status=409,
    )
    assert error_of(again) == "id_limit_reached"
    assert Order.objects.count() == 1


def test_an_expired_hold_cannot_be_paid(demo: None, clock: Any) -> None:
    client = shopper()
    order = booked(client)
    clock.shift(dt.timedelta(minutes=16))
    response = client.post(f"/shop/orders/{order.code}/pay")
    assert response.status_code == 409 and error_of(response) == "hold_expired"
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert not PaymentIntent.objects.filter(order=order).exists()


def test_a_buyer_cancels_an_unpaid_order(demo: None, clock: Any) -> None:
    client = shopper()
    order = booked(client)
    assert client.post(f"/shop/orders/{order.code}/cancel").status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


# --- Finding an order -----------------------------------------------------------------------


def test_an_order_is_found_by_code_and_phone_only(demo: None, clock: Any) -> None:
    buyer = shopper()
    order = pay(buyer, booked(buyer))
    other = shopper()
    wrong_phone = other.post("/shop/lookup", {"code": order.code, "phone": OTHER_PHONE})
    unknown = other.post("/shop/lookup", {"code": "ZZZZZZZZZZ", "phone": PHONE})
    assert wrong_phone.status_code == unknown.status_code == 404
    assert error_of(wrong_phone) == error_of(unknown) == "order_not_found"

    # The answer does not tell which of the two was wrong.
    def strip(response: Any) -> str:
        text = html(response).replace(order.code, "").replace("ZZZZZZZZZZ", "")
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", text)

    assert strip(wrong_phone) == strip(unknown)
    # Nor does another's order open, or refund, for this browser.
    assert other.post(f"/shop/orders/{order.code}/refund", {"ticket": [1]}).status_code == 302
    assert not Refund.objects.exists()
    found = other.post("/shop/lookup", {"code": order.code.lower(), "phone": "138 0013 8000"})
    assert found.status_code == 302 and found["Location"] == f"/shop/orders/{order.code}/"
    assert 'id="etickets"' in html(other.get(found["Location"]))


def test_failed_lookups_are_rate_limited_per_address(demo: None, clock: Any) -> None:
    buyer = shopper()
    order = booked(buyer)
    other = shopper("zh-hans")
    for i in range(svc.LOOKUP_FAILURES):
        response = other.post("/shop/lookup", {"code": f"WRONG{i}", "phone": PHONE})
        assert response.status_code == 404
    # Locked: even the right answer waits, and says so in Chinese.
    locked = other.post("/shop/lookup", {"code": order.code, "phone": PHONE})
    assert locked.status_code == 429 and error_of(locked) == "shop_lookup_rate_limited"
    assert "请稍等一分钟" in html(locked)
    clock.shift(svc.LOOKUP_WINDOW + dt.timedelta(seconds=1))
    assert other.post("/shop/lookup", {"code": order.code, "phone": PHONE}).status_code == 302


# --- Refunds and date changes ---------------------------------------------------------------


def test_a_buyer_refunds_one_ticket_within_the_rules(demo: None, clock: Any) -> None:
    client = shopper()
    order = pay(client, booked(client))
    first, second = order.tickets.order_by("pk")
    response = client.post(f"/shop/orders/{order.code}/refund", {"ticket": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Ticket.Status.REFUNDED and second.status == Ticket.Status.VALID
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == 110
    # Nothing selected, or a ticket of another order: refused, nothing changes.
    assert error_of(client.post(f"/shop/orders/{order.code}/refund")) == "ticket_not_found"


def test_a_refund_after_the_deadline_is_refused(demo: None, clock: Any) -> None:
    adult = product("adult")
    adult.refund_deadline_hours = 24
    model_save(instance=adult, actor=None)
    client = shopper()
    # Tomorrow 07:30 is less than 24 hours away.
    order = pay(client, booked(client, day=dt.date(2026, 11, 23)))
    response = client.post(
        f"/shop/orders/{order.code}/refund", {"ticket": [t.pk for t in order.tickets.all()]}
    )
    assert response.status_code == 409 and error_of(response) == "deadline_passed"
    assert not Refund.objects.exists()
    assert set(order.tickets.values_list("status", flat=True)) == {Ticket.Status.VALID}


def test_a_buyer_changes_the_date_to_another_slot(demo: None, clock: Any) -> None:
    client = shopper()
    order = pay(client, booked(client))
    line = order.lines.get()
    page = html(client.get(f"/shop/orders/{order.code}/reschedule", {"line": line.pk, "date": TUE}))
    new_slot = re.search(r'<option value="(\d+)">13:30', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        f"/shop/orders/{order.code}/reschedule",
        {"line": line.pk, "date": TUE.isoformat(), "slot": new_slot},
    )
    assert response.status_code == 302, html(response)
    assert set(order.tickets.filter(status="valid").values_list("valid_from", flat=True)) == {TUE}
    assert order.tickets.filter(status="exchanged").count() == 2
    # The new tickets show on the e-ticket page.
    assert html(client.get(f"/shop/orders/{order.code}/tickets")).count("<svg") == 2


def test_a_date_change_to_a_closed_day_or_a_forbidden_product_is_refused(
    demo: None, clock: Any
) -> None:
    client = shopper()
    order = pay(client, booked(client))
    line = order.lines.get()
    url = f"/shop/orders/{order.code}/reschedule"
    closed = client.post(url, {"line": line.pk, "date": MAINTENANCE.isoformat(), "slot": ""})
    assert closed.status_code == 400 and error_of(closed) == "not_on_sale"
    # A Saturday costs more: the shop does not take the difference.
    page = html(client.get(url, {"line": line.pk, "date": SAT}))
    slot = re.search(r'<option value="(\d+)">09:30', page).group(1)  # type: ignore[union-attr]
    dearer = shopper("zh-hans")
    dearer.post("/shop/lookup", {"code": order.code, "phone": PHONE})
    refused = dearer.post(url, {"line": line.pk, "date": SAT.isoformat(), "slot": slot})
    assert refused.status_code == 409 and error_of(refused) == "payment_required"
    assert "售票窗口" in html(refused)
    adult = product("adult")
    adult.reschedule_allowed = False
    model_save(instance=adult, actor=None)
    page = html(client.get(url, {"line": line.pk, "date": TUE}))
    slot = re.search(r'<option value="(\d+)">09:30', page).group(1)  # type: ignore[union-attr]
    refused = client.post(url, {"line": line.pk, "date": TUE.isoformat(), "slot": slot})
    assert refused.status_code == 409 and error_of(refused) == "reschedule_not_allowed"
    assert set(order.tickets.values_list("valid_from", flat=True)) == {MON}


# --- The limit per phone --------------------------------------------------------------------


def _limit(n: int, **fields: Any) -> None:
    ShopSettings.objects.update_or_create(
        site=site(), defaults={"phone_limit_per_day": n, **fields}
    )


def test_one_phone_holds_at_most_the_limit_per_day(demo: None, clock: Any) -> None:
    _limit(4)
    client = shopper()
    booked(client, quantities={"adult": 3})
    refused = book(client, quantities={"adult": 2}, status=409)
    assert error_of(refused) == "phone_limit_reached"
    assert Order.objects.count() == 1
    # Another day, or another phone, is not counted.
    booked(client, quantities={"adult": 2}, day=TUE)
    booked(client, quantities={"adult": 4}, phone=OTHER_PHONE)
    # An order that expires gives its tickets back to the phone.
    clock.shift(dt.timedelta(minutes=16))
    booked(client, quantities={"adult": 4})
    assert PhoneQuota.objects.get(phone=PHONE, date=MON).used == 4


def test_a_refunded_ticket_frees_its_place_in_the_phones_limit(demo: None, clock: Any) -> None:
    _limit(2)
    client = shopper()
    order = pay(client, booked(client, quantities={"adult": 2}))
    assert error_of(book(client, quantities={"adult": 1}, status=409)) == "phone_limit_reached"
    client.post(f"/shop/orders/{order.code}/refund", {"ticket": [order.tickets.first().pk]})  # type: ignore[union-attr]
    booked(client, quantities={"adult": 1})


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_racing_buyers_with_one_phone_never_pass_its_limit(clock: Any) -> None:
    from tests.conftest import load_demo

    load_demo()
    _limit(3)
    adult = product("adult")
    client = shopper()
    slot = int(slot_of(client, MON, "adult"))

    def buy(i: int) -> str:
        return svc.shop_order_place(
            site=site(),
            lines=[LineRequest(product=adult.pk, date=MON, quantity=1, slot=slot)],
            contact_phone=PHONE,
            form_key=f"race{i}",
        ).code

    results = run_concurrently(buy, 6)
    placed = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, svc.PhoneLimitReached)]
    assert len(placed) == 3 and len(refused) == 3, (connection.vendor, results)
    assert Order.objects.filter(contact_phone=PHONE).count() == 3


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_double_click_at_the_same_instant_places_one_order(clock: Any) -> None:
    from tests.conftest import load_demo

    load_demo()
    adult = product("adult")
    slot = int(slot_of(shopper(), MON, "adult"))

    def buy(_i: int) -> str:
        return svc.shop_order_place(
            site=site(),
            lines=[LineRequest(product=adult.pk, date=MON, quantity=1, slot=slot)],
            contact_phone=PHONE,
            form_key="doubleclick",
        ).code

    results = run_concurrently(buy, 4)
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 1
    assert Order.objects.count() == 1


# --- The waiting room -----------------------------------------------------------------------


def test_the_waiting_room_admits_buyers_at_the_configured_rate(demo: None) -> None:
    RushDay.objects.create(site=site(), date=MON, note="开售日")
    _limit(10, queue_rate_per_minute=2, queue_admit_minutes=20)
    buyers = [shopper() for _ in range(5)]
    day_url = f"/shop/yunling/{MON.isoformat()}/"
    with time_machine.travel("2026-11-22 10:00 +0800", tick=False) as traveller:
        for b in buyers:
            response = b.get(day_url)
            assert response.status_code == 302 and "/queue" in response["Location"]
            b.get(response["Location"])  # takes a place
        assert QueueEntry.objects.count() == 5

        def admitted() -> list[bool]:
            out = []
            for b in buyers:
                response = b.get(day_url)
                out.append(response.status_code == 200)
            return out

        assert admitted() == [True, True, False, False, False]
        page = html(buyers[4].get(f"/shop/yunling/queue?day={MON.isoformat()}"))
        assert re.search(r'id="position">3<', page), page
        assert '<meta http-equiv="refresh"' in page
        traveller.shift(dt.timedelta(seconds=30))
        assert admitted() == [True, True, False, False, False]
        traveller.shift(dt.timedelta(seconds=31))
        assert admitted() == [True, True, True, True, False]
        traveller.shift(dt.timedelta(seconds=61))
        assert admitted() == [True, True, True, True, True]
        # Admission lasts queue_admit_minutes; then the buyer queues again.
        traveller.shift(dt.timedelta(minutes=20))
        assert buyers[0].get(day_url).status_code == 302
        # Another day, not a rush day, needs no queue.
        assert shopper().get(f"/shop/yunling/{TUE.isoformat()}/").status_code == 200
    # Placing an order is gated too, not only the page.
    late = shopper()
    response = late.post(f"/shop/yunling/{MON.isoformat()}/place", {"phone": PHONE})
    assert response.status_code == 302 and "/queue" in response["Location"]
    assert Order.objects.count() == 0


# --- The back office and the demo -----------------------------------------------------------


@pytest.mark.parametrize("username", ["supervisor", "marketing"])
def test_the_back_office_keeps_the_shops_notices_rush_days_and_settings(
    demo: None, username: str
) -> None:
    from admit.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.get(username=username))
    for model in ("notice", "rushday", "shopsettings"):
        assert client.get(f"/admin/shop/{model}/").status_code == 200, model
    assert client.get("/admin/shop/notice/add/").status_code == 200


def test_the_demo_shop_has_notices_a_phone_limit_and_the_national_day_rush(
    demo: None, clock: Any
) -> None:
    assert svc.shop_settings(site()).phone_limit_per_day == 10
    page = html(shopper().get("/shop/yunling/", {"month": "2027-10"}))
    assert "Entry is by time slot" in page
    assert 'class="day open rush"' in page or 'class="day few rush"' in page
    assert svc.queue_needed(site=site(), day=dt.date(2027, 10, 1))
    assert not svc.queue_needed(site=site(), day=MON)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_pollers_at_the_same_instant_admit_no_more_than_the_rate() -> None:
    from tests.conftest import load_demo

    load_demo()
    ShopSettings.objects.filter(site=site()).delete()  # the pollers create it
    with time_machine.travel("2026-11-22 10:00 +0800", tick=False):
        for _ in range(6):
            svc.queue_join(site=site())
        results = run_concurrently(lambda _i: svc.queue_admit(site=site()), 4)
        assert all(isinstance(r, int) for r in results), results
        assert sum(results) == 6  # the default rate, 100 a minute
        assert ShopSettings.objects.filter(site=site()).count() == 1
        ShopSettings.objects.filter(site=site()).update(queue_rate_per_minute=2)
        QueueEntry.objects.update(admitted_at=None)
        results = run_concurrently(lambda _i: svc.queue_admit(site=site()), 4)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 2
    assert QueueEntry.objects.filter(admitted_at__isnull=False).count() == 2
