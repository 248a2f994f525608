"""Questionnaires as the hub runs them (docs/surveys.md): the service, the job opening
scheduled ones when their time comes, and the one forgetting who took part a year after a
questionnaire closed."""

from __future__ import annotations

from datetime import timedelta

from hub.services.assembly import Part, Shared
from hub.services.surveys.export import as_csv, as_xlsx, table
from hub.services.surveys.service import ATTACHERS, AUTHORS, Surveys
from hub.tasks import Periodic

__all__ = ["ATTACHERS", "AUTHORS", "Surveys", "as_csv", "as_xlsx", "assemble", "table"]

KEEP = timedelta(days=365)


def assemble(shared: Shared) -> Part[Surveys]:
    """The questionnaires; scheduled ones opened within a minute of their time."""
    surveys = Surveys(shared.db, shared.site, shared.secret)
    surveys.announce = shared.announce

    def forget() -> int:
        return surveys.forget(surveys.clock() - KEEP)

    return Part(
        surveys,
        singletons=[
            Periodic("surveys", 30, surveys.release_due),
            Periodic("surveys_retention", 3600, forget),
        ],
    )
