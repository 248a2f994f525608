"""Chinese plates: normalising, validity, I/O corrections, confusable near matches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.services.gate.plates import (
    PROVINCES,
    SUFFIXES,
    PlateError,
    match,
    normalise,
    parse,
    shape,
)
from tests.support.fuzz import fuzz


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


@pytest.mark.parametrize(
    "plate",
    [
        "浙A12345",  # ordinary
        "浙AD12345",  # new energy, D first
        "浙A12345F",  # new energy, F last
        "浙A1234警",  # police
        "浙A1234学",  # driving school
        "浙A1234挂",  # trailer
        "沪A1234领",  # consulate
        "粤Z1234港",  # Hong Kong car
        "粤Z1234澳",  # Macau car
        "浙A1234应急",  # emergency
        "使014001",  # embassy
        "WJ浙12345",  # armed police
        "KA12345",  # military
        "VA12345",
    ],
)
def test_every_plate_form_reads_as_itself(plate: str) -> None:
    assert parse(plate) == (plate, [])


@pytest.mark.parametrize(
    "text",
    ["浙B66666警", "浙A12345学", "使01400", "使01400A", "WJ浙1234", "KA1234", "浙A123应急", "应急"],
)
def test_special_plates_of_the_wrong_length_are_refused_not_crashed_on(text: str) -> None:
    with pytest.raises(PlateError):
        parse(text)


PLATE_ALPHABET = (
    "".join(sorted(PROVINCES | SUFFIXES)) + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789使应急WJ·- "
)


@fuzz(500)
@given(st.text(alphabet=PLATE_ALPHABET, max_size=12))
def test_any_plate_like_text_gives_a_plate_or_a_plate_error(text: str) -> None:
    try:
        plate, _ = parse(text)
    except PlateError:
        match(text, ["浙A12345"])  # matching a read never fails either
        return
    assert parse(plate)[0] == plate  # a plate reads as itself
    assert match(text, [plate]).exact == plate
