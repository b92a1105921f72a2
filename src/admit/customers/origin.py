"""Where visitors come from (客源地): province and city from a PRC resident ID number's region
code, or from a mobile number's prefix when there is no ID. Pure apart from reading the shipped
region table (GB/T 2260, province and prefecture level, ``data/regions.csv``).

Codes are the table's: a province is its 2-digit prefix padded to 6 (``530000``), a city its
4-digit prefix padded to 6 (``530100``). Municipalities (北京, 天津, 上海, 重庆) are their own city.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers
from django.utils.translation import get_language
from phonenumbers import geocoder

from admit.core import prc_id

TABLE = Path(__file__).parent / "data" / "regions.csv"
MUNICIPALITIES = {"11", "12", "31", "50"}
# Prefecture rows that are no city (市辖区, 县, 省直辖县级行政区划, …).
NOT_A_CITY = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


# The provincial-level divisions' names in English, for pages shown in English (the table's
# prefecture names stay Chinese there, after their province's English name).
PROVINCES_EN = {
    "110000": "Beijing",
    "120000": "Tianjin",
    "130000": "Hebei",
    "140000": "Shanxi",
    "150000": "Inner Mongolia",
    "210000": "Liaoning",
    "220000": "Jilin",
    "230000": "Heilongjiang",
    "310000": "Shanghai",
    "320000": "Jiangsu",
    "330000": "Zhejiang",
    "340000": "Anhui",
    "350000": "Fujian",
    "360000": "Jiangxi",
    "370000": "Shandong",
    "410000": "Henan",
    "420000": "Hubei",
    "430000": "Hunan",
    "440000": "Guangdong",
    "450000": "Guangxi",
    "460000": "Hainan",
    "500000": "Chongqing",
    "510000": "Sichuan",
    "520000": "Guizhou",
    "530000": "Yunnan",
    "540000": "Tibet",
    "610000": "Shaanxi",
    "620000": "Gansu",
    "630000": "Qinghai",
    "640000": "Ningxia",
    "650000": "Xinjiang",
    "710000": "Taiwan",
    "810000": "Hong Kong",
    "820000": "Macao",
}


def region_label(code: str) -> str:
    """A region's name as the current language shows it: a province (or municipality) in
    English on English pages, the table's Chinese name otherwise; "" for an unknown code."""
    if (get_language() or "").startswith("en") and code in PROVINCES_EN:
        return PROVINCES_EN[code]
    return regions().get(code, "")


@dataclass(frozen=True)
class Origin:
    province: str = ""  # 6-digit code, "" when unknown
    city: str = ""
    source: str = ""  # "id", "phone" or ""

    @property
    def province_name(self) -> str:
        return regions().get(self.province, "")

    @property
    def city_name(self) -> str:
        return regions().get(self.city, "")


@cache
def regions() -> dict[str, str]:
    """Code → name of every province and prefecture-level city in the table."""
    with TABLE.open(encoding="utf-8") as f:
        rows = csv.reader(line for line in f if not line.startswith("#"))
        next(rows)
        return {code: name for code, name in rows if name not in NOT_A_CITY}


@cache
def _by_name() -> dict[str, str]:
    return {name: code for code, name in regions().items()}


def _region(code6: str) -> Origin | None:
    table = regions()
    province = code6[:2] + "0000"
    if province not in table:
        return None
    city = province if code6[:2] in MUNICIPALITIES else code6[:4] + "00"
    return Origin(province, city if city in table else "", "id")


def from_id_number(value: str) -> Origin | None:
    """The region of an 18-digit resident ID (checksum and birth date checked)."""
    try:
        parsed = prc_id.parse_resident_id(prc_id.normalize(value))
    except ValueError:
        return None
    return _region(parsed.region)


def from_phone(value: str) -> Origin | None:
    """The region a mainland mobile number was issued in (by its prefix), or a landline's area."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    text = geocoder.description_for_number(number, "zh")
    if not text:
        return None
    names = _by_name()
    province = next(
        (code for name, code in names.items() if code.endswith("0000") and text.startswith(name)),
        "",
    )
    if not province:
        return None
    rest = text[len(regions()[province]) :]
    city = province if province[:2] in MUNICIPALITIES else names.get(rest, "")
    if city and city[:2] != province[:2]:
        city = ""
    return Origin(province, city, "phone")


def origin_of(*, id_numbers: list[str] | tuple[str, ...] = (), phone: str = "") -> Origin:
    """The first resident ID's region, else the phone's, else unknown."""
    for value in id_numbers:
        found = from_id_number(value)
        if found is not None:
            return found
    return (from_phone(phone) if phone else None) or Origin()


def normalize_phone(value: str) -> str | None:
    """A phone number as stored: a mainland number in national digits, others in E.164; None
    when it is not a valid number."""
    try:
        number = phonenumbers.parse(value.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if number.country_code == 86:
        digits = str(number.national_number)
        return digits if len(digits) == 11 and digits[0] == "1" else "0" + digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
