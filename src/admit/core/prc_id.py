"""PRC resident identity card numbers (居民身份证号码, GB 11643-1999), pure: no Django.

18 characters: 6-digit region code, 8-digit birth date, 3-digit sequence (odd for men), and a
check character over the first 17 by ISO 7064 MOD 11-2 (``X`` stands for 10).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


@dataclass(frozen=True)
class ResidentId:
    number: str
    region: str
    birth_date: dt.date
    male: bool


class InvalidResidentId(ValueError):
    def __init__(self, reason: str) -> None:
        self.reason = reason  # length, characters, birth_date, region, checksum
        super().__init__(reason)


def normalize(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def parse_resident_id(value: str, *, today: dt.date | None = None) -> ResidentId:
    """Validate an 18-character resident ID number; raise ``InvalidResidentId`` with a reason."""
    number = normalize(value)
    if len(number) != 18:
        raise InvalidResidentId("length")
    if not (number[:17].isascii() and number[:17].isdigit()) or number[17] not in "0123456789X":
        raise InvalidResidentId("characters")
    region = number[:6]
    if region[:2] not in PROVINCE_PREFIXES:
        raise InvalidResidentId("region")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidResidentId("birth_date") from exc
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise InvalidResidentId("birth_date")
    if check_char(number[:17]) != number[17]:
        raise InvalidResidentId("checksum")
    return ResidentId(number=number, region=region, birth_date=birth, male=int(number[16]) % 2 == 1)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# First two digits of the region code: provinces, autonomous regions and municipalities
# (GB/T 2260), plus 71 Taiwan, 81 Hong Kong, 82 Macao, 83 (Taiwan residence permits).
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
