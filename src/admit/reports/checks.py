"""``admit check-reports``: the aggregates against the raw rows behind them."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max, Min

from .models import AGGREGATES
from .rebuild import differences


def data_span() -> tuple[dt.date, dt.date] | None:
    """The first and last business day any aggregate holds, or None when they are empty."""
    lows, highs = [], []
    for model in AGGREGATES:
        span = model._default_manager.aggregate(lo=Min("day"), hi=Max("day"))
        if span["lo"] is not None:
            lows.append(span["lo"])
            highs.append(span["hi"])
    return (min(lows), max(highs)) if lows else None


def report_problems(start: dt.date | None = None, end: dt.date | None = None) -> list[str]:
    """Every disagreement between the aggregates and the rows, over ``start``..``end`` (by
    default a wide span around the data, so that rows missing from the aggregates show too)."""
    if start is None or end is None:
        span = data_span()
        today = dt.date.today()
        lo = min(span[0], today) if span else today
        hi = max(span[1], today) if span else today
        start = start or lo - dt.timedelta(days=400)
        end = end or hi + dt.timedelta(days=400)
    return differences(start, end)
