"""Per-product ticket templates: every field drawn where the layout puts it on an 80 mm roll or an
A4 sheet, which template prints a ticket, reprints marked, bad layouts refused, and the back
office's template designer."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import zoneinfo
from collections import Counter

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from reportlab.graphics.barcode.code128 import Code128

from admit.accounts.models import User
from admit.accounts.rights import permissions_of
from admit.boxoffice.models import (
    ShiftAction,
    StockBatch,
    StockSerial,
    Terminal,
    TicketPrint,
    TicketTemplate,
)
from admit.boxoffice.printing import (
    FIELDS,
    PREVIEW_BARCODE,
    PREVIEW_CODE,
    LayoutInvalid,
    layout_problems,
    starter_layout,
    tiny_png,
)
from admit.boxoffice.selectors import open_shift
from admit.boxoffice.services.printing import (
    TemplateOverlap,
    TemplateProductElsewhere,
    template_save,
    templates_for,
    tickets_preview,
    tickets_print,
)
from admit.catalog.models import Product, Site
from admit.core.errors import PermissionDenied
from admit.core.models import AuditEntry
from admit.tickets import qr
from admit.tickets.models import Ticket
from tests.sales_helpers import IDS, line, pay_cash, place
from tests.test_ticket_pdf import media_boxes, page_text, pages

pytestmark = pytest.mark.django_db

MM = 72 / 25.4
AT = dt.datetime(2026, 11, 23, 9, 41, tzinfo=dt.UTC)  # printing time, frozen where it is read
TERMS = "当日有效 Valid on the visit date only."


# --- Reading PDFs -------------------------------------------------------------------------


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
    while i < len(raw):
        ch = raw[i : i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        if nxt in simple:
            out += simple[nxt]
            i += 2
        elif nxt.isdigit():
            digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            assert digits
            out.append(int(digits.group(), 8))
            i += 1 + len(digits.group())
        else:
            out += nxt
            i += 2
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """Every string the PDF shows, in drawing order: Helvetica's in WinAnsi, the CJK font's in
    UCS-2."""
    found = re.findall(rb"/BaseFont /(\S+).*?/Name /(F\d+)", pdf, re.S)
    fonts = {name: base for base, name in found}
    stream = page_text(pdf)
    out: list[str] = []
    font = b""
    for m in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", stream, re.S):
        if m.group(1):
            font = fonts[m.group(1)]
            continue
        raw = _unescape(m.group(2))
        out.append(raw.decode("utf-16-be") if b"STSong" in font else raw.decode("cp1252"))
    return "".join(out)


def rects(pdf: bytes) -> list[tuple[float, float, float, float]]:
    return [
        tuple(float(v) for v in m)  # type: ignore[misc]
        for m in re.findall(rb"(-?[\d.]+) (-?[\d.]+) ([\d.]+) ([\d.]+) re\b", page_text(pdf))
    ]


def qr_matrix(pdf: bytes) -> list[list[int]]:
    """The QR symbol drawn in the PDF, read back module by module."""
    found = rects(pdf)
    unit = Counter(r[3] for r in found).most_common(1)[0][0]
    modules = [r for r in found if r[3] == unit]
    left, top = min(r[0] for r in modules), max(r[1] + r[3] for r in modules)
    size = round((top - min(r[1] for r in modules)) / unit)
    drawn = [[0] * size for _ in range(size)]
    for x, y, w, _h in modules:
        row, col = round((top - y - unit) / unit), round((x - left) / unit)
        for k in range(round(w / unit)):
            drawn[row][col + k] = 1
    return drawn


def barcode_bars(pdf: bytes, height_mm: float) -> list[int]:
    """The widths of the barcode's bars, in narrowest bars, left to right."""
    bars = sorted(r for r in rects(pdf) if abs(r[3] - height_mm * MM) < 0.01)
    narrowest = min(r[2] for r in bars)
    return [round(r[2] / narrowest) for r in bars]


def code128_bars(value: str) -> list[int]:
    """Code 128's bars for ``value``, from reportlab's pattern (bars in capitals, A = 1)."""
    symbol = Code128(value, quiet=False)
    symbol.validate()
    symbol.encode()
    return [ord(ch) - ord("A") + 1 for ch in symbol.decompose() if ch.isupper()]


# --- The world ----------------------------------------------------------------------------


@pytest.fixture
def world(clock, cashier_api):
    """A paid window order: two adults, and one real-name evening show ticket with terms."""
    api = cashier_api
    visitor = [{"name": "张小三", "id_type": "resident_id", "id_number": IDS[0]}]
    order = place(
        api, [line(api, "adult", 2), line(api, "show", 1, start="19:30", visitors=visitor)]
    )
    pay_cash(api, order["code"])
    return Ticket.objects.filter(order__code=order["code"]).select_related(
        "product", "site", "order"
    )


def supervisor() -> User:
    return User.objects.get(username="supervisor")


def site() -> Site:
    return Site.objects.get(code="yunling")


def every_field(paper: str) -> list[dict]:
    """All fields, one under another (the QR code and the barcode at the bottom)."""
    width = 72 if paper == "80mm" else 180
    out: list[dict] = []
    y = 4.0
    for name, kind in FIELDS.items():
        if kind.kind in ("qr", "barcode"):
            continue
        item = {"field": name, "x": 4, "y": y, "width": width, "size": 8, "bold": False}
        if name == "text":
            item["text"] = "Custom 自定义 text"
        if name == "logo":
            item["width"] = 12
            y += 14
        y += 9 if name != "terms" else 12
        out.append(item)
    out.append({"field": "qr", "x": 4, "y": y, "width": 40, "size": 8, "bold": False})
    out.append({"field": "barcode", "x": 4, "y": y + 44, "width": 60, "height": 10, "size": 8})
    return out


def logo_png() -> str:
    return base64.b64encode(tiny_png(6, 3, lambda x, y: (0, 0, 0, 255 if x > y else 0))).decode()


def bind_paper(ticket: Ticket, serial: str) -> StockSerial:
    """A numbered paper ticket bound to ``ticket`` (rows written here: the stock services are
    tested in test_stock.py)."""
    batch = StockBatch.objects.create(
        code="test-batch",
        site=ticket.site,
        prefix=serial[0],
        first_number=int(serial[1:]),
        last_number=int(serial[1:]),
        received_at=AT,
        received_by=supervisor(),
    )
    return StockSerial.objects.create(
        batch=batch,
        number=int(serial[1:]),
        serial=serial,
        status=StockSerial.Status.USED,
        ticket=ticket,
    )


def template(name: str, paper: str, layout: list[dict], products=(), **fields) -> TicketTemplate:
    return template_save(
        instance=TicketTemplate(name=name, site=site(), paper=paper, layout=layout, **fields),
        actor=supervisor(),
        m2m={"products": list(products)},
    )


def one_page(pdf: bytes) -> str:
    assert pages(pdf) == 1
    return pdf_text(pdf)


# --- Rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["80mm", "a4"])
def test_every_field_is_printed_on_both_papers(world, paper):
    show = world.get(product__code="show")
    bind_paper(show, "P0001234")
    TicketTemplate.objects.filter(paper=paper).update(is_active=False)
    tpl = template("all fields", paper, every_field(paper), [show.product], terms=TERMS)
    tpl.logo = logo_png()
    template_save(instance=tpl, actor=supervisor())
    cashier = User.objects.get(username="cashier")
    shift = open_shift(cashier)
    with time_machine.travel(AT, tick=False), translation.override("en"):
        pdf = tickets_print(tickets=[show], actor=cashier, shift=shift, page=paper)
    text = one_page(pdf)
    local = AT.astimezone(zoneinfo.ZoneInfo(show.site.time_zone))
    expected = {
        "site": show.site.name_en,
        "product": show.product.name_en,
        "visit_date": show.valid_from.isoformat(),
        "slot": f"{show.slot_start:%H:%M}–{show.slot_end:%H:%M}",
        "persons": "1 person",
        "price": f"¥{show.price:.2f}",
        "serial": show.serial,
        "stock_serial": "P0001234",
        "order": show.order.code,
        "holder": "张*三",
        "terms": TERMS,
        "text": "Custom 自定义 text",
        "printed_at": f"{local:%Y-%m-%d %H:%M}",
        "cashier": f"{cashier.display_name} · {shift.terminal.name}",
    }
    assert set(expected) | {"qr", "barcode", "logo"} == set(FIELDS)
    for name, value in expected.items():
        assert value in text, (name, value, text)
    assert "张小三" not in text and "REPRINT" not in text
    assert qr_matrix(pdf) == [list(r) for r in qr.make(show.code).matrix]
    assert barcode_bars(pdf, 10) == code128_bars(show.serial)
    assert b"/Subtype /Image" in pdf and b"/Width 6" in pdf  # the logo
    width, height = media_boxes(pdf)[0]
    assert width == pytest.approx((80 if paper == "80mm" else 210) * MM, abs=0.01)
    if paper == "a4":
        assert height == pytest.approx(297 * MM, abs=0.01)
    else:  # the roll is cut 5 mm under the barcode, the lowest field
        lowest = every_field(paper)[-1]
        assert height == pytest.approx((lowest["y"] + lowest["height"] + 5) * MM, abs=1)
    printed = TicketPrint.objects.get(ticket=show)
    assert printed.template == tpl and printed.serial.serial == "P0001234"
    assert printed.kind == TicketPrint.Kind.FIRST and printed.shift == shift


def test_fields_sit_where_the_layout_puts_them(world):
    ticket = world.filter(product__code="adult").first()
    layout = [
        {"field": "qr", "x": 20, "y": 30, "width": 40},
        {"field": "serial", "x": 10, "y": 10, "width": 60, "size": 12},
    ]
    TicketTemplate.objects.update(is_active=False)
    template("placed", "80mm", layout, [ticket.product])
    pdf = tickets_print(tickets=[ticket], actor=supervisor(), page="80mm")
    height = media_boxes(pdf)[0][1]
    text_ops = re.findall(rb"1 0 0 1 ([\d.]+) ([\d.]+) Tm\s*/F\d+ 12 Tf", page_text(pdf))
    assert len(text_ops) == 1, "the serial, alone in 12 pt"
    x, y = (float(v) for v in text_ops[0])
    assert x == pytest.approx(10 * MM, abs=0.5)
    assert height - y == pytest.approx(10 * MM + 12 * 1.3 * 0.72, abs=0.5)  # first baseline
    modules = [r for r in rects(pdf) if r[3] < 3]
    # The symbol's quiet zone is 4 modules: the first dark module starts 4 units in.
    unit = 40 * MM / (len(qr.make(ticket.code).matrix) + 8)
    assert min(r[0] for r in modules) == pytest.approx(20 * MM + 4 * unit, abs=0.01)
    assert height - max(r[1] + r[3] for r in modules) == pytest.approx(30 * MM + 4 * unit, abs=0.01)

    # A preview is marked, moved down under its mark, and not recorded as a print.
    preview = tickets_preview(tickets=[ticket], page="80mm", actor=supervisor())
    assert "样张 PREVIEW" in pdf_text(preview)
    assert media_boxes(preview)[0][1] > height
    assert TicketPrint.objects.filter(ticket=ticket).count() == 1
    # Its QR code admits nobody: a preview is no unaudited reprint.
    assert qr_matrix(preview) == [list(r) for r in qr.make(PREVIEW_CODE).matrix]
    assert ticket.code != PREVIEW_CODE


@pytest.mark.parametrize("builtin", [False, True])
def test_a_preview_admits_nobody_with_a_template_or_the_built_in_layout(world, builtin):
    ticket = world.filter(product__code="adult").first()
    if builtin:
        TicketTemplate.objects.update(is_active=False)
    with translation.override("en"):
        preview = tickets_preview(tickets=[ticket], page="a4", actor=supervisor())
    text = one_page(preview)
    assert "样张 PREVIEW" in text and ticket.serial in text
    assert ("Show this code at the gate" in text) is builtin
    assert qr_matrix(preview) == [list(r) for r in qr.make(PREVIEW_CODE).matrix]
    if not builtin:  # the demo's A4 template has a barcode: it holds no ticket number either
        height = next(i["height"] for i in starter_layout("a4") if i["field"] == "barcode")
        assert barcode_bars(preview, height) == code128_bars(PREVIEW_BARCODE)
    assert not TicketPrint.objects.filter(ticket=ticket).exists()


def test_the_point_of_sale_previews_a_ticket_on_its_paper(world):
    ticket = world.get(product__code="show")
    url = f"/boxoffice/tickets/{ticket.pk}/preview.pdf"
    window = Client(HTTP_ACCEPT_LANGUAGE="en")
    window.force_login(User.objects.get(username="cashier"))
    response = window.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert media_boxes(response.content)[0][0] == pytest.approx(80 * MM, abs=0.01)  # window-1
    text = one_page(response.content)
    assert ticket.serial in text and "样张 PREVIEW" in text
    a4 = window.get(url, {"page": "a4"})
    assert media_boxes(a4.content)[0] == pytest.approx((210 * MM, 297 * MM), abs=0.01)
    assert window.get(url, {"page": "letter"}).status_code == 400
    assert window.get("/boxoffice/tickets/999999/preview.pdf").status_code == 404
    assert not TicketPrint.objects.filter(ticket=ticket).exists()
    gate = Client()
    gate.force_login(User.objects.get(username="gate"))
    assert gate.get(url).status_code == 403
    # An agency's booker may see orders, but only its account's: this window sale is not one.
    agent = Client()
    agent.force_login(User.objects.get(username="agent"))
    assert agent.get(url).status_code == 404


# --- Which template -----------------------------------------------------------------------


def marker(text: str, paper: str = "80mm") -> list[dict]:
    return [*starter_layout(paper), {"field": "text", "x": 4, "y": 1, "width": 60, "text": text}]


def test_the_products_template_wins_then_the_sites_default_then_the_built_in(world):
    adult = world.filter(product__code="adult").first()
    show = world.get(product__code="show")
    child = Product.objects.get(code="child")
    # The demo's defaults print every product on both papers.
    demo = {t.paper: t for t in TicketTemplate.objects.filter(site=site())}
    assert set(demo) == {"80mm", "a4"} and all(not t.products.exists() for t in demo.values())
    assert templates_for([adult, show], "80mm") == {adult.pk: demo["80mm"], show.pk: demo["80mm"]}

    own = template("adult roll", "80mm", marker("ADULT-TEMPLATE"), [adult.product, child])
    template("adult inactive", "a4", marker("INACTIVE", "a4"), [adult.product], is_active=False)
    assert templates_for([adult, show], "80mm") == {adult.pk: own, show.pk: demo["80mm"]}
    assert templates_for([adult, show], "a4") == {adult.pk: demo["a4"], show.pk: demo["a4"]}

    demo["80mm"].is_active = False
    template_save(instance=demo["80mm"], actor=supervisor())
    assert templates_for([adult, show], "80mm") == {adult.pk: own, show.pk: None}

    with translation.override("en"):
        pdf_adult = tickets_print(tickets=[adult], actor=supervisor(), page="80mm")
        pdf_show = tickets_print(tickets=[show], actor=supervisor(), page="80mm")
    assert "ADULT-TEMPLATE" in one_page(pdf_adult)
    builtin = one_page(pdf_show)
    assert "Show this code at the gate" in builtin and "ADULT-TEMPLATE" not in builtin
    assert TicketPrint.objects.get(ticket=adult).template == own
    assert TicketPrint.objects.get(ticket=show).template is None


def test_two_active_templates_for_one_product_or_two_defaults_are_refused(world):
    adult = Product.objects.get(code="adult")
    template("adult roll", "80mm", marker("ONE"), [adult])
    before = TicketTemplate.objects.count(), AuditEntry.objects.count()
    with pytest.raises(TemplateOverlap) as refused:
        template("adult roll 2", "80mm", marker("TWO"), [adult, Product.objects.get(code="child")])
    assert refused.value.code == "template_overlap"
    with pytest.raises(TemplateOverlap):
        template("second default", "80mm", marker("THREE"))
    # Inactive ones, and the other paper, do not compete.
    template("adult roll off", "80mm", marker("FOUR"), [adult], is_active=False)
    template("adult a4", "a4", marker("FIVE", "a4"), [adult])
    assert TicketTemplate.objects.count() == before[0] + 2
    assert AuditEntry.objects.count() == before[1] + 2


def test_a_template_prints_only_products_of_its_site(world, supervisor):
    other = Site.objects.create(code="elsewhere", name="别处")
    alien = Product.objects.create(site=other, code="alien", name="外票")
    with pytest.raises(TemplateProductElsewhere) as refused:
        template_save(
            instance=TicketTemplate(name="x", site=site(), layout=marker("X")),
            actor=supervisor,
            m2m={"products": [alien]},
        )
    assert refused.value.code == "template_product_site"
    assert not TicketTemplate.objects.filter(name="x").exists()


# --- Reprints -----------------------------------------------------------------------------


@pytest.mark.parametrize("builtin", [False, True])
def test_a_reprint_is_marked_with_its_time_and_a_first_print_is_not(world, builtin):
    ticket = world.filter(product__code="adult").first()
    if builtin:
        TicketTemplate.objects.update(is_active=False)
    cashier = User.objects.get(username="cashier")
    shift = open_shift(cashier)
    first = tickets_print(tickets=[ticket], actor=cashier, shift=shift)
    assert "REPRINT" not in one_page(first)
    # Staff without the right to reprint may not print it again; nothing is recorded.
    gate = User.objects.get(username="gate")
    assert "boxoffice.reprint_ticket" not in permissions_of(gate)
    with pytest.raises(PermissionDenied) as refused:
        tickets_print(tickets=[ticket], actor=gate)
    assert refused.value.details == {"needs": ["boxoffice.reprint_ticket"]}
    assert TicketPrint.objects.filter(ticket=ticket).count() == 1
    assert "boxoffice.reprint_ticket" in permissions_of(cashier)  # the cashier's role may
    with time_machine.travel(AT, tick=False):
        again = tickets_print(tickets=[ticket], actor=cashier, shift=shift, reason="paper jam")
    local = AT.astimezone(zoneinfo.ZoneInfo(ticket.site.time_zone))
    assert f"重印 REPRINT {local:%Y-%m-%d %H:%M}" in one_page(again)
    kinds = list(TicketPrint.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [TicketPrint.Kind.FIRST, TicketPrint.Kind.REPRINT]
    action = ShiftAction.objects.get(shift=shift, kind=ShiftAction.Kind.REPRINT)
    assert action.ticket == ticket and action.reason == "paper jam"
    assert AuditEntry.objects.filter(verb="ticket_reprint", object_id=str(ticket.pk)).exists()


def test_a_kiosk_prints_with_the_template_and_without_a_cashier(world):
    ticket = world.filter(product__code="adult").first()
    kiosk = Terminal.objects.get(code="kiosk-1")
    from admit.boxoffice.services.kiosk import kiosk_actor

    with translation.override("en"):
        pdf = tickets_print(tickets=[ticket], actor=kiosk_actor(kiosk), terminal=kiosk)
    text = one_page(pdf)
    assert ticket.serial in text and kiosk.name in text
    assert "李售票" not in text and "REPRINT" not in text
    printed = TicketPrint.objects.get(ticket=ticket)
    assert printed.terminal == kiosk and printed.template.paper == kiosk.paper


# --- Bad layouts --------------------------------------------------------------------------

QR = {"field": "qr", "x": 10, "y": 10, "width": 40}


@pytest.mark.parametrize(
    ("paper", "layout", "code"),
    [
        ("80mm", {"field": "qr"}, "layout_not_list"),
        ("80mm", [QR, {"field": "weather", "x": 1, "y": 1, "width": 10}], "field_unknown"),
        ("80mm", [QR, {"field": "site", "x": 10, "y": 1, "width": 75}], "outside_page"),
        ("80mm", [QR, {"field": "site", "x": -1, "y": 1, "width": 10}], "outside_page"),
        ("80mm", [{**QR, "y": 390}], "outside_page"),
        ("a4", [{**QR, "y": 280}], "outside_page"),
        ("80mm", [QR, {"field": "site", "x": 1, "y": 1, "width": 10, "size": -8}], "size_invalid"),
        ("80mm", [QR, {"field": "site", "x": 1, "y": 1, "width": -10}], "width_invalid"),
        ("80mm", [{**QR, "width": 8}], "width_invalid"),
        ("80mm", [QR, {"field": "site", "x": "1", "y": 1, "width": 10}], "number_missing"),
        ("80mm", [QR, {"field": "site", "x": 1, "y": 1, "width": 10, "colour": 1}], "key_unknown"),
        ("80mm", [QR, {"field": "text", "x": 1, "y": 1, "width": 10, "text": " "}], "text_invalid"),
        (
            "80mm",
            [{"field": "barcode", "x": 1, "y": 1, "width": 40, "height": 0}],
            "height_invalid",
        ),
        ("80mm", [{"field": "site", "x": 1, "y": 1, "width": 40}], "no_code_field"),
        ("80mm", [], "no_code_field"),
        ("letter", [QR], "paper_unknown"),
    ],
)
def test_bad_layouts_are_refused_with_a_code_and_change_nothing(world, paper, layout, code):
    assert code in [p.code for p in layout_problems(layout, paper)]
    demo = TicketTemplate.objects.get(paper="80mm")
    before = (demo.layout, AuditEntry.objects.count())
    demo.layout = layout
    demo.paper = paper
    with pytest.raises(LayoutInvalid) as refused:
        template_save(instance=demo, actor=supervisor())
    assert refused.value.code == "layout_invalid"
    assert code in [e["code"] for e in refused.value.details["errors"]]
    demo.refresh_from_db()
    assert (demo.layout, AuditEntry.objects.count()) == before


def test_good_layouts_pass_and_are_stored_with_their_defaults(world):
    assert layout_problems(starter_layout("80mm"), "80mm") == []
    assert layout_problems(starter_layout("a4"), "a4") == []
    assert layout_problems(every_field("a4"), "a4") == []
    saved = template(
        "bare", "a4", [{"field": "qr", "x": 150, "y": 237, "width": 60}], is_active=False
    )
    saved.refresh_from_db()
    assert saved.layout == [
        {"field": "qr", "x": 150.0, "y": 237.0, "width": 60.0, "size": 10.0, "bold": False}
    ]


# --- Back office --------------------------------------------------------------------------


@pytest.fixture
def office(demo):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(supervisor())
    return c


def test_the_designer_opens_and_saves_a_layout(office):
    tpl = TicketTemplate.objects.get(paper="80mm")
    url = f"/admin/boxoffice/tickettemplate/{tpl.pk}/change/"
    page = office.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="designer"' in html and 'id="designer-config"' in html
    assert "boxoffice/designer.js" in html and "boxoffice/designer.css" in html
    for kind in FIELDS.values():
        assert str(kind.label) in html  # the palette offers every field
    layout = [dict(item) for item in tpl.layout]
    layout[0]["x"] = 30.5
    form = {
        "name": tpl.name,
        "site": tpl.site_id,
        "paper": "80mm",
        "layout": json.dumps(layout),
        "terms": "",
        "is_active": "on",
        "_save": "Save",
    }
    response = office.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    tpl.refresh_from_db()
    assert tpl.layout[0]["x"] == 30.5
    assert tpl.logo  # kept: no new file, not cleared
    entry = AuditEntry.objects.filter(object_id=str(tpl.pk), action="update").latest("pk")
    assert "layout" in entry.changes and entry.actor_label == "supervisor"

    # A layout off the page is refused on the form and nothing changes.
    layout[0]["x"] = 79
    bad = office.post(url, {**form, "layout": json.dumps(layout)})
    assert bad.status_code == 200
    assert "right edge" in bad.content.decode()
    tpl.refresh_from_db()
    assert tpl.layout[0]["x"] == 30.5


def test_the_designer_previews_the_form_as_a_pdf(office):
    tpl = TicketTemplate.objects.get(paper="a4")
    url = "/admin/boxoffice/tickettemplate/preview.pdf"
    layout = [
        {"field": "qr", "x": 150, "y": 20, "width": 50},
        {"field": "text", "x": 10, "y": 10, "width": 100, "text": "HELLO-PREVIEW"},
        {"field": "logo", "x": 10, "y": 30, "width": 20},
    ]
    response = office.get(
        url,
        {
            "template": tpl.pk,
            "site": tpl.site_id,
            "paper": "a4",
            "layout": json.dumps(layout),
        },
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = one_page(response.content)
    assert "HELLO-PREVIEW" in text and "样张 PREVIEW" in text
    assert b"/Subtype /Image" in response.content  # the template's logo
    bad = office.get(url, {"site": tpl.site_id, "paper": "a4", "layout": "[{}]"})
    assert bad.status_code == 400 and "Field 1" in bad.content.decode()


def test_only_supervisors_change_templates(demo):
    tpl = TicketTemplate.objects.get(paper="80mm")
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(User.objects.get(username="cashier"))
    assert c.get(f"/admin/boxoffice/tickettemplate/{tpl.pk}/change/").status_code in (302, 403)
    assert c.get("/admin/boxoffice/tickettemplate/preview.pdf").status_code in (302, 403)


# --- In a real browser --------------------------------------------------------------------


@pytest.fixture
def demo_live(live_server):
    from tests.conftest import load_demo

    load_demo()
    return live_server


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_drags_a_field_in_the_designer_and_saves(demo_live, page):
    tpl = TicketTemplate.objects.get(paper="80mm")
    before = next(item for item in tpl.layout if item["field"] == "qr")
    base = demo_live.url
    page.goto(f"{base}/admin/login/?next=/admin/boxoffice/tickettemplate/{tpl.pk}/change/")
    page.fill("#id_username", "supervisor")
    page.fill("#id_password", "demo1234")
    page.click("input[type=submit]")
    qr_box = page.locator('.designer-item[data-field="qr"]')
    qr_box.wait_for()
    qr_box.scroll_into_view_if_needed()
    assert page.locator(".designer-add").count() == len(FIELDS)
    # The page is drawn at its proportions: the QR code's box is as wide as its field.
    page_width = page.locator(".designer-page").bounding_box()["width"]
    box = qr_box.bounding_box()
    assert box["width"] / page_width == pytest.approx(before["width"] / 80, abs=0.01)

    # Drag the QR code 10 mm right and 5 mm down (in the page's pixels), then nudge it with a key.
    px_per_mm = page_width / 80
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 5 * px_per_mm, y0 + 2 * px_per_mm, steps=4)
    page.mouse.move(x0 + 10 * px_per_mm, y0 + 5 * px_per_mm, steps=4)
    page.mouse.up()
    assert page.input_value('.designer-inspector input[name="designer-x"]') == str(
        before["x"] + 10
    ).removesuffix(".0")
    page.keyboard.press("ArrowRight")
    layout = json.loads(page.input_value("#id_layout"))
    moved = next(item for item in layout if item["field"] == "qr")
    assert (moved["x"], moved["y"]) == (before["x"] + 10.5, before["y"] + 5)

    # Add a custom text from the list and type it in the inspector.
    page.click('.designer-add[data-field="text"]')
    page.fill('.designer-inspector input[name="designer-text"]', "请保管好您的门票")
    assert page.locator('.designer-item[data-field="text"]').inner_text() == "请保管好您的门票"

    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    tpl.refresh_from_db()
    saved = next(item for item in tpl.layout if item["field"] == "qr")
    assert (saved["x"], saved["y"]) == (before["x"] + 10.5, before["y"] + 5)
    assert [i["text"] for i in tpl.layout if i["field"] == "text"] == ["请保管好您的门票"]
    entry = AuditEntry.objects.filter(object_id=str(tpl.pk), action="update").latest("pk")
    assert entry.actor_label == "supervisor" and "layout" in entry.changes
    # The saved page draws the field where it was dropped.
    after = page.locator('.designer-item[data-field="qr"]').bounding_box()
    assert after["x"] - box["x"] == pytest.approx(10.5 * px_per_mm, abs=1)


def test_a_new_template_starts_from_the_standard_layout_and_takes_a_logo(office):
    page = office.get("/admin/boxoffice/tickettemplate/add/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert form.initial["layout"] == starter_layout("80mm")
    adult = Product.objects.get(code="adult")
    png = base64.b64decode(logo_png())
    data = {
        "name": "成人票 80 mm",
        "site": site().pk,
        "paper": "80mm",
        "products": [adult.pk],
        "layout": json.dumps(starter_layout("80mm")),
        "terms": "",
        "is_active": "on",
        "_save": "Save",
    }
    response = office.post(
        "/admin/boxoffice/tickettemplate/add/",
        {**data, "logo_file": SimpleUploadedFile("logo.png", png, "image/png")},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = TicketTemplate.objects.get(name="成人票 80 mm")
    assert base64.b64decode(made.logo) == png
    assert list(made.products.all()) == [adult]
    assert AuditEntry.objects.filter(object_id=str(made.pk), action="create").exists()

    # A second active template for the same product, or a file that is no PNG, is refused on
    # the form, and nothing is saved.
    count = TicketTemplate.objects.count()
    again = office.post("/admin/boxoffice/tickettemplate/add/", {**data, "name": "again"})
    assert again.status_code == 200 and "already prints these products" in again.content.decode()
    fake = SimpleUploadedFile("logo.png", b"GIF89a not a png", "image/png")
    bad = office.post(
        "/admin/boxoffice/tickettemplate/add/",
        {**data, "name": "bad logo", "is_active": "", "logo_file": fake},
    )
    assert bad.status_code == 200 and "must be a PNG picture" in bad.content.decode()
    assert TicketTemplate.objects.count() == count
