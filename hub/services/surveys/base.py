"""What both sides of questionnaires share: the questionnaire as the API shows it, its
checked questions, who is in its audience."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain import Notice
from hub.identity.roles import Role
from hub.services.surveys.questions import Question
from hub.site import Site
from hub.storage import Database
from hub.storage.models import Survey

Announce = Callable[[Notice], None]
AUTHORS = frozenset({Role.ADMIN, Role.MANAGER})
# who may attach a questionnaire to a service's own page, besides the authors
ATTACHERS = {"canteen": Role.CANTEEN, "repairs": Role.DISPATCHER}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SurveysBase:
    """The state both sides use."""

    def __init__(
        self, db: Database, site: Site, secret: bytes, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._db = db
        self._key = hmac.new(secret, b"questionnaire tokens", hashlib.sha256).digest()
        self.site = site
        self.units = {u.id: u for u in site.work_units}
        self.tz = ZoneInfo(site.site.timezone)
        self.clock = clock
        self.announce: Announce = lambda _n: None

    @staticmethod
    def questions(v: Survey) -> list[Question]:
        """Its questions as checked when it was made."""
        return [Question.model_validate(q) for q in v.questions]

    def _dict(self, v: Survey, **extra: Any) -> dict[str, Any]:
        now = self.clock()
        running = v.status == "open" and v.opens_at <= now < v.closes_at
        return {
            "id": v.id,
            "title": v.title,
            "author": v.author,
            "audience": v.audience,
            "anonymous": v.anonymous,
            "attach": v.attach,
            "opens_at": v.opens_at.isoformat(),
            "closes_at": v.closes_at.isoformat(),
            "status": v.status if v.status != "open" else "open" if running else "closed",
            "answered": v.answered,
            "count": len(v.questions),
            **extra,
        }
