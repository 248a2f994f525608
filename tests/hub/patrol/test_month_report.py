"""A month of simulated tours — on time, late, missed, out of order, refused, some while the hub
was down — through the rules engine, the alarm book and the patrol tables: the patrol report's
figures match the tours one by one, per guard, route and shift, and every visit shows how it
was proven (in the report's JSON, its XLSX and its PDF)."""

from __future__ import annotations

import asyncio
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
from openpyxl import load_workbook

from hub.domain import CodeScan, Event, Notice, Sighting
from hub.services.alarms import AlarmService, SqlRuleStateStore
from hub.services.patrol import render
from hub.services.patrol.codes import CheckpointCodes
from hub.services.patrol.scans import Scans
from hub.services.patrol.scheduled import ScheduledPatrolReports
from hub.services.patrol.service import PatrolService
from hub.services.periods import parse_period
from hub.services.reports import StoredReports
from hub.services.tables import to_xlsx
from hub.site import Site
from hub.site.rules import MissedPatrolRule
from hub.storage import Database
from hub.storage.migrate import upgrade
from rules.engine import RuleEngine

TZ = ZoneInfo("Asia/Shanghai")
ROUTE = "route-west"
HOURS = (9, 15, 21)  # tours a day; 21:00 is the night shift's
STEP, GRACE, LATE = 5, 5, 30  # minutes
CLONED = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # the tour with an impossible visit
DOWN = (datetime(2026, 11, 10, 8, 0, tzinfo=TZ), datetime(2026, 11, 11, 21, 0, tzinfo=TZ))


@dataclass
class Expected:
    tours: int = 0
    unobserved: int = 0
    due: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    out_of_order: int = 0
    refused: int = 0

    def add(self, other: Expected) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Plan:
    """One tour as the simulation walks it, and what it must count."""

    start: datetime
    guard: str
    visits: list[tuple[datetime, str, str]] = field(default_factory=list)  # when, cp, how
    expected: Expected = field(default_factory=Expected)
    guards: tuple[str, ...] = ()


def plan_tour(start: datetime, cps: list[str], rng: random.Random) -> Plan:
    guard = "g2" if start.astimezone(TZ).hour == 21 else "g1"
    plan = Plan(start, guard)
    e = plan.expected
    e.tours, e.due = 1, len(cps)
    fates = [rng.choices(["on_time", "late", "missed"], weights=[7, 2, 1])[0] for _ in cps]
    swap = rng.random() < 0.15 and fates[1] == fates[2] == "on_time"
    late = 0
    for i, cp in enumerate(cps):
        due = start + timedelta(minutes=STEP * i)
        how = "code" if rng.random() < 0.2 else "ble"
        if fates[i] == "on_time":
            at = due + timedelta(minutes=1.5)
            if swap and i in (1, 2):  # cp 2 first, then cp 1: out of order
                at = start + timedelta(minutes=STEP + (2.5 if i == 2 else 3.5))
            plan.visits.append((at, cp, how))
            e.on_time += 1
        elif fates[i] == "late":  # walked back to after the round, three minutes apart
            plan.visits.append((start + timedelta(minutes=26 + 3 * late), cp, how))
            late += 1
            e.late += 1
        else:
            e.missed += 1
    if swap:
        e.out_of_order += 1
    if start == CLONED and fates[0] == "on_time":
        # a clone of g1's badge at the far end of the route ten seconds after the gate
        at = start + timedelta(minutes=1.5, seconds=10)
        plan.visits.append((at, cps[-1], "clone"))
        e.refused += 1
    plan.visits.sort()
    plan.guards = (guard,) if plan.visits else ("g1", "g2")
    return plan


def events(visit: tuple[datetime, str, str], guard: str, codes: CheckpointCodes) -> list[Event]:
    """A visit as the hub receives it: the code scanned, or three close badge reports; the
    switch room (cp-plant) asks for both, and gets both, the code first."""
    at, cp, how = visit
    scan = CodeScan(guard, cp, at - timedelta(seconds=3), "qr", codes.show(cp, at).step)
    badge = [
        Sighting(
            f"badge-{guard}",
            cp,
            at - timedelta(seconds=s),
            "espresense",
            distance_m=1.1,
            subject_id=guard,
        )
        for s in (2, 1, 0)
    ]
    if cp == "cp-plant":
        return [scan, *badge]
    return [scan] if how == "code" else badge  # "ble", "clone"


def test_a_month_of_tours_gives_a_report_whose_figures_match_them_one_by_one(
    tmp_path: Path, demo_site: Site
) -> None:
    rule = MissedPatrolRule(
        id="west-tours",
        kind="missed_patrol",
        route=ROUTE,
        schedule="FREQ=DAILY;BYHOUR=9,15,21;BYMINUTE=0",
        step_min=STEP,
        grace_min=GRACE,
        late_min=LATE,
    )
    site = demo_site.model_copy(update={"devices": [], "rules": [rule]})
    cps = next(r for r in site.patrol_routes if r.id == ROUTE).checkpoints
    db = Database.from_url(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(db.engine)
    codes = CheckpointCodes(site, b"k" * 48)
    rng = random.Random(2026_11)
    now = [datetime(2026, 10, 31, 22, 0, tzinfo=TZ).astimezone(UTC)]
    engine = RuleEngine(site, SqlRuleStateStore(db), AlarmService(db), clock=lambda: now[0])
    engine.load()

    plans: list[Plan] = []
    unobserved: list[datetime] = []
    days = [date(2026, 11, 1) + timedelta(days=d) for d in range(30)]
    starts = [datetime(d.year, d.month, d.day, h, tzinfo=TZ) for d in days for h in HOURS]

    async def run() -> None:
        async def at(t: datetime) -> None:
            now[0] = t.astimezone(UTC)
            await engine.tick()

        await at(now[0])
        for start in starts:
            if DOWN[0] <= start < DOWN[1]:
                unobserved.append(start)  # the hub is down: nothing ticks, nobody watches
                continue
            plan = plan_tour(start, list(cps), rng)
            plans.append(plan)
            moments = [(v[0], v) for v in plan.visits]
            moments += [
                (start + timedelta(minutes=STEP * i + GRACE, seconds=30), None)
                for i in range(len(cps))
            ]
            moments += [(start, None)]
            for t, visit in sorted(moments, key=lambda m: m[0]):
                if visit is None:
                    await at(t)
                else:
                    now[0] = t.astimezone(UTC)
                    await engine.handle(events(visit, plan.guard, codes))
            await at(start + timedelta(minutes=STEP * (len(cps) - 1) + GRACE + LATE, seconds=30))
        await at(datetime(2026, 12, 1, 0, 30, tzinfo=TZ))

    asyncio.run(run())

    service = PatrolService(site, db, Scans(db, codes), progress=lambda: [])
    report = service.report(parse_period("2026-11", TZ), "zh-CN")

    total = Expected(unobserved=len(unobserved))
    by_guard: dict[str, Expected] = {}
    by_shift: dict[str, Expected] = {"day": Expected(), "night": Expected()}
    for p in plans:
        total.add(p.expected)
        for g in p.guards:
            by_guard.setdefault(g, Expected()).add(p.expected)
        by_shift["night" if p.start.hour == 21 else "day"].add(p.expected)
    for s in unobserved:
        for g in ("g1", "g2"):
            by_guard.setdefault(g, Expected()).unobserved += 1
        by_shift["night" if s.hour == 21 else "day"].unobserved += 1

    def figures(f: object) -> dict[str, int]:
        return {k: getattr(f, k) for k in vars(Expected())}

    assert len(plans) + len(unobserved) == 90
    assert len(unobserved) == 5  # 10 November 09, 15, 21; 11 November 09, 15
    assert figures(report.total) == vars(total)
    assert {g: figures(f) for g, f in report.by_guard.items()} == {
        g: vars(e) for g, e in by_guard.items()
    }
    assert {s: figures(f) for s, f in report.by_shift.items()} == {
        s: vars(e) for s, e in by_shift.items()
    }
    assert figures(report.by_route[ROUTE]) == vars(total)
    assert report.total.compliance == round(100 * total.on_time / total.due, 1)
    # the month has each kind
    assert total.late
    assert total.missed
    assert total.out_of_order
    assert total.refused == 1

    # tour by tour: each checkpoint's result, who, and how it was proven
    observed = [t for t in report.tours if not t["unobserved"]]
    assert len(observed) == len(plans)
    for plan, tour in zip(plans, observed, strict=True):
        assert tour["start"] == plan.start.isoformat()
        got = {c["checkpoint"]: c for c in tour["checkpoints"]}
        for at, cp, how in plan.visits:
            if how == "clone":
                (refused,) = tour["refused"]
                assert (refused["checkpoint"], refused["reason"]) == (cp, "too_fast")
                continue
            assert got[cp]["by"] == plan.guard
            two = cp == "cp-plant"
            proven = datetime.fromisoformat(got[cp]["at"])
            assert proven == (at if how == "ble" or two else at - timedelta(seconds=3))
            evidence = " + ".join(sorted(e.split(" ")[0] for e in got[cp]["evidence"]))
            assert evidence == (
                "扫码（qr） + 蓝牙" if two else "扫码（qr）" if how == "code" else "蓝牙"
            )
        states = Counter(c["state"] for c in tour["checkpoints"])
        assert states["on_time"] == plan.expected.on_time
        assert states["late"] == plan.expected.late
        assert states["missed"] == plan.expected.missed

    # the same figures in the spreadsheet and the PDF
    book = load_workbook(io.BytesIO(to_xlsx(render.sheets(report))))
    shifts = list(book["班次"].iter_rows(values_only=True))
    assert shifts[-1][0] == "合计"
    assert shifts[-1][1:5] == (total.tours, total.unobserved, total.due, total.on_time)
    visits = list(book["巡更明细"].iter_rows(values_only=True))
    assert len(visits) == 1 + len(plans) * len(cps) + len(unobserved) * len(cps)
    pdf = pdfium.PdfDocument(render.pdf(report))
    first = pdf[0].get_textpage().get_text_range()
    assert "巡更报告" in first
    assert "2026-11" in first
    assert str(report.total.compliance) in first


def test_finished_weeks_and_months_are_stored_once_and_the_security_room_told(
    tmp_path: Path, demo_site: Site
) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(db.engine)
    codes = CheckpointCodes(demo_site, b"k" * 48)
    later = datetime(2026, 12, 4, 9, 0, tzinfo=TZ)
    service = PatrolService(
        demo_site, db, Scans(db, codes), progress=lambda: [], clock=lambda: later
    )
    told: list[Notice] = []
    stored = StoredReports(tmp_path / "reports", prefix="patrol")
    job = ScheduledPatrolReports(
        service,
        stored,
        kinds=["week", "month"],
        settle=timedelta(hours=1),
        keep=timedelta(days=400),
        notify=["role:security"],
        announce=told.append,
        link=lambda name: f"https://hub.example/patrol.html#stored={name}",
    )
    assert asyncio.run(job()) == 2
    assert asyncio.run(job()) == 0  # already stored
    names = {r["name"] for r in stored.list()}
    assert names == {"patrol-week-2026-W48.pdf", "patrol-month-2026-11.pdf"}
    for stem in ("patrol-week-2026-W48", "patrol-month-2026-11"):
        for suffix in (".pdf", ".xlsx", ".json"):
            assert stored.path(stem + suffix) is not None
    assert stored.path("energy-month-2026-11.pdf") is None  # another kind's names are not served
    assert [n.key for n in told] == ["patrol:week:2026-W48", "patrol:month:2026-11"]
    assert "巡更报告" in told[1].subject
    assert "https://hub.example/patrol.html#stored=patrol-month-2026-11.pdf" in told[1].body
