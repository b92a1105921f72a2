"""The handover report as a PDF (A4), for signing and filing."""

from __future__ import annotations

from typing import Any


def handover_pdf(report: dict[str, Any]) -> bytes:
    raise NotImplementedError
