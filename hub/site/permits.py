"""Cards and permits in the site file (docs/permits.md): each kind with its approval chain —
`unit` (the applicant's unit's approvers) and back-office roles, in order; none for a kind
issued on request —, how long one is valid, the documents an application must carry, and what
it asks for (a car's plate for parking, doors for access). A site that names none gets the
five of `DEFAULTS`.

permit_kinds:
  - {id: parking, name: 停车证, chain: [unit, security], valid_days: 365,
     documents: [driving_licence], plate: true}
"""

from __future__ import annotations

from typing import Annotated, cast

from pydantic import AfterValidator, Field

from hub.site.base import Item, Name
from hub.site.model import SECTIONS, Site
from hub.site.rules import ROLE_NAMES

DOCUMENTS = {
    "photo": "证件照",
    "id_card": "身份证",
    "driving_licence": "行驶证",
    "contract": "施工合同",
}


def _step(value: str) -> str:
    if value != "unit" and value not in ROLE_NAMES:
        raise ValueError(f"a step is 'unit' or a role ({', '.join(sorted(ROLE_NAMES))})")
    return value


def _document(value: str) -> str:
    if value not in DOCUMENTS:
        raise ValueError(f"a document is one of {', '.join(DOCUMENTS)}")
    return value


class PermitKind(Item):
    """A kind of card or permit."""

    name: Name
    name_en: Name | None = None
    chain: list[Annotated[str, AfterValidator(_step)]] = Field(default_factory=list, max_length=4)
    valid_days: Annotated[int, Field(ge=1, le=3650)] = 365
    documents: list[Annotated[str, AfterValidator(_document)]] = []
    plate: bool = False  # a parking permit: its plate opens the gate while it is valid
    doors: bool = False  # door access: the buildings and rooms it opens
    remind_days: Annotated[int, Field(ge=0, le=365)] = 30  # its holder told before it expires
    issuer: Annotated[str, AfterValidator(_step)] = "security"  # the window handing it over


DEFAULTS = (
    PermitKind(
        id="staff_card",
        name="工作证",
        name_en="Staff card",
        chain=["unit"],
        valid_days=1825,
        documents=["photo"],
    ),
    PermitKind(
        id="canteen_card", name="饭卡", name_en="Canteen card", valid_days=1825, issuer="canteen"
    ),
    PermitKind(
        id="parking",
        name="停车证",
        name_en="Parking permit",
        chain=["unit", "security"],
        documents=["driving_licence"],
        plate=True,
    ),
    PermitKind(
        id="door", name="门禁权限", name_en="Door access", chain=["unit", "security"], doors=True
    ),
    PermitKind(
        id="contractor",
        name="施工临时证",
        name_en="Contractor's pass",
        chain=["security"],
        valid_days=30,
        documents=["id_card", "contract"],
    ),
)


def permit_kinds(site: Site) -> dict[str, PermitKind]:
    """The site's kinds by id (the defaults when the site file names none)."""
    named = [cast(PermitKind, k) for k in site.section("permit_kinds")]
    return {k.id: k for k in named or DEFAULTS}


SECTIONS["permit_kinds"] = PermitKind
Site.counted = (*Site.counted, "permit_kinds")
