"""Scheduled energy reports: when a day, a week or a month has ended (and late data had time
to arrive) its report is built, stored as PDF and JSON in the data folder, and the managers
are e-mailed a link to it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from hub.domain import Notice
from hub.services.energy import render
from hub.services.energy.service import EnergyService
from hub.services.periods import last_complete
from hub.services.reports import StoredReports

log = logging.getLogger(__name__)


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
            path = await asyncio.to_thread(
                self.stored.save, kind, period.label, report.as_json(), {".pdf": pdf}
            )
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
                    link=f"/energy.html#stored={path.name}",
                )
            )
        return made
