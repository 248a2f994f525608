"""Checkpoint codes scanned by guards' phones: judged (signature, window, replay), kept with
their verdict, and — when accepted — handed on as a `CodeScan` for the patrol rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from hub.domain import CodeScan
from hub.errors import TooManyAttempts
from hub.services.patrol.codes import CheckpointCodes
from hub.storage import Database
from hub.storage.models import PatrolScan

MAX_REFUSED = 10  # refused scans per guard in `REFUSED_SPAN`: more is guessing, and waits
REFUSED_SPAN = timedelta(minutes=10)
SOURCES = ("qr", "nfc", "typed")


@dataclass(frozen=True, slots=True)
class Verdict:
    """A scan judged: the event to hand on (accepted) or the reason it was refused."""

    checkpoint: str
    scan: CodeScan | None = None
    refused: str = ""  # malformed, unknown_checkpoint, wrong, expired, replayed
    row: int | None = None


class Scans:
    """Judges and keeps the scans."""

    def __init__(self, db: Database, codes: CheckpointCodes) -> None:
        self._db = db
        self.codes = codes

    def judge(
        self,
        person: str,
        payload: str,
        source: str,
        now: datetime,
        fix: tuple[float, float, float | None] | None = None,
    ) -> Verdict:
        """Judge `person`'s scan of `payload` at `now` and keep it with its verdict."""
        with self._db.session() as s:
            refused = s.scalar(
                select(func.count()).where(
                    PatrolScan.person == person,
                    PatrolScan.verdict != "accepted",
                    PatrolScan.at >= now - REFUSED_SPAN,
                )
            )
        if int(refused or 0) >= MAX_REFUSED:
            raise TooManyAttempts(
                "too many refused scans: wait before scanning again",
                retry_after=int(REFUSED_SPAN.total_seconds()),
            )
        checked = self.codes.check(payload, now)
        if checked.tag:
            source = "nfc"  # whatever the phone said: the tag signed it
        if checked.refused:
            self._keep(person, checked.checkpoint, source, None, checked.refused, now)
            return Verdict(checked.checkpoint, refused=checked.refused)
        if checked.tag and not self._newer_tap(checked.checkpoint, checked.step):
            return self._replayed(person, checked.checkpoint, source, now)
        try:
            row = self._keep(person, checked.checkpoint, source, checked.step, "accepted", now)
        except IntegrityError:  # scanned before (this code by this guard, this tap by anyone)
            return self._replayed(person, checked.checkpoint, source, now)
        assert checked.step is not None
        lat, lon, accuracy = fix if fix is not None else (None, None, None)
        scan = CodeScan(person, checked.checkpoint, now, source, checked.step, lat, lon, accuracy)
        return Verdict(checked.checkpoint, scan=scan, row=row)

    def _replayed(self, person: str, cp: str, source: str, now: datetime) -> Verdict:
        self._keep(person, cp, source, None, "replayed", now)
        return Verdict(cp, refused="replayed")

    def _newer_tap(self, checkpoint: str, counter: int | None) -> bool:
        """Whether an NFC tap's counter is past every tap of this checkpoint's tag accepted
        (a copied URL, or a tap kept back and sent after later ones, is not)."""
        with self._db.session() as s:
            last = s.scalar(
                select(func.max(PatrolScan.step)).where(
                    PatrolScan.checkpoint == checkpoint,
                    PatrolScan.source == "nfc",
                    PatrolScan.verdict == "accepted",
                )
            )
        return counter is not None and (last is None or counter > last)

    def withdraw(self, row: int) -> None:
        """Forget an accepted scan the hub could not take in (the phone sends it again)."""
        with self._db.session() as s:
            s.execute(delete(PatrolScan).where(PatrolScan.id == row))

    def _keep(
        self, person: str, cp: str, source: str, step: int | None, verdict: str, now: datetime
    ) -> int:
        with self._db.session() as s:
            row = PatrolScan(
                person=person, checkpoint=cp[:64], at=now, source=source, step=step, verdict=verdict
            )
            s.add(row)
            s.flush()
            return row.id

    def refused_between(self, since: datetime, until: datetime) -> dict[str, dict[str, int]]:
        """Refused scans per guard and reason in [since, until)."""
        with self._db.session() as s:
            rows = s.execute(
                select(PatrolScan.person, PatrolScan.verdict, func.count())
                .where(
                    PatrolScan.verdict != "accepted",
                    PatrolScan.at >= since,
                    PatrolScan.at < until,
                )
                .group_by(PatrolScan.person, PatrolScan.verdict)
            ).all()
        out: dict[str, dict[str, int]] = {}
        for person, verdict, n in rows:
            out.setdefault(person, {})[verdict] = int(n)
        return out

    def prune(self, before: datetime) -> int:
        """Delete the scans older than `before` (they name guards: kept like other records of
        people's movements)."""
        with self._db.session() as s:
            result = s.execute(delete(PatrolScan).where(PatrolScan.at < before))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
