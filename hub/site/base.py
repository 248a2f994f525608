"""What every section of the site file is made of: ids, names, items and their references."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from pydantic import AfterValidator, Field

from hub.site.geo import Strict

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(
            "must be 1-64 characters of letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit"
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def ranged(lo: int, hi: int) -> AfterValidator:
    """A validator: an integer within lo..hi."""

    def check(value: int) -> int:
        if not lo <= value <= hi:
            raise ValueError(f"must be {lo}..{hi}")
        return value

    return AfterValidator(check)


Register = Annotated[int, ranged(0, 65535)]

# A reference from an item to another section: (field path inside the item, section, id).
Ref = tuple[str, str, str]


class Item(Strict):
    """An item of a section: it has an id and may refer to other sections."""

    id: Id

    def refs(self) -> Iterator[Ref]:
        """The ids this item refers to."""
        return iter(())
