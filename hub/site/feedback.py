"""Suggestions and complaints in the site file: the categories a writer chooses from, who
answers each (people by username, and everyone holding a role), the leaders told when a
target is missed, and the targets themselves in business minutes of the site's calendar
(docs/feedback.md). A site that names none gets the seven of `DEFAULTS`.

feedback_categories:
  - {id: canteen, name: 食堂餐饮, name_en: Canteen, unit: u-logistics, role: canteen,
     handlers: [cook], leaders: [manager], answer_min: 240, close_min: 2400}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, cast

from pydantic import AfterValidator, Field

from hub.site.base import Id, Item, Name, Ref
from hub.site.model import SECTIONS, Site
from hub.site.rules import ROLE_NAMES

Minutes = Annotated[int, Field(ge=1, le=60 * 24 * 60)]


def _role(value: str | None) -> str | None:
    if value is not None and value not in ROLE_NAMES:
        raise ValueError(f"no role {value!r} (roles: {', '.join(sorted(ROLE_NAMES))})")
    return value


Username = Annotated[str, Field(min_length=1, max_length=64)]


class FeedbackCategory(Item):
    """A kind of suggestion or complaint and who answers it, by when."""

    name: Name
    name_en: Name | None = None
    unit: Id | None = None  # the work unit answering (shown to the writer)
    handlers: list[Username] = []  # people (usernames) who answer
    role: Annotated[str | None, AfterValidator(_role)] = "dispatcher"  # and all holding it
    leaders: list[Username] = []  # told when a target is missed (none: the managers)
    answer_min: Minutes = 480  # to the first answer: one working day
    close_min: Minutes = 2400  # to closing: five working days

    def refs(self) -> Iterator[Ref]:
        if self.unit:
            yield "unit", "work_units", self.unit


DEFAULTS = (
    FeedbackCategory(id="canteen", name="食堂餐饮", name_en="Canteen", role="canteen"),
    FeedbackCategory(id="cleaning", name="环境卫生", name_en="Cleaning"),
    FeedbackCategory(id="repairs", name="维修服务", name_en="Repairs"),
    FeedbackCategory(id="security", name="安全保卫", name_en="Security", role="security"),
    FeedbackCategory(id="meetings", name="会议服务", name_en="Meetings"),
    FeedbackCategory(id="vehicles", name="公务用车", name_en="Vehicles"),
    FeedbackCategory(id="other", name="其他", name_en="Other"),
)


def feedback_categories(site: Site) -> dict[str, FeedbackCategory]:
    """The site's categories by id (the defaults when the site file names none)."""
    named = [cast(FeedbackCategory, c) for c in site.section("feedback_categories")]
    return {c.id: c for c in named or DEFAULTS}


SECTIONS["feedback_categories"] = FeedbackCategory
Site.counted = (*Site.counted, "feedback_categories")
