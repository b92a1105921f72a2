"""Day types of a site's calendar (pure: no Django)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class DayType(StrEnum):
    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    PEAK = "peak"


# When a product has no price for a day type, these are tried next, in order, and then the
# price that applies to any day. A holiday without a holiday price costs the weekend price.
FALLBACK: dict[DayType, tuple[DayType, ...]] = {
    DayType.WEEKDAY: (DayType.WEEKDAY,),
    DayType.WEEKEND: (DayType.WEEKEND,),
    DayType.HOLIDAY: (DayType.HOLIDAY, DayType.WEEKEND),
    DayType.PEAK: (DayType.PEAK, DayType.HOLIDAY, DayType.WEEKEND),
}

DEFAULT_WEEKEND = (5, 6)  # Saturday, Sunday (date.weekday())


def day_type_for(
    day: dt.date, *, weekend_days: tuple[int, ...] = DEFAULT_WEEKEND, override: str | None = None
) -> DayType:
    """The day's type: the calendar's override if any, else weekend or weekday."""
    if override:
        return DayType(override)
    return DayType.WEEKEND if day.weekday() in weekend_days else DayType.WEEKDAY
