"""Chinese licence plates (pure): normalising what a camera or a person typed, telling a valid
plate, and matching a camera read against registered plates despite confusable characters.

A plate (GA 36-2018) is a province character (京, 浙, …), a letter (the issuing authority),
then five characters (ordinary plates) or six (new-energy plates, 8 in all), letters and digits
where serials never use I or O (they read as 1 and 0). Some special plates end with a
character (警, 学, 挂, 领, 使, 港, 澳).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

PROVINCES = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
SUFFIXES = frozenset("警学挂领使港澳")
LETTERS = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ")  # no I, O
SERIAL = LETTERS | frozenset("0123456789")
# Serials never hold I or O: a camera's I or O is a 1 or a 0.
NEVER_IN_SERIAL = {"I": "1", "O": "0"}
# Characters cameras confuse; each maps to the class it belongs to.
CONFUSABLE_CLASSES = ("0ODQ", "1IL7T", "2Z", "5S", "6G", "8B", "4A", "UV")
_CLASS = {c: group[0] for group in CONFUSABLE_CLASSES for c in group}


class PlateError(ValueError):
    """Not a plate."""


def normalise(text: str) -> str:
    """Upper case, half-width, without spaces, dots and dashes: "浙a·12345" -> "浙A12345"."""
    s = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in s if ch not in " \t·.-_•・")


def parse(text: str) -> tuple[str, list[str]]:
    """The plate and the corrections made (I or O in the serial read as 1 or 0);
    PlateError with the reason when it cannot be a Chinese plate."""
    s = normalise(text)
    if not 7 <= len(s) <= 8:
        raise PlateError(f"{s!r} has {len(s)} characters; a plate has 7 (8 new-energy)")
    if s[0] not in PROVINCES:
        raise PlateError(f"{s[0]!r} is not a province's character")
    if s[1] not in LETTERS and s[1] not in NEVER_IN_SERIAL:
        raise PlateError(f"{s[1]!r} is not an issuing authority's letter")
    fixes = []
    serial = list(s[2:])
    for i, ch in enumerate(serial):
        if ch in NEVER_IN_SERIAL:
            fixes.append(f"{ch} read as {NEVER_IN_SERIAL[ch]} (serials have no {ch})")
            serial[i] = NEVER_IN_SERIAL[ch]
    last_ok = serial[-1] in SERIAL or (serial[-1] in SUFFIXES and len(s) == 7)
    if not all(ch in SERIAL for ch in serial[:-1]) or not last_ok:
        bad = next(ch for ch in serial if ch not in SERIAL and ch not in SUFFIXES)
        raise PlateError(f"{bad!r} cannot be in a plate's serial")
    return s[:2] + "".join(serial), fixes


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
