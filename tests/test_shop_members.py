"""Members in the online shop (我的): signing in with a one-time code sent by text message (the
sandbox sender keeps it for the test to read), the code's expiry, tries, lockout, single use and
resend limits, the account page with points, passes and orders, another member's order not
found, and booking signed in at member prices with points."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from admit.accounts.models import User
from admit.core.models import SandboxSms
from admit.core.sms import sms_outbox
from admit.customers.models import Member, Pass
from admit.customers.services import member_register
from admit.demo.data import DEMO_CARD, DEMO_MEMBER_PHONE, demo_sample_pass
from admit.sales.models import Order
from admit.sales.services import LineRequest
from admit.sales.services.passes import pass_freeze
from admit.shop import services as svc
from admit.shop.models import SignInCode
from admit.shop.services import members
from tests.sales_helpers import MON, product
from tests.test_shop import booked, error_of, html, pay, shopper, site, slot_of

pytestmark = pytest.mark.django_db

PHONE = DEMO_MEMBER_PHONE  # 张云, gold member (10 % off, 2 points per yuan)
OTHER_PHONE = "13912345678"
NOBODY = "13700137000"


@pytest.fixture
def send(django_capture_on_commit_callbacks: Any) -> Any:
    """Ask for a code as a phone does; returns the response and the code the text carried."""

    def ask(client: Client, phone: str = PHONE, **extra: Any) -> tuple[Any, str | None]:
        before = SandboxSms.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/shop/account/sign-in", {"phone": phone, **extra})
        texts = sms_outbox(phone)
        code = None
        if SandboxSms.objects.count() > before:
            code = re.search(r"\b(\d{6})\b", texts[0]).group(1)  # type: ignore[union-attr]
        return response, code

    return ask


def enter(client: Client, code: str, status: int = 302, **extra: Any) -> Any:
    response = client.post("/shop/account/code", {"code": code, **extra})
    assert response.status_code == status, html(response)
    return response


def error_code(response: Any) -> str:
    match = re.search(r'id="error" data-code="(\w+)"', html(response))
    assert match, html(response)
    return match.group(1)


def signed_in(send: Any, phone: str = PHONE, language: str = "en") -> Client:
    client = shopper(language)
    response, code = send(client, phone)
    assert response.status_code == 302 and code
    enter(client, code)
    return client


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def member(phone: str = PHONE) -> Member:
    return Member.objects.get(phone=phone)


def adult_line(day: dt.date) -> LineRequest:
    return LineRequest(
        product=product("adult").pk,
        date=day,
        quantity=1,
        slot=int(slot_of(shopper(), day, "adult")),
    )


def other_member() -> Member:
    return member_register(name="李雷", phone=OTHER_PHONE, actor=User.objects.get(username="admin"))


# --- Signing in -------------------------------------------------------------------------------


def test_a_member_signs_in_with_the_code_from_the_text_message(
    demo: None, clock: Any, send: Any
) -> None:
    client = shopper()
    # The account needs signing in first, and comes back after it.
    response = client.get("/shop/account/")
    assert response.status_code == 302 and response["Location"].startswith("/shop/account/sign-in")
    response, code = send(client)
    assert response.status_code == 302 and response["Location"].startswith("/shop/account/code")
    assert code is not None
    text = sms_outbox(PHONE)[0]
    assert "valid for 5 minutes" in text
    page = html(client.get("/shop/account/code"))
    assert "139****4321" in page and PHONE not in page
    # Only a salted hash of the code is kept.
    row = SignInCode.objects.get(phone=PHONE)
    assert code not in row.code_hash and row.member == member()
    session_before = client.cookies["sessionid"].value
    response = enter(client, code)
    assert response["Location"] == "/shop/account/"
    assert client.cookies["sessionid"].value != session_before  # a new session key
    page = html(client.get("/shop/account/"))
    assert "张云" in page and "金卡会员 Gold" in page and 'id="points">0<' in page
    assert 'id="no-passes"' in page and 'id="no-orders"' in page and 'id="no-points"' in page
    # Staff are not signed in by it, and it signs out.
    assert "_auth_user_id" not in client.session
    client.post("/shop/account/sign-out")
    assert client.get("/shop/account/")["Location"].startswith("/shop/account/sign-in")


def test_a_wrong_code_counts_and_the_fifth_locks_it(demo: None, clock: Any, send: Any) -> None:
    client = shopper()
    _response, code = send(client)
    assert code
    for left in (4, 3, 2, 1):
        response = enter(client, wrong(code), status=400)
        assert error_code(response) == "sign_in_code_wrong"
        assert f"{left} more tr" in html(response)
    response = enter(client, wrong(code), status=429)
    assert error_code(response) == "sign_in_code_locked"
    # Locked: even the right code is refused now.
    assert error_code(enter(client, code, status=429)) == "sign_in_code_locked"
    assert SignInCode.objects.get(phone=PHONE).attempts == members.MAX_ATTEMPTS
    assert "_auth_user_id" not in client.session and "shop_member" not in client.session
    # A new code (after the minute) signs in.
    clock.shift(dt.timedelta(seconds=61))
    _response, fresh = send(client)
    assert fresh
    enter(client, fresh)
    assert client.session["shop_member"] == member().pk


def test_an_expired_code_is_refused(demo: None, clock: Any, send: Any) -> None:
    client = shopper()
    _response, code = send(client)
    assert code
    clock.shift(members.CODE_LIFETIME + dt.timedelta(seconds=1))
    assert error_code(enter(client, code, status=409)) == "sign_in_code_expired"
    assert "shop_member" not in client.session


def test_a_code_signs_in_once(demo: None, clock: Any, send: Any) -> None:
    client = shopper()
    _response, code = send(client)
    assert code
    enter(client, code)
    # Another phone that saw the code cannot use it again.
    other = shopper()
    other.get("/shop/")
    other_session = other.session
    other_session["shop_sign_in_phone"] = PHONE
    other_session.save()
    assert error_code(enter(other, code, status=409)) == "sign_in_code_expired"
    with pytest.raises(members.CodeNotValid):
        members.member_code_verify(phone=PHONE, code=code)


def test_a_new_code_waits_a_minute_and_ends_the_one_before(
    demo: None, clock: Any, send: Any
) -> None:
    client = shopper()
    _response, first = send(client)
    response, again = send(client, resend="1")
    assert response.status_code == 429 and again is None
    assert error_code(response) == "sign_in_code_too_soon"
    assert "seconds before asking for another code" in html(response)
    assert SignInCode.objects.filter(phone=PHONE).count() == 1
    clock.shift(dt.timedelta(seconds=61))
    _response, second = send(client, resend="1")
    assert first and second
    if first != second:  # (one in a million they are the same)
        assert error_code(enter(client, first, status=400)) == "sign_in_code_wrong"
    enter(client, second)


def test_a_phone_gets_at_most_ten_codes_a_day(demo: None, clock: Any, send: Any) -> None:
    client = shopper()
    for _ in range(members.CODES_PER_DAY):
        response, code = send(client)
        assert response.status_code == 302 and code
        clock.shift(dt.timedelta(seconds=61))
    response, code = send(client)
    assert response.status_code == 429 and code is None
    assert error_code(response) == "sign_in_code_limit"
    # A day later the phone may ask again; the rows of the day before are gone.
    clock.shift(dt.timedelta(hours=24))
    response, code = send(client)
    assert response.status_code == 302 and code
    assert SignInCode.objects.filter(phone=PHONE).count() == 1


def test_one_address_asks_for_at_most_twenty_codes_an_hour(demo: None, clock: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.9")
    for i in range(members.CODES_PER_ADDRESS):
        response = client.post("/shop/account/sign-in", {"phone": f"1370013{i:04d}"})
        assert response.status_code == 302, html(response)
    response = client.post("/shop/account/sign-in", {"phone": "13700139999"})
    assert response.status_code == 429 and error_code(response) == "sign_in_code_limit"
    other = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="203.0.113.10")
    assert other.post("/shop/account/sign-in", {"phone": "13700139999"}).status_code == 302


def test_a_phone_that_is_no_members_gets_the_same_answer_and_no_text(
    demo: None, clock: Any, send: Any
) -> None:
    client = shopper()
    response, code = send(client, NOBODY)
    assert response.status_code == 302 and code is None
    assert sms_outbox(NOBODY) == []
    assert "137****7000" in html(client.get("/shop/account/code"))
    assert error_code(enter(client, "123456", status=400)) == "sign_in_code_wrong"
    response, _code = send(client, NOBODY, resend="1")
    assert error_code(response) == "sign_in_code_too_soon"
    # Not a phone number at all: a clear error, nothing written.
    response, _code = send(shopper(), "12ab")
    assert response.status_code == 400 and error_code(response) == "invalid_phone"
    assert SignInCode.objects.count() == 1


def test_a_rolled_back_write_sends_no_text(
    demo: None, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            members.member_code_send(phone=PHONE)
            raise RuntimeError
        assert not SignInCode.objects.exists()
    assert sms_outbox(PHONE) == []


def test_after_sign_in_the_member_goes_back_to_the_shop_page_only(
    demo: None, clock: Any, send: Any
) -> None:
    client = shopper()
    _response, code = send(client, next="/shop/yunling/2027-01-11/")
    assert code
    assert enter(client, code, next="/shop/yunling/2027-01-11/")["Location"] == (
        "/shop/yunling/2027-01-11/"
    )
    client.post("/shop/account/sign-out")
    clock.shift(dt.timedelta(seconds=61))
    _response, code = send(client)
    assert code
    assert enter(client, code, next="https://evil.example/")["Location"] == "/shop/account/"


# --- The account page -------------------------------------------------------------------------


def test_the_account_shows_the_pass_with_its_code_points_and_orders(
    demo: None, clock: Any, send: Any, django_assert_max_num_queries: Any
) -> None:
    the_pass = demo_sample_pass()
    client = signed_in(send)
    order = pay(client, booked(client, quantities={"adult": 2}, phone=PHONE))
    with django_assert_max_num_queries(16):
        page = html(client.get("/shop/account/"))
    card = re.search(r'<section id="passes">.*?</section>', page, re.S)
    assert card, page
    assert the_pass.number in card.group(0) and 'data-state="active"' in card.group(0)
    assert "<svg" in card.group(0)  # the code that opens the gates
    assert DEMO_CARD not in page and "A1B*C3D4" in card.group(0)
    assert f"{the_pass.valid_from.isoformat()} – {the_pass.valid_until.isoformat()}" in page
    # Both orders, newest first: the shop's booking, then the pass bought at the window.
    codes = re.findall(r'data-order="(\w+)"', page)
    pass_order = Order.objects.get(tickets__holder_pass=the_pass)
    assert codes == [order.code, pass_order.code]
    points = member().points
    assert points > 0 and f'id="points">{points}<' in page and "+396" in page
    # The shop's order opens its own page; the window's shows its e-tickets.
    response = client.get(f"/shop/account/orders/{order.code}/")
    assert response["Location"] == f"/shop/orders/{order.code}/"
    assert client.get(f"/shop/orders/{order.code}/").status_code == 200
    tickets = html(client.get(f"/shop/account/orders/{pass_order.code}/"))
    assert "<svg" in tickets and "E-tickets" in tickets
    # A frozen pass shows so, without a code.
    pass_freeze(pass_=the_pass, actor=User.objects.get(username="admin"))
    page = html(client.get("/shop/account/"))
    card = re.search(r'<section id="passes">.*?</section>', page, re.S)
    assert card and 'data-state="frozen"' in card.group(0) and "<svg" not in card.group(0)
    assert "frozen" in card.group(0)
    chinese = signed_in_again(send, clock, "zh-hans")
    page = html(chinese.get("/shop/account/"))
    assert "我的年卡" in page
    assert "已冻结" in page


def signed_in_again(send: Any, clock: Any, language: str) -> Client:
    clock.shift(dt.timedelta(seconds=61))
    return signed_in(send, language=language)


def test_another_members_order_is_not_found(demo: None, clock: Any, send: Any) -> None:
    other = other_member()
    theirs = svc.shop_order_place(
        site=site(),
        lines=[adult_line(MON)],
        contact_phone=OTHER_PHONE,
        form_key="theirs",
        member=other,
    )
    client = signed_in(send)
    assert client.get(f"/shop/account/orders/{theirs.code}/").status_code == 404
    assert client.get("/shop/account/orders/NOSUCHCODE/").status_code == 404
    # Nor does the order's own page open for them (it asks for the code and phone).
    response = client.get(f"/shop/orders/{theirs.code}/")
    assert response.status_code == 302 and response["Location"].startswith("/shop/lookup")
    assert client.get(f"/shop/orders/{theirs.code}/tickets").status_code == 302
    assert theirs.code not in html(client.get("/shop/account/"))
    # Signed out, the member's pages ask for signing in.
    assert shopper().get(f"/shop/account/orders/{theirs.code}/").status_code == 302


def test_the_orders_come_a_page_at_a_time(demo: None, clock: Any, send: Any) -> None:
    me = member()
    for i in range(12):
        svc.shop_order_place(
            site=site(),
            lines=[adult_line(MON + dt.timedelta(days=i // 6))],
            contact_phone=PHONE,
            form_key=f"k{i}",
            member=me,
        )
    client = signed_in(send)
    first = re.findall(r'data-order="(\w+)"', html(client.get("/shop/account/")))
    second = re.findall(r'data-order="(\w+)"', html(client.get("/shop/account/", {"page": 2})))
    newest = list(Order.objects.filter(member=me).order_by("-placed_at", "-pk"))
    assert first == [o.code for o in newest[:10]] and second == [o.code for o in newest[10:]]
    assert "Page 2 of 2" in html(client.get("/shop/account/", {"page": "99"}))


# --- Booking signed in ------------------------------------------------------------------------


def test_a_signed_in_member_books_at_the_member_price_and_earns_points(
    demo: None, clock: Any, send: Any
) -> None:
    client = signed_in(send)
    day = html(client.get(f"/shop/yunling/{MON.isoformat()}/"))
    assert 'id="member-note"' in day and "10% off" in day
    order = booked(client, quantities={"adult": 2}, phone=PHONE)
    assert order.member == member() and order.contact_name == "张云"
    # The online weekday price is ¥110; gold members pay 10 % less.
    assert order.total == Decimal("198.00")
    order = pay(client, order)
    assert order.status == Order.Status.PAID
    assert member().points == 396  # 2 points per yuan
    # Anonymous buyers pay the list price and earn nothing.
    anonymous = booked(shopper(), quantities={"adult": 2}, phone="13800138000")
    assert anonymous.member is None and anonymous.total == Decimal("220.00")
    assert 'id="member-sign-in"' in html(shopper().get(f"/shop/yunling/{MON.isoformat()}/"))


def test_a_member_who_is_deactivated_is_signed_out(demo: None, clock: Any, send: Any) -> None:
    client = signed_in(send)
    Member.objects.filter(phone=PHONE).update(is_active=False)
    assert client.get("/shop/account/")["Location"].startswith("/shop/account/sign-in")
    assert Pass.objects.count() == 0


def test_a_member_level_books_further_ahead_in_the_shop(
    demo: None, clock: Any, send: Any, settings: Any
) -> None:
    """Gold members book 7 days beyond everyone's window: the calendar and the day page open
    those days to them signed in, and to nobody else."""
    from django.utils import timezone

    from admit.sales.services.orders import site_today

    today = site_today(site(), timezone.now())
    beyond = today + dt.timedelta(days=settings.ADMIT_SALE_DAYS_AHEAD + 3)
    anonymous = shopper()
    refused = anonymous.get(f"/shop/yunling/{beyond.isoformat()}/")
    assert error_of(refused) == "too_far_ahead"
    client = signed_in(send)
    page = client.get(f"/shop/yunling/{beyond.isoformat()}/")
    assert page.status_code == 200 and 'id="error"' not in html(page)
    month = client.get("/shop/yunling/", {"month": beyond.strftime("%Y-%m")})
    assert f"/shop/yunling/{beyond.isoformat()}/" in html(month)
    assert f"/shop/yunling/{beyond.isoformat()}/" not in html(
        anonymous.get("/shop/yunling/", {"month": beyond.strftime("%Y-%m")})
    )
    too_far = today + dt.timedelta(days=settings.ADMIT_SALE_DAYS_AHEAD + 8)
    assert error_of(client.get(f"/shop/yunling/{too_far.isoformat()}/")) == "too_far_ahead"


def test_a_pass_is_valid_to_the_end_of_its_last_day_at_its_site(demo: None) -> None:
    """Whether a pass shows as valid follows the day at its site's gates, in the site's time
    zone, not the server's nor UTC's: at 10:00 in Shanghai (the server; 02:00 UTC) on the day
    after the last, it is still the last day in Los Angeles."""
    from zoneinfo import ZoneInfo

    from admit.catalog.models import Site
    from admit.shop.selectors import member_passes

    the_pass = demo_sample_pass()
    last = the_pass.valid_until
    Site.objects.filter(pk=the_pass.product.site_id).update(time_zone="America/Los_Angeles")
    shanghai = ZoneInfo("Asia/Shanghai")
    early = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(10), tzinfo=shanghai)
    (card,) = [c for c in member_passes(member=member(), now=early) if c.pass_ == the_pass]
    assert card.state == "active" and card.ticket is not None
    later = early + dt.timedelta(hours=24)  # 18:00 on the day after, in Los Angeles
    (card,) = [c for c in member_passes(member=member(), now=later) if c.pass_ == the_pass]
    assert card.state == "expired" and card.ticket is None
