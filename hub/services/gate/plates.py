"""Chinese licence plates (pure): normalising what a camera or a person typed, telling a valid
plate, and matching a camera read against registered plates despite confusable characters.

The forms (GA 36-2018 and the special series), each told apart by its first character:

    浙A12345    province, issuing authority's letter, five serial characters (ordinary)
    浙AD12345   the same with six (new-energy plates, 8 characters)
    浙A1234警   four serial characters and a suffix: 警 police, 学 driving school, 挂 trailer,
               领 consulate, 港/澳 Hong Kong and Macau cars, 试 test, 超 oversize
    浙A1234应急 four serial characters and 应急 (emergency vehicles, 8 characters)
    使014001    embassy: 使 and six digits
    WJ浙12345   armed police: WJ, a province, five serial characters
    KA12345     military: the unit's two letters (V, K, H, B, S, L, J, N, G, C, E, Z first)
               and five digits

Serials never use I or O (they read as 1 and 0).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PROVINCES = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
SUFFIXES = frozenset("警学挂领港澳试超")
EMERGENCY = "应急"
EMBASSY = "使"
ARMED_POLICE = "WJ"
MILITARY = frozenset("VKHBSLJNGCEZ")  # first letters of the military's unit codes
LETTERS = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ")  # no I, O
DIGITS = frozenset("0123456789")
SERIAL = LETTERS | DIGITS
# Serials never hold I or O: a camera's I or O is a 1 or a 0.
NEVER_IN_SERIAL = {"I": "1", "O": "0"}
# Characters cameras confuse; each maps to the class it belongs to.
CONFUSABLE_CLASSES = ("0ODQ", "1IL7T", "2Z", "5S", "6G", "8B", "4A", "UV")
_CLASS = {c: group[0] for group in CONFUSABLE_CLASSES for c in group}


class PlateError(ValueError):
    """Not a plate: why in English, and as a key of the message catalogue ("error.<key>")
    with its values."""

    def __init__(self, message: str, key: str = "plate.invalid", **params: Any) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


def normalise(text: str) -> str:
    """Upper case, half-width, without spaces, dots and dashes: "浙a·12345" -> "浙A12345"."""
    s = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in s if ch not in " \t·.-_•・")


def _serial(chars: str, fixes: list[str]) -> str:
    """The serial with I and O corrected (noted in `fixes`); PlateError naming a character
    no serial holds."""
    out = []
    for ch in chars:
        if ch in NEVER_IN_SERIAL:
            fixes.append(f"{ch} read as {NEVER_IN_SERIAL[ch]} (serials have no {ch})")
            ch = NEVER_IN_SERIAL[ch]
        if ch not in SERIAL:
            raise PlateError(f"{ch!r} cannot be in a plate's serial", "plate.char", char=ch)
        out.append(ch)
    return "".join(out)


def parse(text: str) -> tuple[str, list[str]]:
    """The plate and the corrections made (I or O in the serial read as 1 or 0);
    PlateError with the reason when it cannot be a Chinese plate. Never anything else."""
    s = normalise(text)
    fixes: list[str] = []
    if s.startswith(EMBASSY):
        if len(s) != 7 or not set(s[1:]) <= DIGITS:
            raise PlateError(f"{s!r}: an embassy plate is 使 and six digits", "plate.embassy")
        return s, fixes
    if s.startswith(ARMED_POLICE) and len(s) > 2 and s[2] in PROVINCES:
        if len(s) != 8:
            raise PlateError(
                f"{s!r}: an armed police plate is WJ, a province and 5 characters", "plate.wj"
            )
        return s[:3] + _serial(s[3:], fixes), fixes
    if len(s) == 7 and s[0] in MILITARY and s[1] in LETTERS and set(s[2:]) <= DIGITS:
        return s, fixes
    if not 7 <= len(s) <= 8:
        raise PlateError(
            f"{s!r} has {len(s)} characters; a plate has 7 (8 new-energy)",
            "plate.length",
            plate=s,
            n=len(s),
        )
    if s[0] not in PROVINCES:
        raise PlateError(f"{s[0]!r} is not a province's character", "plate.province", char=s[0])
    if s[1] not in LETTERS and s[1] not in NEVER_IN_SERIAL:
        raise PlateError(
            f"{s[1]!r} is not an issuing authority's letter", "plate.authority", char=s[1]
        )
    body, suffix = s[2:], ""
    if s.endswith(EMERGENCY):
        if len(s) != 8:
            raise PlateError(
                f"{s!r}: an emergency plate is 4 characters and 应急", "plate.emergency"
            )
        body, suffix = s[2:6], EMERGENCY
    elif body[-1] in SUFFIXES:
        if len(s) != 7:
            raise PlateError(
                f"{s!r}: a plate ending in {body[-1]} has 7 characters",
                "plate.suffix",
                char=body[-1],
            )
        body, suffix = body[:-1], body[-1]
    return s[:2] + _serial(body, fixes) + suffix, fixes


def shape(plate: str) -> str:
    """The plate with each confusable character replaced by its class: plates with the same
    shape are what a camera may mistake for each other."""
    return plate[:1] + "".join(_CLASS.get(ch, ch) for ch in plate[1:])


@dataclass(frozen=True, slots=True)
class Match:
    """What a read matched: the plate itself, or candidates a guard should look at."""

    read: str  # as the camera gave it
    plate: str | None  # the valid plate it reads as (None: not a plate)
    exact: str | None  # a registered plate equal to it (after I/O correction)
    near: tuple[str, ...]  # registered plates of the same shape (confusable reads)
    fixes: tuple[str, ...]
    problem: str = ""


class Registry:
    """Registered plates indexed for matching: by plate, and by shape for confusable reads."""

    def __init__(self, plates: Iterable[str]) -> None:
        self.plates = frozenset(plates)
        self._shapes: dict[str, list[str]] = {}
        for p in sorted(self.plates):
            self._shapes.setdefault(shape(p), []).append(p)

    def match(self, read: str) -> Match:
        """Match a camera read (normalised, I and O corrected, then exact or by shape)."""
        try:
            plate, fixes = parse(read)
        except PlateError as err:
            # Not a valid plate as read; a confusable shape may still point to one.
            near = tuple(self._shapes.get(shape(normalise(read)), ()))
            return Match(read, None, None, near, (), str(err))
        if plate in self.plates:
            return Match(read, plate, plate, (), tuple(fixes))
        return Match(read, plate, None, tuple(self._shapes.get(shape(plate), ())), tuple(fixes))


def match(read: str, registered: Iterable[str]) -> Match:
    """Match a camera read against registered plates (normalised)."""
    return Registry(registered).match(read)
