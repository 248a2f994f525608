"""Who to tell: the people a notification names ("role:security", "user:li") as e-mail
addresses or usernames (part of the identity service)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from hub.storage.db import Database
from hub.storage.models import User


class Directory:
    """The active users behind a notification's targets (IdentityService builds on it)."""

    _db: Database

    def emails_for(self, targets: Iterable[str]) -> list[str]:
        """The e-mail addresses of the active users named by `targets` ("role:security",
        "user:li"); users without an address are skipped."""
        roles = {t.removeprefix("role:") for t in targets if t.startswith("role:")}
        names = {t.removeprefix("user:") for t in targets if t.startswith("user:")}
        with self._db.session() as s:
            q = select(User).where(User.active.is_(True), User.email.is_not(None))
            return sorted(
                {
                    u.email
                    for u in s.scalars(q)
                    if u.email and (u.username in names or u.role_names & roles)
                }
            )

    def usernames_for(self, targets: Iterable[str]) -> list[str]:
        """The usernames of the active users named by `targets` ("role:security", "user:li",
        or a bare username)."""
        roles = {t.removeprefix("role:") for t in targets if t.startswith("role:")}
        names = {t.removeprefix("user:") for t in targets if not t.startswith("role:")}
        with self._db.session() as s:
            q = select(User).where(User.active.is_(True))
            return sorted(
                u.username for u in s.scalars(q) if u.username in names or u.role_names & roles
            )
