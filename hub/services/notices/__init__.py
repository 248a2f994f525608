"""Notices as the hub runs them (docs/notices.md): the service, the job publishing scheduled
notices when their time comes, and the one forgetting who read what a year after a notice
expired."""

from __future__ import annotations

from datetime import timedelta

from hub.services.assembly import Part, Shared
from hub.services.audience import Audience
from hub.services.notices.files import Files
from hub.services.notices.reading import plain
from hub.services.notices.service import PUBLISHERS, Notices, sanitise
from hub.tasks import Periodic

__all__ = ["PUBLISHERS", "Audience", "Notices", "assemble", "plain", "sanitise"]

KEEP = timedelta(days=365)


def assemble(shared: Shared) -> Part[Notices]:
    """The notices; scheduled ones published within a minute of their time."""
    notices = Notices(shared.db, shared.site, files=Files(shared.settings.files_dir / "notices"))
    notices.announce = shared.announce

    def forget() -> int:
        return notices.forget_receipts(notices.clock() - KEEP)

    return Part(
        notices,
        singletons=[
            Periodic("notices", 30, notices.release_due),
            Periodic("notices_retention", 3600, forget),
        ],
    )
