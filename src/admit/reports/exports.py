"""A report as CSV (UTF-8 with a byte-order mark, so that Excel shows Chinese) or XLSX."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .catalog import Result

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = '0.0"%"'


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    return str(value) if not isinstance(value, int) else value


def as_csv(result: Result, title: str) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([str(c.label) for c in result.columns])
    for row in result.rows:
        w.writerow([_plain(v) for v in row])
    if result.totals is not None:
        w.writerow([_plain(v) for v in result.totals])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(result: Result, title: str, subtitle: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31] or "report"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([subtitle])
    ws.append([])
    ws.append([str(c.label) for c in result.columns])
    for cell in ws[4]:
        cell.font = Font(bold=True)
    rows = list(result.rows)
    if result.totals is not None:
        rows.append(result.totals)
    for row in rows:
        ws.append(
            [
                str(v)
                if hasattr(v, "__html__")
                or (v is not None and not isinstance(v, (int, Decimal, float, str)))
                else v
                for v in row
            ]
        )
        line = ws.max_row
        for i, column in enumerate(result.columns, start=1):
            cell = ws.cell(row=line, column=i)
            if column.kind == "money":
                cell.number_format = MONEY_FORMAT
            elif column.kind == "percent":
                cell.number_format = PERCENT_FORMAT
    if result.totals is not None:
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    for i, column in enumerate(result.columns, start=1):
        width = max(len(str(column.label)) * 2, 10)
        ws.column_dimensions[ws.cell(row=4, column=i).column_letter].width = min(width, 40)
    for note in result.notes:
        ws.append([])
        ws.append([note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
