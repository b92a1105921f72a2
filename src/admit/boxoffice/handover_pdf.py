"""The handover report as an A4 PDF, for signing and filing (reportlab, same fonts as tickets).

Reads only the report (a dict from ``handover.compute``, labels already in the reader's
language) and the shift's names; makes no query. Texts come out in the active language.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from admit.tickets.pdf import MUTED, draw_text, text_width

from .models import Shift

LEFT = 18 * mm
RIGHT = A4[0] - 18 * mm
TOP = A4[1] - 18 * mm
BOTTOM = 20 * mm


class _Page:
    def __init__(self, c: Canvas) -> None:
        self.c = c
        self.y = TOP

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.c.showPage()
            self.y = TOP

    def text(self, text: str, size: float = 10, *, bold: bool = False, x: float = LEFT) -> None:
        self.need(size * 1.5)
        draw_text(self.c, x, self.y - size, text, size, bold=bold)
        self.y -= size * 1.5

    def heading(self, text: str) -> None:
        self.need(30)
        self.y -= 6
        draw_text(self.c, LEFT, self.y - 12, text, 12, bold=True)
        self.y -= 16
        self.c.setLineWidth(0.5)
        self.c.line(LEFT, self.y, RIGHT, self.y)
        self.y -= 4

    def row(self, cells: list[str], widths: list[float], *, bold: bool = False) -> None:
        """One table row; cells after the first are right-aligned (numbers)."""
        size = 9.5
        self.need(size * 1.7)
        x = LEFT
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
            if i == 0:
                draw_text(self.c, x, self.y - size, cell, size, bold=bold)
            else:
                draw_text(
                    self.c,
                    x + w - text_width(cell, size, bold),
                    self.y - size,
                    cell,
                    size,
                    bold=bold,
                )
            x += w
        self.y -= size * 1.7


def handover_pdf(shift: Shift, report: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, invariant=1)
    c.setAuthor("Admit")
    c.setTitle(f"Handover {shift.pk}")
    p = _Page(c)
    p.text(_("Handover report") + f" #{shift.pk}", 16, bold=True)
    closed = report.get("closed_at") or ""
    p.text(
        f"{shift.terminal.name} · {_('Cashier')} {report['cashier_name']} · "
        f"{_('opened')} {report['opened_at'][:16].replace('T', ' ')}"
        + (f" · {_('closed')} {closed[:16].replace('T', ' ')}" if closed else ""),
        9.5,
    )
    p.text(f"{_('Status')}: {shift.get_status_display()}", 9.5)

    money = 95 * mm
    p.heading(_("Cash drawer"))
    cash = report["cash"]
    rows = [
        (_("Cash float"), cash["float"]),
        ("+ " + _("Cash taken"), cash["in"]),
        ("− " + _("Cash paid back"), cash["out"]),
        ("= " + _("Expected in the drawer"), cash["expected"]),
    ]
    if cash["counted"] is not None:
        rows += [
            (_("Counted"), cash["counted"]),
            (_("Difference (counted − expected)"), cash["difference"]),
        ]
    for label, value in rows:
        p.row([label, f"¥{value}"], [money, 40 * mm], bold=label.startswith("="))

    p.heading(_("By payment method"))
    widths = [50 * mm, 20 * mm, 28 * mm, 20 * mm, 28 * mm, 28 * mm]
    p.row(
        [_("Method"), _("Payments"), _("Taken"), _("Refunds"), _("Paid back"), _("Net")],
        widths,
        bold=True,
    )
    for m in report["methods"]:
        p.row(
            [
                m["label"],
                str(m["payments"]),
                f"¥{m['taken']}",
                str(m["refunds"]),
                f"¥{m['paid_back']}",
                f"¥{m['net']}",
            ],
            widths,
        )
    p.row(
        [
            _("Total"),
            "",
            f"¥{report['taken']}",
            str(report["refunds"]),
            f"¥{report['paid_back']}",
            f"¥{report['net']}",
        ],
        widths,
        bold=True,
    )

    p.heading(_("Tickets by product"))
    widths = [70 * mm, 22 * mm, 22 * mm, 30 * mm, 30 * mm]
    p.row(
        [_("Product"), _("Tickets"), _("Persons"), _("Amount"), _("Since refunded or voided")],
        widths,
        bold=True,
    )
    for prod in report["products"]:
        p.row(
            [
                prod["label"],
                str(prod["tickets"]),
                str(prod["persons"]),
                f"¥{prod['amount']}",
                str(prod["returned"]),
            ],
            widths,
        )
    p.row(
        [
            _("Total"),
            str(report["tickets"]),
            str(report["persons"]),
            f"¥{report['sales_total']}",
            "",
        ],
        widths,
        bold=True,
    )

    p.heading(_("Corrections and exceptions"))
    for label, value in (
        (_("Refunds"), f"{report['refunds']} · ¥{report['paid_back']}"),
        (_("fees kept"), f"¥{report['refund_fees']}"),
        (_("Discounts"), f"{report['discounts']['orders']} · ¥{report['discounts']['amount']}"),
        (_("Approved by a supervisor"), str(report["approvals"])),
        (_("Voids"), f"{report['voids']['count']} · ¥{report['voids']['amount']}"),
        (_("Tickets printed"), str(report["prints"])),
        (_("Reprints"), str(report["reprints"])),
    ):
        p.row([label, value], [money, 40 * mm])

    p.need(60)
    p.y -= 30
    draw_text(c, LEFT, p.y, _("Cashier's signature") + ": ______________", 10)
    draw_text(c, LEFT + 90 * mm, p.y, _("Supervisor's signature") + ": ______________", 10)
    p.y -= 16
    if shift.confirmed_at:
        when = timezone.localtime(shift.confirmed_at).strftime("%Y-%m-%d %H:%M")
        draw_text(
            c, LEFT, p.y, f"{_('Confirmed by')} {shift.confirmed_by} · {when}", 9, color=MUTED
        )
    c.showPage()
    c.save()
    return out.getvalue()
