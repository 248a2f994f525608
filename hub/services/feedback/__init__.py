"""Suggestions and complaints as the hub runs them (docs/feedback.md): the service, the watch
over their targets (a leader-only job, every minute) and the one forgetting their writers and
photos once the retention period after closing has passed."""

from __future__ import annotations

from datetime import timedelta

from hub.services.assembly import Part, Shared
from hub.services.feedback.base import KINDS, new_code, normal_code
from hub.services.feedback.service import Draft, Feedback, Writer
from hub.tasks import Periodic

__all__ = ["KINDS", "Draft", "Feedback", "Writer", "assemble", "new_code", "normal_code"]

KEEP = timedelta(days=365)  # who wrote an item, its code and photos: a year after closing


def assemble(shared: Shared) -> Part[Feedback]:
    """The service; its targets watched every minute."""
    feedback = Feedback(
        shared.db, shared.site, shared.secret, shared.settings.files_dir / "feedback"
    )
    feedback.announce = shared.announce

    def forget() -> int:
        return feedback.forget(feedback.clock() - KEEP)

    return Part(
        feedback,
        singletons=[
            Periodic("feedback", 60, feedback.sweep),
            Periodic("feedback_retention", 3600, forget),
        ],
    )
