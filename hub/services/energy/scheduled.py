"""Scheduled energy reports: when a day, a week or a month has ended (and late data had time
to arrive) its report is built, stored as PDF and JSON in the data folder, and the managers
are e-mailed a link to it."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from hub.domain import Notice
from hub.services.energy import render
from hub.services.energy.periods import last_complete
from hub.services.energy.report import EnergyReport
from hub.services.energy.service import EnergyService

log = logging.getLogger(__name__)
NAME = re.compile(r"^energy-(day|week|month|year)-[0-9W-]{4,10}\.(pdf|json)$")


class StoredReports:
    """The report files in a folder, `energy-<kind>-<label>.pdf` and `.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def list(self) -> list[dict[str, Any]]:
        """Every stored report, newest first."""
        if not self.folder.exists():
            return []
        out = []
        for pdf in sorted(self.folder.glob("energy-*.pdf"), key=lambda p: p.stat().st_mtime):
            kind, label = pdf.stem.split("-", 2)[1:]
            out.append(
                {
                    "name": pdf.name,
                    "kind": kind,
                    "label": label,
                    "json": pdf.with_suffix(".json").name,
                    "bytes": pdf.stat().st_size,
                    "created_at": datetime.fromtimestamp(pdf.stat().st_mtime, UTC).isoformat(),
                }
            )
        return out[::-1]

    def path(self, name: str) -> Path | None:
        """A stored file by name (None for names that aren't report files)."""
        if not NAME.match(name):
            return None
        p = self.folder / name
        return p if p.exists() else None

    def has(self, kind: str, label: str) -> bool:
        """Whether this period's report is stored."""
        return (self.folder / f"energy-{kind}-{label}.pdf").exists()

    def save(self, report: EnergyReport, pdf: bytes) -> Path:
        """Store a report (written to a temporary name first: never half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"energy-{report.period.kind}-{report.period.label}"
        for suffix, data in ((".json", orjson.dumps(report.as_json())), (".pdf", pdf)):
            tmp = self.folder / f".{stem}{suffix}.tmp"
            tmp.write_bytes(data)
            tmp.replace(self.folder / f"{stem}{suffix}")
        return self.folder / f"{stem}.pdf"


class ScheduledReports:
    """The job behind the `energy_reports` component: builds what is due, returns how many."""

    def __init__(
        self,
        energy: EnergyService,
        stored: StoredReports,
        *,
        kinds: Sequence[str],
        settle: timedelta,
        notify: Sequence[str],
        announce: Callable[[Notice], None],
        link: Callable[[str], str],
        lang: str = "zh-CN",
    ) -> None:
        self.energy, self.stored = energy, stored
        self.kinds, self.settle, self.notify = list(kinds), settle, tuple(notify)
        self.announce, self.link, self.lang = announce, link, lang

    async def __call__(self) -> int:
        now = self.energy.clock()
        made = 0
        for kind in self.kinds:
            period = last_complete(kind, now - self.settle, self.energy.tz)
            if self.stored.has(kind, period.label):
                continue
            report = await self.energy.report(period)
            pdf = await asyncio.to_thread(render.pdf, report, self.lang)
            path = await asyncio.to_thread(self.stored.save, report, pdf)
            made += 1
            electricity = report.compound.get("electricity")
            total = electricity.total if electricity else None
            self.announce(
                Notice(
                    topic="energy.report",
                    subject=f"【能耗报告】{report.site} {period.label}",
                    body=(
                        f"{report.site} {period.label} 能耗报告已生成"
                        f"（用电 {total} kWh）。\n{self.link(path.name)}\n\n"
                        f"Energy report {period.label}: {self.link(path.name)}"
                    ),
                    ts=now,
                    notify=self.notify,
                    key=f"energy:{kind}:{period.label}",
                )
            )
        return made
