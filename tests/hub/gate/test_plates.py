"""Chinese plates: normalising, validity, I/O corrections, confusable near matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.services.gate.plates import PlateError, match, normalise, parse, shape


@pytest.mark.parametrize(
    ("text", "plate"),
    [
        ("浙A12345", "浙A12345"),
        ("浙a·12345", "浙A12345"),
        (" 浙 A-123 45 ", "浙A12345"),
        ("浙ＡＤ１２３４５", "浙AD12345"),  # full-width, new energy (8)
        ("粤B1234学", "粤B1234学"),
    ],
)
def test_plates_are_normalised(text: str, plate: str) -> None:
    assert parse(text)[0] == plate


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AB12345", "province"),
        ("浙112345", "letter"),
        ("浙A1234", "7"),
        ("浙A123456789", "characters"),
        ("浙A12!45", "serial"),
    ],
)
def test_what_cannot_be_a_plate_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(PlateError, match=why):
        parse(text)


def test_an_o_or_i_in_the_serial_is_a_zero_or_a_one() -> None:
    plate, fixes = parse("浙A1O3I5")
    assert plate == "浙A10315"
    assert fixes == ["O read as 0 (serials have no O)", "I read as 1 (serials have no I)"]
    m = match("浙A1O3I5", ["浙A10315"])
    assert m.exact == "浙A10315"


def test_confusable_reads_are_near_matches_not_exact() -> None:
    m = match("浙A8888B", ["浙A88888", "浙A12345", "沪A88888"])
    assert m.exact is None
    assert m.near == ("浙A88888",)  # 8 and B look alike; another province does not
    assert match("浙A12345", ["浙A12345"]).near == ()


@given(st.text(max_size=20))
def test_any_text_gives_a_plate_or_a_plate_error(text: str) -> None:
    try:
        plate, _ = parse(text)
    except PlateError:
        return
    assert plate == normalise(plate)
    assert shape(plate)[0] == plate[0]
