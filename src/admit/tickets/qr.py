"""QR images of ticket codes (segno): SVG for screens and print, PNG for messages."""

from __future__ import annotations

import io

import segno

ERROR = "m"  # error correction M: a smudged or creased code still scans


def make(code: str) -> segno.QRCode:
    return segno.make_qr(code, error=ERROR, boost_error=False)


def svg(code: str, scale: int = 4) -> bytes:
    out = io.BytesIO()
    make(code).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue()


def png(code: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    make(code).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
