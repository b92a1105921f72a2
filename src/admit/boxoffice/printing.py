"""Ticket templates: placed fields drawn on an 80 mm thermal roll or an A4 sheet.

A template's layout is a list of placed fields, each a small dict::

    {"field": "product", "x": 4, "y": 18, "size": 14, "bold": true, "width": 72}

``x``, ``y`` (the top of the field) and ``width`` are millimetres from the page's top left corner,
``size`` is the type size in points. Optional keys: ``label`` (print "Price: ¥120.00" rather than
"¥120.00"), ``align`` (left, center, right), ``height`` (a barcode's, in mm) and ``text`` (what a
custom text field says). A QR code is a square ``width`` wide, quiet zone included; a logo is
``width`` wide and as tall as its picture's proportions make it.

A roll is cut just below the lowest field; an A4 sheet is a page. A reprint carries a framed
"重印 REPRINT" mark with the time at the top of the ticket.

Nothing here reads the database: the service hands over the ticket (with its product, site and
order loaded), the template's layout and logo, and what else is printed (paper serial, cashier,
time); ``render`` returns the PDF.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import math
import struct
import zlib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from admit.core.errors import ValidationFailed
from admit.tickets import pdf
from admit.tickets.pdf import Column, Op, TicketFace, mask_name

# --- Paper ---------------------------------------------------------------------------------

# The papers of the built-in layout (tickets/pdf.py), in mm.
PAPER_WIDTH_MM: dict[str, float] = {name: round(f.width / mm, 1) for name, f in pdf.PAGES.items()}
PAPER_HEIGHT_MM: dict[str, float | None] = {  # None: a roll
    name: round(f.height / mm, 1) if f.height else None for name, f in pdf.PAGES.items()
}
ROLL_MAX_MM = 400  # the longest ticket a roll is cut to
ROLL_TAIL_MM = 5  # paper left below the lowest field
LEADING = 1.3  # line height / type size, as the designer shows it

REPRINT = "重印 REPRINT"  # both languages on purpose: a gate keeper of either reads it
PREVIEW = "样张 PREVIEW"
PREVIEW_CODE = "ADMIT-PREVIEW-NOT-VALID"  # a preview's QR code and barcode admit nobody
PREVIEW_BARCODE = "PREVIEW"


def paper_height(paper: str) -> float:
    """The page's height in mm, or the longest roll."""
    return PAPER_HEIGHT_MM[paper] or ROLL_MAX_MM


# --- Fields --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldKind:
    label: str | Promise
    kind: str  # "text", "qr", "barcode" or "logo"
    min_width: float = 5.0  # mm


FIELDS: dict[str, FieldKind] = {
    "site": FieldKind(gettext_lazy("Site name"), "text"),
    "product": FieldKind(gettext_lazy("Product"), "text"),
    "visit_date": FieldKind(gettext_lazy("Visit date"), "text"),
    "slot": FieldKind(gettext_lazy("Time slot"), "text"),
    "persons": FieldKind(gettext_lazy("Persons"), "text"),
    "price": FieldKind(gettext_lazy("Price"), "text"),
    "qr": FieldKind(gettext_lazy("QR code"), "qr", min_width=18),
    "barcode": FieldKind(gettext_lazy("Barcode (Code 128)"), "barcode", min_width=30),
    "serial": FieldKind(gettext_lazy("Ticket no."), "text"),
    "stock_serial": FieldKind(gettext_lazy("Paper serial"), "text"),
    "order": FieldKind(gettext_lazy("Order no."), "text"),
    "holder": FieldKind(gettext_lazy("Holder"), "text"),
    "terms": FieldKind(gettext_lazy("Terms"), "text"),
    "logo": FieldKind(gettext_lazy("Logo"), "logo"),
    "text": FieldKind(gettext_lazy("Custom text"), "text"),
    "printed_at": FieldKind(gettext_lazy("Printed at"), "text"),
    "cashier": FieldKind(gettext_lazy("Cashier / terminal"), "text"),
}
KEYS = {"field", "x", "y", "size", "bold", "width", "height", "label", "align", "text"}
ALIGNS = ("left", "center", "right")
MIN_SIZE, MAX_SIZE = 4.0, 72.0  # pt
MIN_HEIGHT, MAX_HEIGHT = 5.0, 60.0  # a barcode's, mm
DEFAULT_SIZE = 10.0
DEFAULT_BARCODE_HEIGHT = 12.0
MAX_FIELDS = 60
MAX_TEXT = 300


# --- Validation ----------------------------------------------------------------------------


class LayoutInvalid(ValidationFailed):
    code = "layout_invalid"
    default_message = gettext_lazy("This layout cannot be printed.")


@dataclass(frozen=True)
class Problem:
    index: int | None  # the field's position in the layout (0-based), None for the whole
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "code": self.code, "message": self.message}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    return float(value)


def _field_height(item: Mapping[str, Any]) -> float:
    """A field's height in mm as far as it is known without the ticket (one line of text)."""
    kind = FIELDS[item["field"]].kind
    if kind == "qr":
        return float(item["width"])
    if kind == "barcode":
        return float(item.get("height", DEFAULT_BARCODE_HEIGHT))
    if kind == "logo":
        return 0.0  # the picture's proportions decide
    return float(item.get("size", DEFAULT_SIZE)) * LEADING / 72 * 25.4


def layout_problems(layout: Any, paper: str) -> list[Problem]:
    """Everything wrong with ``layout`` on ``paper``; empty when it can be printed."""
    if paper not in PAPER_WIDTH_MM:
        return [
            Problem(None, "paper_unknown", _("Unknown paper size: %(paper)s.") % {"paper": paper})
        ]
    if not isinstance(layout, list):
        return [Problem(None, "layout_not_list", _("A layout is a list of placed fields."))]
    if len(layout) > MAX_FIELDS:
        msg = _("A layout has at most %(count)d fields.") % {"count": MAX_FIELDS}
        return [Problem(None, "layout_too_long", msg)]
    page_w, page_h = PAPER_WIDTH_MM[paper], paper_height(paper)
    problems: list[Problem] = []
    for i, item in enumerate(layout):

        def refuse(code: str, message: str, i: int = i) -> None:
            problems.append(
                Problem(i, code, _("Field %(n)d: %(problem)s") % {"n": i + 1, "problem": message})
            )

        if not isinstance(item, dict):
            refuse("field_not_object", _("each field is an object with a name and a place."))
            continue
        name = item.get("field")
        if name not in FIELDS:
            refuse("field_unknown", _("there is no field called “%(name)s”.") % {"name": name})
            continue
        extra = sorted(set(item) - KEYS)
        if extra:
            refuse("key_unknown", _("unknown settings: %(keys)s.") % {"keys": ", ".join(extra)})
            continue
        kind = FIELDS[name]
        values: dict[str, float] = {}
        bad = False
        for key in ("x", "y", "width"):
            number = _number(item.get(key))
            if number is None:
                refuse(
                    "number_missing", _("%(key)s must be a number of millimetres.") % {"key": key}
                )
                bad = True
            else:
                values[key] = number
        for key in ("size", "height"):
            if key in item:
                number = _number(item[key])
                if number is None:
                    refuse("number_missing", _("%(key)s must be a number.") % {"key": key})
                    bad = True
                else:
                    values[key] = number
        if bad:
            continue
        x, y, width = values["x"], values["y"], values["width"]
        if x < 0 or y < 0:
            refuse("outside_page", _("it starts outside the page (x and y are 0 or more)."))
        if width <= 0 or width < kind.min_width:
            refuse(
                "width_invalid",
                _("its width must be at least %(min)s mm.") % {"min": f"{kind.min_width:g}"},
            )
        elif x + width > page_w + 0.01:
            refuse(
                "outside_page",
                _("it reaches beyond the right edge (%(right)s mm > %(page)s mm).")
                % {"right": f"{x + width:g}", "page": f"{page_w:g}"},
            )
        size = values.get("size", DEFAULT_SIZE)
        if not MIN_SIZE <= size <= MAX_SIZE:
            refuse(
                "size_invalid",
                _("the type size must be between %(min)s and %(max)s pt.")
                % {"min": f"{MIN_SIZE:g}", "max": f"{MAX_SIZE:g}"},
            )
        height = values.get("height", DEFAULT_BARCODE_HEIGHT)
        if not MIN_HEIGHT <= height <= MAX_HEIGHT:
            refuse(
                "height_invalid",
                _("the height must be between %(min)s and %(max)s mm.")
                % {"min": f"{MIN_HEIGHT:g}", "max": f"{MAX_HEIGHT:g}"},
            )
        for key in ("bold", "label"):
            if key in item and not isinstance(item[key], bool):
                refuse("flag_invalid", _("%(key)s is true or false.") % {"key": key})
        if "align" in item and item["align"] not in ALIGNS:
            refuse("align_invalid", _("align is left, center or right."))
        if name == "text":
            text = item.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                refuse(
                    "text_invalid",
                    _("a custom text needs 1 to %(max)d characters.") % {"max": MAX_TEXT},
                )
        elif "text" in item:
            refuse("key_unknown", _("only a custom text field has a text."))
        fine_so_far = not problems or problems[-1].index != i
        if fine_so_far and y + _field_height(item) > page_h + 0.01:
            refuse(
                "outside_page",
                _("it reaches below the bottom of the page (%(page)s mm).")
                % {"page": f"{page_h:g}"},
            )
    if not problems and not any(
        isinstance(item, dict) and item.get("field") in ("qr", "barcode") for item in layout
    ):
        problems.append(
            Problem(
                None, "no_code_field", _("A ticket needs a QR code or a barcode to be scanned.")
            )
        )
    return problems


def layout_clean(layout: Any, paper: str) -> list[dict[str, Any]]:
    """``layout`` checked and with its defaults filled in; raises ``LayoutInvalid``."""
    problems = layout_problems(layout, paper)
    if problems:
        raise LayoutInvalid(
            problems[0].message, details={"errors": [p.as_dict() for p in problems]}
        )
    out = []
    for item in layout:
        clean: dict[str, Any] = {
            "field": item["field"],
            "x": round(float(item["x"]), 1),
            "y": round(float(item["y"]), 1),
            "width": round(float(item["width"]), 1),
            "size": round(float(item.get("size", DEFAULT_SIZE)), 1),
            "bold": bool(item.get("bold", False)),
        }
        if item.get("label"):
            clean["label"] = True
        if item.get("align", "left") != "left":
            clean["align"] = item["align"]
        if FIELDS[item["field"]].kind == "barcode":
            clean["height"] = round(float(item.get("height", DEFAULT_BARCODE_HEIGHT)), 1)
        if item["field"] == "text":
            clean["text"] = item["text"].strip()
        out.append(clean)
    return out


# --- Logos ---------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_LOGO_BYTES = 200_000


class LogoInvalid(ValidationFailed):
    code = "logo_invalid"
    default_message = gettext_lazy("The logo must be a PNG picture of at most 200 KB.")


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG picture, read from its header; raises ``LogoInvalid``."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise LogoInvalid()
    width, height = struct.unpack(">II", data[16:24])
    if not width or not height:
        raise LogoInvalid()
    return width, height


def logo_check(data: bytes) -> bytes:
    """``data`` if it is a PNG picture of at most ``MAX_LOGO_BYTES``; raises ``LogoInvalid``."""
    if len(data) > MAX_LOGO_BYTES:
        raise LogoInvalid()
    png_size(data)
    return data


def logo_bytes(encoded: str) -> bytes:
    """The PNG in a template's ``logo`` (base64); raises ``LogoInvalid``."""
    try:
        data = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LogoInvalid() from exc
    return logo_check(data)


def tiny_png(width: int, height: int, pixel: Any) -> bytes:
    """A small RGBA PNG drawn pixel by pixel: ``pixel(x, y)`` gives (r, g, b, a)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# --- What a ticket says --------------------------------------------------------------------


@dataclass(frozen=True)
class TicketData:
    """The values of a ticket's fields, as strings in the reader's language."""

    site: str
    product: str
    visit_date: str
    slot: str
    persons: str
    price: str
    code: str  # what the QR code holds
    serial: str  # the ticket number, also the barcode
    stock_serial: str
    order: str
    holder: str
    terms: str
    printed_at: str
    cashier: str
    barcode: str = ""  # what the barcode holds: the ticket number unless a preview says otherwise

    def value(self, name: str) -> str:
        return str(getattr(self, name, ""))


def _local(at: dt.datetime, time_zone: str) -> str:
    return at.astimezone(zoneinfo.ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


def _visit(start: dt.date | None, end: dt.date | None) -> str:
    row = pdf.validity(start, end)
    return row[1] if row else ""


def _persons(count: int) -> str:
    return ngettext("%(count)d person", "%(count)d persons", count) % {"count": count}


def ticket_data(
    ticket: Any,
    *,
    english: bool,
    printed_at: dt.datetime,
    stock_serial: str = "",
    cashier: str = "",
    terms: str = "",
) -> TicketData:
    """The fields of one ticket (its product, site and order loaded) in the active language.
    ``terms`` are the template's; without them, the product's."""
    site = ticket.site
    return TicketData(
        site=pdf.names(site, english)[0],
        product=pdf.names(ticket.product, english)[0],
        visit_date=_visit(ticket.valid_from, ticket.valid_until),
        slot=pdf.slot_text(ticket),
        persons=_persons(ticket.persons),
        price=pdf.price_text(ticket.price),
        code=ticket.code,
        serial=ticket.serial,
        stock_serial=stock_serial,
        order=ticket.order.code,
        holder=mask_name(ticket.holder_name) if ticket.holder_name else "",
        terms=(terms or ticket.product.terms or "").strip(),
        printed_at=_local(printed_at, site.time_zone),
        cashier=cashier,
    )


def sample_data(
    *, site: Any, product: Any | None, english: bool, now: dt.datetime, terms: str = ""
) -> TicketData:
    """A made-up ticket of ``site`` (and ``product``) for the designer and its preview."""
    day = now.astimezone(zoneinfo.ZoneInfo(site.time_zone)).date()
    return TicketData(
        site=pdf.names(site, english)[0],
        product=pdf.names(product, english)[0] if product is not None else _("Admission ticket"),
        visit_date=_visit(day, day),
        slot="09:30–10:30",
        persons=_persons(2),
        price="¥120.00",
        code=PREVIEW_CODE,
        serial="SAMPLE0000001",
        barcode=PREVIEW_BARCODE,
        stock_serial="A0000123",
        order="SAMPLE0001",
        holder=mask_name("张小三"),
        terms=(terms or (product.terms if product is not None else "") or "").strip()
        or _("Valid on the visit date only; no refund after entry."),
        printed_at=_local(now, site.time_zone),
        cashier=_("Cashier · Window 1"),
    )


# --- Drawing -------------------------------------------------------------------------------


def _text_value(item: Mapping[str, Any], data: TicketData) -> str:
    name = item["field"]
    value = item.get("text", "") if name == "text" else data.value(name)
    if value and item.get("label") and name != "text":
        value = f"{FIELDS[name].label}: {value}"
    return value


def _barcode(x: float, y: float, width: float, height: float, value: str) -> tuple[Op, float]:
    unit = Code128(value, barWidth=1, barHeight=height, quiet=False, humanReadable=False)
    bar_width = width / unit.width
    symbol = Code128(value, barWidth=bar_width, barHeight=height, quiet=False, humanReadable=False)

    def op(c: Canvas, h: float) -> None:
        c.saveState()
        c.setFillColorRGB(0, 0, 0)
        symbol.drawOn(c, x, h - y - height)
        c.restoreState()

    return op, y + height


def _logo(x: float, y: float, width: float, logo: bytes) -> tuple[Op, float]:
    w, h_px = png_size(logo)
    height = width * h_px / w
    image = ImageReader(io.BytesIO(logo))

    def op(c: Canvas, h: float) -> None:
        c.drawImage(image, x, h - y - height, width, height, mask="auto")

    return op, y + height


def _field_ops(
    layout: Sequence[Mapping[str, Any]], data: TicketData, logo: bytes
) -> tuple[list[Op], float]:
    """How to draw the fields of ``layout`` with ``data``, and how far down (points) they reach."""
    ops: list[Op] = []
    reach = 0.0
    for item in layout:
        x, y, width = item["x"] * mm, item["y"] * mm, item["width"] * mm
        kind = FIELDS[item["field"]].kind
        if kind == "qr":
            if not data.code:
                continue
            col = Column(x, width, y, ops)
            col.qr(data.code, width)
            bottom = col.y
        elif kind == "barcode":
            value = data.barcode or data.serial
            if not value:
                continue
            height = item.get("height", DEFAULT_BARCODE_HEIGHT) * mm
            op, bottom = _barcode(x, y, width, height, value)
            ops.append(op)
        elif kind == "logo":
            if not logo:
                continue
            op, bottom = _logo(x, y, width, logo)
            ops.append(op)
        else:
            value = _text_value(item, data)
            if not value:
                continue
            col = Column(x, width, y, ops)
            col.text(
                value,
                item.get("size", DEFAULT_SIZE),
                bold=item.get("bold", False),
                align=item.get("align", "left"),
                leading=LEADING,
            )
            bottom = col.y
        reach = max(reach, bottom)
    return ops, reach


def _lowered(op: Op, by: float) -> Op:
    """``op`` drawn ``by`` points further down the page."""

    def lowered(c: Canvas, h: float) -> None:
        op(c, h - by)

    return lowered


def layout_ops(
    layout: Sequence[Mapping[str, Any]],
    data: TicketData,
    *,
    paper: str,
    logo: bytes = b"",
    mark: str = "",
) -> tuple[list[Op], float]:
    """How to draw one ticket with ``layout``, and the page's height in points."""
    ops, reach = _field_ops(layout, data, logo)
    fixed_h = PAPER_HEIGHT_MM[paper]
    if mark:  # a framed band at the top; the fields move down below it where there is room
        page_w = PAPER_WIDTH_MM[paper] * mm
        mark_op, band = pdf.mark_box(4 * mm, 3 * mm, page_w - 8 * mm, mark, 12)
        if fixed_h is None or reach + band + 2 * mm <= fixed_h * mm - 5 * mm:
            ops = [_lowered(op, band + 2 * mm) for op in ops]
            reach += band + 2 * mm
        ops.append(mark_op)  # the mark last: on top of anything under it
    if fixed_h is not None:
        return ops, fixed_h * mm
    return ops, math.ceil(reach + ROLL_TAIL_MM * mm)


@dataclass(frozen=True)
class PrintPage:
    """One ticket to draw: a template's layout with the ticket's data, or (without a layout)
    the built-in face of tickets/pdf.py."""

    data: TicketData | None = None
    layout: Sequence[Mapping[str, Any]] = ()
    logo: bytes = b""
    face: TicketFace | None = None
    mark: str = ""


def render(pages: Sequence[PrintPage], *, paper: str, compress: bool = True) -> bytes:
    """The PDF of ``pages``, one ticket per page; reproducible (no dates or random ids)."""
    return pdf.draw_pdf(
        (_page_ops(page, paper) for page in pages),
        width=PAPER_WIDTH_MM[paper] * mm,
        compress=compress,
    )


def _page_ops(page: PrintPage, paper: str) -> tuple[list[Op], float]:
    if page.layout and page.data is not None:
        return layout_ops(page.layout, page.data, paper=paper, logo=page.logo, mark=page.mark)
    if page.face is not None:
        face = replace(page.face, mark=page.mark) if page.mark else page.face
        return pdf.layout_page(face, paper)
    raise ValueError("a page needs a layout and data, or a face")


def reprint_mark(at: dt.datetime, time_zone: str) -> str:
    return f"{REPRINT} {_local(at, time_zone)}"


# --- Layouts to start from -----------------------------------------------------------------


def _at(
    field: str, x: float, y: float, width: float, size: float = 10, bold: bool = False, **more: Any
) -> dict[str, Any]:
    """One placed field of a starter layout."""
    return {"field": field, "x": x, "y": y, "width": width, "size": size, "bold": bold, **more}


def starter_layout(paper: str) -> list[dict[str, Any]]:
    """A sensible layout for a new template on ``paper``."""
    if paper == "a4":
        return [
            _at("logo", 15, 15, 22),
            _at("site", 42, 17, 150, 20, True),
            _at("product", 42, 28, 150, 15, True),
            _at("visit_date", 15, 48, 110, 12, True, label=True),
            _at("slot", 15, 57, 110, 12, label=True),
            _at("persons", 15, 66, 110, 12),
            _at("price", 15, 75, 110, 12, label=True),
            _at("holder", 15, 84, 110, 12, label=True),
            _at("order", 15, 93, 110, label=True),
            _at("stock_serial", 15, 101, 110, label=True),
            _at("qr", 135, 45, 60),
            _at("serial", 135, 107, 60, 12, True, align="center"),
            _at("barcode", 15, 115, 90, height=14),
            _at("terms", 15, 140, 180, 9),
            _at("printed_at", 15, 270, 90, 8, label=True),
            _at("cashier", 105, 270, 90, 8, align="right"),
        ]
    return [
        _at("logo", 32, 4, 16),
        _at("site", 4, 22, 72, 13, True, align="center"),
        _at("product", 4, 29, 72, 12, True, align="center"),
        _at("qr", 14, 37, 52),
        _at("serial", 4, 90, 72, 11, True, align="center"),
        _at("visit_date", 4, 97, 72, 10, True, label=True),
        _at("slot", 4, 102.5, 72, label=True),
        _at("persons", 4, 108, 36),
        _at("price", 40, 108, 36, 10, True, align="right"),
        _at("holder", 4, 113.5, 72, label=True),
        _at("order", 4, 119, 72, 8, label=True),
        _at("stock_serial", 4, 123.5, 72, 8, label=True),
        _at("printed_at", 4, 129, 72, 7, label=True),
        _at("cashier", 4, 133, 72, 7),
        # Last on a roll: however long a product's terms are, the roll is cut below them.
        _at("terms", 4, 138, 72, 7.5),
    ]


def designer_fields() -> list[dict[str, Any]]:
    """The fields the designer offers, with their labels in the active language."""
    return [
        {"field": name, "label": str(kind.label), "kind": kind.kind, "min_width": kind.min_width}
        for name, kind in FIELDS.items()
    ]
