"""Printable tickets as PDF (reportlab): one ticket per page, on A4 or an 80 mm thermal roll.

Chinese text is set in reportlab's built-in CID font ``STSong-Light`` (the PDF viewer supplies
the glyphs, so no font file ships with Admit); Latin text in Helvetica. The QR code is drawn as
vector squares from segno's module matrix, with the parameters the QR images use (``qr.make``),
so a printed code scans at any size.

The layout is one routine driven by a ``PageFormat``: on a wide page the QR code stands beside
the details inside a ticket-sized card; on a narrow roll everything is stacked and the page is
as long as the ticket. A new paper size is a new ``PageFormat``.

The module reads only what the tickets hold (their product, site and order must be loaded) and
makes no query of its own.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from admit.core.money import money_str

from . import qr
from .models import Ticket

CJK = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"

INK = (0.1, 0.1, 0.1)
MUTED = (0.38, 0.38, 0.38)
BAND = (0.09, 0.33, 0.38)  # the card's header band on colour printers and screens
WHITE = (1.0, 1.0, 1.0)

# Chinese punctuation that must not begin a line (it may overhang the margin instead).
NO_LINE_START = set("，。、；：！？）》」』】”’,.;:!?)")

pdfmetrics.registerFont(UnicodeCIDFont(CJK))


@dataclass(frozen=True)
class PageFormat:
    """A paper size and how a ticket is laid out on it (all lengths in points)."""

    name: str
    width: float
    height: float | None  # None: a roll, cut as long as the ticket
    margin: float
    padding: float  # inside the card
    qr_size: float  # the QR symbol with its quiet zone
    side_by_side: bool  # QR beside the details (wide) or stacked under the title (narrow)
    card: bool  # a framed card with a coloured header band
    scale: float = 1.0  # type size

    def fs(self, size: float) -> float:
        return size * self.scale


PAGES: dict[str, PageFormat] = {
    "a4": PageFormat(
        name="a4",
        width=210 * mm,
        height=297 * mm,
        margin=15 * mm,
        padding=7 * mm,
        qr_size=64 * mm,
        side_by_side=True,
        card=True,
    ),
    "80mm": PageFormat(
        name="80mm",
        width=80 * mm,
        height=None,
        margin=4 * mm,
        padding=0,
        qr_size=56 * mm,
        side_by_side=False,
        card=False,
        scale=0.85,
    ),
}


# --- What a ticket shows --------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFace:
    """The strings printed on one ticket, already in the reader's language."""

    site: str
    site_other: str  # the site's name in the other language, or ""
    product: str
    product_other: str
    rows: list[tuple[str, str]]
    serial: str
    code: str
    hint: str
    terms_title: str
    terms: str
    footer: str
    mark: str = ""  # e.g. "重印 REPRINT 2026-12-01 10:22", framed at the top of the ticket


def mask_name(name: str) -> str:
    """The holder's name as printed: 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def names(row: Any, english: bool) -> tuple[str, str]:
    """(name in the reader's language, name in the other one or "")."""
    zh, en = row.name, row.name_en or ""
    if english and en:
        return en, zh
    return zh, en if en != zh else ""


def _day(day: dt.date) -> str:
    return f"{day.isoformat()} {WEEKDAYS[day.weekday()]}"


def _hm(t: dt.time) -> str:
    return t.strftime("%H:%M")


def validity(start: dt.date | None, end: dt.date | None) -> tuple[str, str] | None:
    """A ticket's visit date (or validity) as a (label, value) row, in the active language."""
    if start and end and start == end:
        return _("Visit date"), _day(start)
    if start and end:
        return _("Valid"), f"{start.isoformat()} – {end.isoformat()}"
    if start:
        return _("Valid"), _("from %(date)s") % {"date": start.isoformat()}
    return None


def slot_text(ticket: Any) -> str:
    """The ticket's time slot ("09:30–10:30"), or "" without one."""
    if ticket.slot_start and ticket.slot_end:
        return f"{_hm(ticket.slot_start)}–{_hm(ticket.slot_end)}"
    return ""


def price_text(price: Decimal) -> str:
    return f"¥{money_str(price)}"


def printable(tickets: Iterable[Ticket]) -> list[Ticket]:
    """Those of ``tickets`` that may be printed: valid ones with a code."""
    return [t for t in tickets if t.status == Ticket.Status.VALID and t.code]


def ticket_face(ticket: Any, *, english: bool) -> TicketFace:
    """The face of one ticket in the active language."""
    product, site = ticket.product, ticket.site
    rows: list[tuple[str, str]] = []
    valid = validity(ticket.valid_from, ticket.valid_until)
    if valid is not None:
        rows.append(valid)
    slot = slot_text(ticket)
    if slot:
        rows.append((_("Time slot"), slot))
    rows.append((_("Persons"), str(ticket.persons)))
    if ticket.entries_allowed is None:
        rows.append((_("Entries"), _("unlimited")))
    elif ticket.entries_allowed > 1:
        rows.append((_("Entries"), str(ticket.entries_allowed)))
    rows.append((_("Price"), price_text(ticket.price)))
    if ticket.holder_name:
        rows.append((_("Holder"), mask_name(ticket.holder_name)))
    rows.append((_("Ticket no."), ticket.serial))
    rows.append((_("Order no."), ticket.order.code))
    site_name, site_other = names(site, english)
    product_name, product_other = names(product, english)
    times = {"opens": _hm(site.opens_at), "closes": _hm(site.closes_at)}
    if site.last_entry_at:
        times["last"] = _hm(site.last_entry_at)
        hours = _("Open %(opens)s–%(closes)s, last entry %(last)s") % times
    else:
        hours = _("Open %(opens)s–%(closes)s") % times
    footer = " · ".join(part for part in (hours, site.address, site.phone) if part)
    return TicketFace(
        site=site_name,
        site_other=site_other,
        product=product_name,
        product_other=product_other,
        rows=rows,
        serial=ticket.serial,
        code=ticket.code,
        hint=_("Show this code at the gate"),
        terms_title=_("Terms") if product.terms.strip() else "",
        terms=product.terms.strip(),
        footer=footer,
    )


# --- Mixed-script text ----------------------------------------------------------------------


def _is_latin(ch: str) -> bool:
    try:
        ch.encode("cp1252")  # what Helvetica's WinAnsi encoding can show
    except UnicodeEncodeError:
        return False
    return True


def _runs(text: str, bold: bool) -> list[tuple[str, str]]:
    """``text`` split into (font, text) runs: Latin in Helvetica, the rest in STSong-Light."""
    runs: list[tuple[str, str]] = []
    latin_font = LATIN_BOLD if bold else LATIN
    for ch in text:
        font = latin_font if _is_latin(ch) else CJK
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


def text_width(text: str, size: float, bold: bool = False) -> float:
    return sum(pdfmetrics.stringWidth(s, f, size) for f, s in _runs(text, bold))


def _tokens(text: str) -> list[str]:
    """Words, spaces and single CJK characters: the places a line may break."""
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            if out and out[-1].isspace():
                continue
            out.append(" ")
        elif not _is_latin(ch) or not out or out[-1].isspace() or not _is_latin(out[-1][-1]):
            out.append(ch)
        else:
            out[-1] += ch
    return out


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (paragraphs kept)."""
    lines: list[str] = []
    for paragraph in text.replace("\r", "").split("\n"):
        line = ""
        for token in _tokens(paragraph.replace("\t", " ")):
            if not line and token == " ":
                continue
            candidate = line + token
            if not line or text_width(candidate, size, bold) <= width or token in NO_LINE_START:
                line = candidate
                continue
            lines.append(line.rstrip())
            line = "" if token == " " else token
            while text_width(line, size, bold) > width and len(line) > 1:  # a very long word
                cut = len(line) - 1
                while cut > 1 and text_width(line[:cut], size, bold) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


def draw_text(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    color: tuple[float, float, float] = INK,
) -> None:
    c.setFillColorRGB(*color)
    c.setStrokeColorRGB(*color)
    for font, s in _runs(text, bold):
        fake_bold = bold and font == CJK  # STSong-Light has no bold: fill and stroke glyphs
        if fake_bold:  # the render mode outlives the text object: keep it inside q … Q
            c.saveState()
            c.setLineWidth(size * 0.035)
        t = c.beginText(x, y)
        t.setFont(font, size)
        if fake_bold:
            t.setTextRenderMode(2)
        t.textOut(s)
        c.drawText(t)
        if fake_bold:
            c.restoreState()
        x += pdfmetrics.stringWidth(s, font, size)


# --- Layout ---------------------------------------------------------------------------------

Op = Callable[[Canvas, float], None]  # draws given the page height (y is measured from the top)


def _text_op(
    x: float, y: float, text: str, size: float, bold: bool, color: tuple[float, float, float]
) -> Op:
    def op(c: Canvas, h: float) -> None:
        draw_text(c, x, h - y, text, size, bold=bold, color=color)

    return op


@dataclass
class Column:
    """A column that stacks blocks downwards from ``y`` (points from the top of the page) and
    records how to draw them, so that a roll's length is known before anything is drawn."""

    x: float
    width: float
    y: float
    ops: list[Op] = field(default_factory=list)

    def space(self, h: float) -> None:
        self.y += h

    def text(
        self,
        text: str,
        size: float,
        *,
        bold: bool = False,
        color: tuple[float, float, float] = INK,
        align: str = "left",
        leading: float = 1.3,
        line_height: float | None = None,
        max_lines: int | None = None,
    ) -> None:
        """Wrapped lines, each ``line_height`` tall (``size * leading`` unless given): texts of
        different sizes with the same line height share their baselines."""
        step = line_height or size * leading
        lines = wrap(text, self.width, size, bold)
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[: max(max_lines, 1)]
            lines[-1] = lines[-1][: max(len(lines[-1]) - 1, 0)] + "…"
        for line in lines:
            self.y += step
            x = self.x
            if align == "center":
                x += (self.width - text_width(line, size, bold)) / 2
            elif align == "right":
                x += self.width - text_width(line, size, bold)
            self.ops.append(_text_op(x, self.y - step * 0.28, line, size, bold, color))

    def rows(self, rows: Sequence[tuple[str, str]], size: float, label_width: float) -> None:
        """Label and value pairs, values wrapped in their own column."""
        for label, value in rows:
            top = self.y
            labels = Column(self.x, label_width, top, self.ops)
            labels.text(label, size * 0.82, color=MUTED, line_height=size * 1.6)
            values = Column(self.x + label_width, self.width - label_width, top, self.ops)
            values.text(value, size, bold=True, line_height=size * 1.6)
            self.y = max(labels.y, values.y)

    def rule(self, *, dashed: bool = False, gap: float = 6.0) -> None:
        self.y += gap
        y, x0, x1 = self.y, self.x, self.x + self.width

        def op(c: Canvas, h: float) -> None:
            c.setStrokeColorRGB(*MUTED)
            c.setLineWidth(0.6)
            if dashed:
                c.setDash(3, 2)
            c.line(x0, h - y, x1, h - y)
            c.setDash()

        self.ops.append(op)
        self.y += gap

    def qr(self, code: str, size: float) -> None:
        """The QR symbol centred in the column, ``size`` wide with its 4-module quiet zone."""
        matrix = qr.make(code).matrix
        modules = len(matrix)
        unit = size / (modules + 8)
        left = self.x + (self.width - size) / 2 + 4 * unit
        top = self.y + 4 * unit

        def op(c: Canvas, h: float) -> None:
            c.setFillColorRGB(0, 0, 0)
            path = c.beginPath()
            for r, row in enumerate(matrix):
                col = 0
                while col < modules:  # one rectangle per run of dark modules in a row
                    if not row[col]:
                        col += 1
                        continue
                    end = col
                    while end < modules and row[end]:
                        end += 1
                    path.rect(left + col * unit, h - top - (r + 1) * unit, (end - col) * unit, unit)
                    col = end
            c.drawPath(path, stroke=0, fill=1)

        self.ops.append(op)
        self.y += size


def mark_box(x: float, y: float, width: float, text: str, size: float) -> tuple[Op, float]:
    """A framed, white-backed box with ``text`` in bold across ``width`` from ``y`` (points from
    the top): how reprints are marked. Returns the drawing and the box's height."""
    lines = wrap(text, width - 4 * mm, size, bold=True)
    height = len(lines) * size * 1.3 + 2.5 * mm

    def op(c: Canvas, h: float) -> None:
        c.saveState()
        c.setFillColorRGB(*WHITE)
        c.setStrokeColorRGB(*INK)
        c.setLineWidth(1.6)
        c.rect(x, h - y - height, width, height, stroke=1, fill=1)
        c.restoreState()
        for i, line in enumerate(lines):
            baseline = y + 1.25 * mm + (i + 1) * size * 1.3 - size * 0.3
            left = x + (width - text_width(line, size, True)) / 2
            draw_text(c, left, h - baseline, line, size, bold=True)

    return op, height


def layout_page(face: TicketFace, page: str) -> tuple[list[Op], float]:
    """The built-in layout of one ticket on ``page`` ("a4" or "80mm"): how to draw it, and the
    page's height (a sheet's, or a roll cut where the ticket ends)."""
    fmt = PAGES[page]
    ops, reach = _layout(face, fmt)
    return ops, fmt.height or math.ceil(reach)


def _layout(face: TicketFace, fmt: PageFormat) -> tuple[list[Op], float]:
    """How to draw one ticket, and how far down the page it reaches."""
    ops: list[Op] = []
    pad = fmt.padding
    left, width = fmt.margin, fmt.width - 2 * fmt.margin
    top = fmt.margin
    if face.mark:
        op, height = mark_box(left, top, width, face.mark, fmt.fs(12))
        ops.append(op)
        top += height + 2 * mm
    inner = Column(left + pad, width - 2 * pad, top, ops)
    label_width = (22 if fmt.side_by_side else 19) * mm

    if fmt.card:  # a coloured header band with the site's names in white
        band = Column(inner.x, inner.width, inner.y, [])
        band.space(pad * 0.6)
        band.text(face.site, fmt.fs(17), bold=True, color=WHITE)
        if face.site_other:
            band.text(face.site_other, fmt.fs(9), color=WHITE)
        band.space(pad * 0.6)
        band_top, band_bottom = top, band.y

        def band_op(c: Canvas, h: float) -> None:
            c.setFillColorRGB(*BAND)
            path = c.beginPath()
            r = 3 * mm
            path.roundRect(left, h - band_bottom, width, band_bottom - band_top, r)
            c.drawPath(path, stroke=0, fill=1)
            c.rect(left, h - band_bottom, width, r, stroke=0, fill=1)  # square lower corners

        ops.append(band_op)
        ops.extend(band.ops)
        inner.y = band_bottom + pad * 0.8
    else:
        inner.text(face.site, fmt.fs(15), bold=True, align="center")
        if face.site_other:
            inner.text(face.site_other, fmt.fs(8.5), color=MUTED, align="center")
        inner.rule()

    if fmt.side_by_side:
        gap = 6 * mm
        details = Column(inner.x, inner.width - fmt.qr_size - gap, inner.y, ops)
        code = Column(inner.x + details.width + gap, fmt.qr_size, inner.y - 2 * mm, ops)
        details.text(face.product, fmt.fs(16), bold=True)
        if face.product_other:
            details.text(face.product_other, fmt.fs(9.5), color=MUTED)
        details.space(4 * mm)
        details.rows(face.rows, fmt.fs(11), label_width)
        code.qr(face.code, fmt.qr_size)
        code.text(face.serial, fmt.fs(11), bold=True, align="center")
        code.text(face.hint, fmt.fs(8.5), color=MUTED, align="center")
        inner.y = max(details.y, code.y)
    else:
        inner.text(face.product, fmt.fs(15), bold=True, align="center")
        if face.product_other:
            inner.text(face.product_other, fmt.fs(9), color=MUTED, align="center")
        inner.space(1 * mm)
        inner.qr(face.code, fmt.qr_size)
        inner.text(face.serial, fmt.fs(12), bold=True, align="center")
        inner.text(face.hint, fmt.fs(9), color=MUTED, align="center")
        inner.rule()
        inner.rows(face.rows, fmt.fs(11), label_width)

    footer_size, terms_size = fmt.fs(7.5), fmt.fs(8.5)
    footer_lines = len(wrap(face.footer, inner.width, footer_size)) if face.footer else 0
    if face.terms:
        inner.rule(dashed=True)
        inner.text(face.terms_title, fmt.fs(9.5), bold=True)
        room = None
        if fmt.height is not None:  # a sheet: the terms stop where the page does
            bottom = fmt.height - fmt.margin - pad - footer_lines * footer_size * 1.4 - 14
            room = max(int((bottom - inner.y) / (terms_size * 1.4)), 1)
        inner.text(face.terms, terms_size, leading=1.4, max_lines=room)
    if face.footer:
        inner.rule()
        inner.text(face.footer, footer_size, color=MUTED, leading=1.4)
    bottom = inner.y + pad + (2 * mm if fmt.card else 0)

    if fmt.card:
        card_top = top

        def frame(c: Canvas, h: float) -> None:
            c.setStrokeColorRGB(*MUTED)
            c.setLineWidth(0.8)
            c.setDash(4, 3)  # a cutting guide
            c.roundRect(left, h - bottom, width, bottom - card_top, 3 * mm, stroke=1, fill=0)
            c.setDash()

        ops.append(frame)
    return ops, bottom + fmt.margin


def draw_pdf(pages: Iterable[tuple[list[Op], float]], *, width: float, compress: bool) -> bytes:
    """A PDF of pages ``width`` wide, each drawn by its ops at its height (points).
    Output is reproducible (no dates or random ids)."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=(width, width), invariant=1, pageCompression=1 if compress else 0)
    c.setAuthor("Admit")
    c.setCreator("Admit")
    for ops, height in pages:
        c.setPageSize((width, height))
        for op in ops:
            op(c, height)
        c.showPage()
    c.save()
    return out.getvalue()


def render(faces: Iterable[TicketFace], *, page: str = "a4", compress: bool = True) -> bytes:
    """The PDF of ``faces``, one per page, in the built-in layout."""
    drawn = (layout_page(face, page) for face in faces)
    return draw_pdf(drawn, width=PAGES[page].width, compress=compress)


def tickets_pdf(
    tickets: Iterable[Any], *, language: str, page: str = "a4", compress: bool = True
) -> bytes:
    """A PDF with each ticket on its own page, its texts in ``language``.

    ``page`` is a key of ``PAGES`` ("a4" or "80mm"); ``compress=False`` leaves the page
    streams readable (tests look for the serial numbers in them).
    """
    if page not in PAGES:
        raise KeyError(page)
    with translation.override(language):
        english = (translation.get_language() or "").startswith("en")
        faces = [ticket_face(t, english=english) for t in tickets]
    return render(faces, page=page, compress=compress)
