"""The stores a hub runs on, and the job that keeps them to their retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hub.services.journal import EventJournal
from hub.settings import Settings
from hub.site import Site
from hub.storage import Database, outbox
from hub.tasks import Periodic
from hub.telemetry import SQLiteTelemetryStore, TelemetryStore
from hub.telemetry.influx import InfluxConfig, InfluxTelemetryStore
from hub.telemetry.schema import series_meta

OUTBOX_KEPT = timedelta(days=7)  # applied outbox messages, kept for inspection


def make_telemetry(settings: Settings, site: Site) -> TelemetryStore:
    """The configured telemetry backend, knowing the site's series tags."""
    tags = series_meta(
        site.site.id,
        [(d.id, d.building, d.floor, [d.point_id(p) for p in d.points]) for d in site.devices],
    )
    if settings.telemetry_backend == "sqlite":
        return SQLiteTelemetryStore(settings.telemetry_path, tags)
    cfg = settings.influx
    return InfluxTelemetryStore(
        InfluxConfig(
            url=cfg.url,
            api=cfg.api,
            database=cfg.database,
            retention_policy=cfg.retention_policy,
            username=cfg.username,
            password=cfg.password.get_secret_value() if cfg.password else None,
            token=cfg.token.get_secret_value() if cfg.token else None,
            org=cfg.org,
            bucket=cfg.bucket,
            timeout=cfg.timeout_s,
        ),
        tags,
        settings.spool_path,
        spool_max_bytes=cfg.spool_max_mb * 1024 * 1024,
        when_full=cfg.spool_when_full,
        alarm_at=cfg.spool_alarm_at,
    )


class RetentionJob(Periodic):
    """Deletes telemetry (and journaled statuses and sightings) older than the retention
    period, and outbox messages applied a week ago: at start, then hourly."""

    def __init__(
        self,
        store: TelemetryStore,
        days: int,
        every: timedelta = timedelta(hours=1),
        journal: EventJournal | None = None,
        db: Database | None = None,
    ):
        super().__init__("retention", every.total_seconds(), self._prune, at_start=True)
        self.store, self.days, self.journal, self.db = store, days, journal, db
        self.last_deleted = 0

    async def _prune(self) -> int:
        now = datetime.now(UTC)
        cutoff = now - timedelta(days=self.days)
        deleted = await self.store.prune(cutoff)
        if self.journal is not None:
            deleted += await asyncio.to_thread(self.journal.prune, cutoff)
        if self.db is not None:
            deleted += await asyncio.to_thread(outbox.prune, self.db, now - OUTBOX_KEPT)
        self.last_deleted = deleted
        return deleted

    def health(self) -> dict[str, object]:
        """The job's health, the retention and what the last pass deleted."""
        return {**super().health(), "retention_days": self.days, "last_deleted": self.last_deleted}


def retention(
    settings: Settings, telemetry: TelemetryStore, journal: EventJournal, db: Database
) -> RetentionJob:
    """The retention job as the settings configure it."""
    return RetentionJob(telemetry, settings.telemetry_retention_days, journal=journal, db=db)
