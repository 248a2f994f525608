"""Every refusal a service raises with a catalogue key reads in both languages the pages
speak, with the same values in each (a missing entry would show a raw key to a person)."""

from __future__ import annotations

import re
from pathlib import Path

from hub.errors import Conflict
from hub.i18n import MESSAGES, render
from hub.i18n_errors import ERRORS

HUB = Path(__file__).parents[2] / "hub"
KEYS = re.compile(r'(?<![\w])key="([\w.]+)"|PlateError\([^)]*?"(plate\.\w+)"', re.S)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def raised_keys() -> set[str]:
    keys = set()
    for path in HUB.rglob("*.py"):
        for m in KEYS.finditer(path.read_text(encoding="utf-8")):
            keys.add(m.group(1) or m.group(2))
    return keys


def test_every_raised_key_is_in_the_catalogue_in_both_languages() -> None:
    keys = raised_keys()
    assert {"booking.taken", "car.past", "plate.province", "approval.not_yours"} <= keys
    for lang in ("zh-CN", "en"):
        missing = sorted(k for k in keys if k not in ERRORS[lang])
        assert not missing, f"{lang} lacks {missing}"


def test_both_languages_take_the_same_values() -> None:
    assert ERRORS["zh-CN"].keys() == ERRORS["en"].keys()
    for key, zh in ERRORS["zh-CN"].items():
        en = ERRORS["en"][key]
        assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en)), key


def test_a_clash_reads_with_the_rooms_name_and_local_times() -> None:
    err = Conflict(
        "r-101 is taken",
        key="booking.taken",
        room_id="r-101",
        start_when="2026-12-07T02:00:00+00:00",
        end_at="2026-12-07T03:00:00+00:00",
        title="周例会",
    )
    names = {"r-101": "第一会议室"}
    said = render(f"error.{err.key}", err.params, "zh-CN", "Asia/Shanghai", names)
    assert said == "第一会议室 在 2026-12-07 10:00–11:00 已被「周例会」占用"
    assert MESSAGES["en"]["error.booking.taken"].startswith("{room_id} is taken")
