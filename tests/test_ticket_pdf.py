"""Printable PDF tickets: one page per valid ticket, on A4 or an 80 mm roll, from the API and the
back office."""

from __future__ import annotations

import base64
import os
import re
import zlib
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client

from admit.accounts.models import User
from admit.accounts.services import user_create
from admit.catalog.services import product_save
from admit.sales.models import Order
from admit.tickets import qr
from admit.tickets.models import Ticket
from admit.tickets.pdf import mask_name, tickets_pdf
from tests.conftest import bearer_client
from tests.sales_helpers import IDS, line, pay_cash, place, product

pytestmark = pytest.mark.django_db

TERMS = "票当日有效，一经检票不退不换。Valid on the visit date only; no refund after entry."


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page[^s]", pdf))


def media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox \[ *([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+) *\]", pdf)
    return [(float(x1) - float(x0), float(y1) - float(y0)) for x0, y0, x1, y1 in boxes]


def page_text(pdf: bytes) -> bytes:
    """Every content stream of the PDF, unpacked (ASCII85 and Flate, as reportlab writes them)."""
    out = []
    for head, body in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        if b"ASCII85Decode" in head:
            body = base64.a85decode(body.strip().removeprefix(b"<~").removesuffix(b"~>"))
        if b"FlateDecode" in head:
            body = zlib.decompress(body)
        out.append(body)
    return b"\n".join(out)


def save_for_eyes(name: str, pdf: bytes) -> None:
    """With ADMIT_PDF_OUT=dir, keep the PDFs to look at (e.g. `pdftoppm -png`)."""
    if os.environ.get("ADMIT_PDF_OUT"):
        out = Path(os.environ["ADMIT_PDF_OUT"])
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(pdf)


@pytest.fixture
def api(clock, cashier_api):
    return cashier_api


@pytest.fixture
def paid(api, supervisor):
    """A paid order of two adult tickets and one real-name evening-show ticket, with terms."""
    for code in ("adult", "show"):
        p = product(code)
        p.terms = TERMS
        product_save(instance=p, actor=supervisor)
    visitor = [{"name": "张小三", "id_type": "resident_id", "id_number": IDS[0]}]
    order = place(
        api,
        [line(api, "adult", 2), line(api, "show", 1, start="19:30", visitors=visitor)],
    )
    return pay_cash(api, order["code"])["order"]


def test_the_api_gives_one_page_per_ticket_with_its_serial(api, paid):
    response = api.get(f"/api/v1/orders/{paid['code']}/tickets.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="tickets-{paid["code"]}.pdf"' in response["Content-Disposition"]
    pdf = response.content
    save_for_eyes("a4.pdf", pdf)
    assert pdf.startswith(b"%PDF-")
    assert pages(pdf) == 3
    assert media_boxes(pdf) == [pytest.approx((595.2756, 841.8898), abs=0.01)] * 3
    text = page_text(pdf)
    for t in paid["tickets"]:
        assert f"({t['serial']}) Tj".encode() in text
    assert b"(Visit date) Tj" in text  # the client asked for English
    # The listing of tickets links to the PDF.
    listed = api.get(f"/api/v1/orders/{paid['code']}/tickets").json()["tickets"]
    assert listed[0]["pdf"] == f"http://testserver/api/v1/orders/{paid['code']}/tickets.pdf"


def test_an_80mm_roll_is_80mm_wide_and_as_long_as_each_ticket(api, paid):
    response = api.get(f"/api/v1/orders/{paid['code']}/tickets.pdf", {"page": "80mm"})
    assert response.status_code == 200
    assert "-80mm.pdf" in response["Content-Disposition"]
    save_for_eyes("80mm.pdf", response.content)
    boxes = media_boxes(response.content)
    assert len(boxes) == pages(response.content) == 3
    for width, height in boxes:
        assert width == pytest.approx(226.77, abs=0.01)
        assert 150 * 2.8346 < height < 300 * 2.8346  # a ticket, not a sheet


def test_the_holder_is_masked_and_refunded_tickets_are_not_printed(api, paid):
    show = next(t for t in paid["tickets"] if t["holder_name"])
    adult = next(t for t in paid["tickets"] if not t["holder_name"])
    refund = api.post(
        f"/api/v1/orders/{paid['code']}/refunds",
        {"tickets": [adult["id"]]},
        content_type="application/json",
    )
    assert refund.status_code == 201, refund.content
    tickets = Ticket.objects.filter(order__code=paid["code"], status=Ticket.Status.VALID)
    pdf = tickets_pdf(tickets.select_related("product", "site", "order"), language="en")
    assert pages(pdf) == 2
    response = api.get(f"/api/v1/orders/{paid['code']}/tickets.pdf")
    assert pages(response.content) == 2
    text = page_text(response.content)
    assert show["serial"].encode() in text and adult["serial"].encode() not in text
    assert "张小三".encode("utf-16-be") not in text


def test_names_are_masked_keeping_the_first_and_last_character():
    assert mask_name("张三") == "张*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_name(" 李 ") == "李"


def test_the_pdf_is_reproducible_and_readable_uncompressed(api, paid):
    tickets = Ticket.objects.filter(order__code=paid["code"]).select_related(
        "product", "site", "order"
    )
    first = tickets_pdf(tickets, language="zh-hans", compress=False)
    assert first == tickets_pdf(tickets, language="zh-hans", compress=False)
    assert first.startswith(b"%PDF-") and b"FlateDecode" not in first
    for t in tickets:
        assert f"({t.serial}) Tj".encode() in first
    assert b"/STSong-Light" in first and b"/Helvetica" in first
    assert b"(\\245" in first or "(¥".encode("cp1252") in first  # the price, ¥ in WinAnsi
    save_for_eyes("zh-a4.pdf", first)
    save_for_eyes("zh-80mm.pdf", tickets_pdf(tickets, language="zh-hans", page="80mm"))


def test_the_qr_code_is_drawn_module_for_module_as_the_qr_images_are(api, paid):
    ticket = Ticket.objects.select_related("product", "site", "order").get(
        serial=paid["tickets"][0]["serial"]
    )
    for page in ("a4", "80mm"):
        pdf = tickets_pdf([ticket], language="en", page=page, compress=False)
        rects = [
            tuple(float(v) for v in m)
            for m in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re\b", pdf)
        ]
        unit = Counter(r[3] for r in rects).most_common(1)[0][0]  # one row of modules
        modules = [r for r in rects if r[3] == unit]
        left, top = min(r[0] for r in modules), max(r[1] + r[3] for r in modules)
        matrix = qr.make(ticket.code).matrix
        drawn = [[0] * len(matrix) for _ in matrix]
        for x, y, w, _h in modules:
            row, col = round((top - y - unit) / unit), round((x - left) / unit)
            for k in range(round(w / unit)):
                drawn[row][col + k] = 1
        assert drawn == [list(r) for r in matrix]


def test_unknown_orders_bad_pages_and_unpaid_orders_are_refused(api, paid):
    r = api.get("/api/v1/orders/NOSUCHORDER/tickets.pdf")
    assert r.status_code == 404 and r.json()["error"]["code"] == "order_not_found"
    r = api.get(f"/api/v1/orders/{paid['code']}/tickets.pdf", {"page": "letter"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_page"
    assert r.json()["error"]["details"]["allowed"] == ["a4", "80mm"]
    unpaid = place(api, [line(api, "adult", 1)])
    r = api.get(f"/api/v1/orders/{unpaid['code']}/tickets.pdf")
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_printable_tickets"


def test_the_pdf_needs_a_token_with_the_right_to_view_orders(paid, client):
    assert client.get(f"/api/v1/orders/{paid['code']}/tickets.pdf").status_code == 401
    gate = user_create(username="gatekeeper", password=None, roles=["gate_operator"], actor=None)
    r = bearer_client(gate).get(f"/api/v1/orders/{paid['code']}/tickets.pdf")
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"


def test_the_back_office_prints_tickets_from_the_order_page(paid):
    office = Client(HTTP_ACCEPT_LANGUAGE="en")
    office.force_login(User.objects.get(username="supervisor"))
    order = Order.objects.get(code=paid["code"])
    page = office.get(f"/admin/sales/order/{order.pk}/change/").content.decode()
    url = f"/admin/sales/order/{order.code}/tickets.pdf"
    assert f'href="{url}"' in page and "Print tickets (PDF)" in page
    response = office.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert pages(response.content) == 3
    assert pages(office.get(url, {"page": "80mm"}).content) == 3
    # A bad page format goes back to the order with a message.
    response = office.get(url, {"page": "letter"}, follow=True)
    assert "Unknown page format." in response.content.decode()
    assert office.get("/admin/sales/order/NOSUCHORDER/tickets.pdf").status_code == 404
    # Staff without the right to see orders, and visitors without a session, are kept out.
    gate = user_create(username="gatekeeper", password=None, roles=["gate_operator"], actor=None)
    office.force_login(gate)
    assert office.get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
