"""Scheduled patrol reports: when a week or a month has ended (and its last tour had time to
close) its report is built, stored as PDF, XLSX and JSON in the data folder, and the security
room and the managers are told; tours and scans past their keeping are deleted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta

from hub.domain import Notice
from hub.services.patrol import render
from hub.services.patrol.service import PatrolService
from hub.services.periods import last_complete
from hub.services.reports import StoredReports
from hub.services.tables import to_xlsx


class ScheduledPatrolReports:
    """The job behind the `patrol_reports` component: builds what is due, returns how many."""

    def __init__(
        self,
        patrol: PatrolService,
        stored: StoredReports,
        *,
        kinds: Sequence[str],
        settle: timedelta,
        keep: timedelta,
        notify: Sequence[str],
        announce: Callable[[Notice], None],
        link: Callable[[str], str],
        lang: str = "zh-CN",
    ) -> None:
        self.patrol, self.stored = patrol, stored
        self.kinds, self.settle, self.keep = list(kinds), settle, keep
        self.notify, self.announce, self.link, self.lang = tuple(notify), announce, link, lang

    async def __call__(self) -> int:
        now = self.patrol.clock()
        made = 0
        for kind in self.kinds:
            period = last_complete(kind, now - self.settle, self.patrol.tz)
            if self.stored.has(kind, period.label):
                continue
            report = await asyncio.to_thread(self.patrol.report, period, self.lang)
            pdf = await asyncio.to_thread(render.pdf, report)
            xlsx = await asyncio.to_thread(to_xlsx, render.sheets(report))
            path = await asyncio.to_thread(
                self.stored.save,
                kind,
                period.label,
                report.as_json(),
                {".xlsx": xlsx, ".pdf": pdf},
            )
            made += 1
            total = report.total
            rate = "–" if total.compliance is None else total.compliance
            self.announce(
                Notice(
                    topic="patrol.report",
                    subject=f"【巡更报告】{report.site} {period.label}",
                    body=(
                        f"{report.site} {period.label} 巡更报告已生成（巡更 {total.tours} 轮，"
                        f"合规率 {rate}%，漏巡 {total.missed} 点次）。\n{self.link(path.name)}\n\n"
                        f"Patrol report {period.label}: {self.link(path.name)}"
                    ),
                    ts=now,
                    notify=self.notify,
                    key=f"patrol:{kind}:{period.label}",
                    link=f"/patrol.html#stored={path.name}",
                )
            )
        await asyncio.to_thread(self.patrol.prune, self.keep)
        return made
