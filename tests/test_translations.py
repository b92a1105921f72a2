"""Every string of the UI has its Chinese translation, and the compiled catalog is current."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import admit

LOCALE = Path(admit.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def entries(text: str) -> list[tuple[str, str, bool]]:
    out = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgid, msgstr, current = [], [], None
        for line in lines:
            if line.startswith("msgid "):
                current = msgid
                line = line[6:]
            elif line.startswith("msgstr"):
                current = msgstr
                line = re.sub(r"^msgstr(\[\d+\])? ", "", line)
            elif line.startswith("msgid_plural") or line.startswith("#"):
                current = None if line.startswith("#") else current
                continue
            if current is not None and line.startswith('"'):
                current.append(ast.literal_eval(line))
        if msgid:
            out.append(("".join(msgid), "".join(msgstr), fuzzy))
    return out


def test_every_message_is_translated_to_chinese():
    found = [e for e in entries((LOCALE / "django.po").read_text("utf-8")) if e[0]]
    assert len(found) > 300
    untranslated = [mid for mid, mstr, fuzzy in found if not mstr or fuzzy]
    assert untranslated == []


def test_the_compiled_catalog_is_not_older_than_its_source():
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    # Compare content, not times (a fresh clone gives both the same time): the .mo must know
    # the last message of the .po.
    last = [e for e in entries(po.read_text("utf-8")) if e[0]][-1]
    assert last[1].encode("utf-8") in mo.read_bytes()
