"""The ticket service on a virtual clock, on SQLite and PostgreSQL: dispatch, dedupe, the
state machine's refusals, SLA targets on the business calendar (holds paused), escalation
alarms, rating reminders."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from hub.domain import AlarmEvent, TicketEvent
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.alarms import AlarmService
from hub.services.tickets import TicketService
from hub.site import Site
from hub.storage import Database

# Monday 2026-11-23 09:00 in Shanghai (business hours 08:30-17:30, Monday to Friday)
MONDAY_9 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STAFF = Principal("staff", frozenset({Role.STAFF}), "u-office")
BOSS = Principal("dispatcher", frozenset({Role.DISPATCHER}))
HVAC = Principal("tech-hvac", frozenset({Role.TECHNICIAN}))
ELEC = Principal("tech-elec", frozenset({Role.TECHNICIAN}))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9)


@pytest.fixture
def told() -> list[TicketEvent]:
    return []


@pytest.fixture
def alarms(db: Database) -> AlarmService:
    return AlarmService(db)


@pytest.fixture
def svc(
    db: Database,
    demo_site: Site,
    tmp_path: Path,
    clock: Clock,
    told: list[TicketEvent],
    alarms: AlarmService,
) -> TicketService:
    return TicketService(
        db, demo_site, photos=tmp_path, notify=told.append, alarms=alarms, clock=clock
    )


def fault(action: str, ts: datetime, ticket: bool = True) -> AlarmEvent:
    return AlarmEvent(
        alarm_id="1",
        alarm_type="equipment_fault",
        originator="ahu-b2",
        state="ACTIVE_UNACK",
        severity="major",
        ts=ts,
        message="风机故障",
        action=action,
        rule="plant-faults",
        ticket=ticket,
    )


def test_faults_open_one_ticket_and_a_clear_is_noted_not_closed(
    svc: TicketService, told: list[TicketEvent]
) -> None:
    svc.apply_alarm(fault("raised", MONDAY_9))
    for i in range(4):
        svc.apply_alarm(fault("repeated", MONDAY_9 + timedelta(minutes=i)))
    svc.apply_alarm(fault("cleared", MONDAY_9 + timedelta(minutes=5)))
    [t] = svc.find(BOSS)
    assert (t["occurrences"], t["assignee"], t["priority"]) == (5, "t-hvac", "high")
    assert (t["status"], t["fault_active"]) == ("assigned", False)
    assert told[0].notify == ("tech-hvac",)  # the technician is told
    # after it is closed, the next fault opens a new ticket; a mere repeat does not
    svc.accept(t["id"], HVAC)
    svc.resolve(t["id"], HVAC, "reset", [])
    svc.rate(t["id"], BOSS, 4, "")
    svc.apply_alarm(fault("repeated", MONDAY_9 + timedelta(hours=1)))
    assert len(svc.find(BOSS)) == 1
    svc.apply_alarm(fault("raised", MONDAY_9 + timedelta(hours=2)))
    assert len(svc.find(BOSS)) == 2


def test_close_on_clear_closes_an_untouched_ticket(
    db: Database, demo_site: Site, tmp_path: Path, clock: Clock
) -> None:
    svc = TicketService(db, demo_site, photos=tmp_path, close_on_clear=True, clock=clock)
    svc.apply_alarm(fault("raised", MONDAY_9))
    svc.apply_alarm(fault("cleared", MONDAY_9 + timedelta(minutes=1)))
    assert svc.find(BOSS)[0]["status"] == "closed"


def test_dispatch_picks_the_least_busy_technician_on_duty(
    db: Database, demo_site: Site, tmp_path: Path, clock: Clock
) -> None:
    people = [
        p.model_copy(update={"skills": ["hvac"], "on_duty": "08:00-20:00"})
        if p.id == "t-elec"
        else p
        for p in demo_site.people
    ]
    svc = TicketService(
        db, demo_site.model_copy(update={"people": people}), photos=tmp_path, clock=clock
    )
    report = {"category": "hvac", "location": "1号楼"}
    a, _ = svc.report(STAFF, description="太热", **report)  # type: ignore[arg-type]
    b, _ = svc.report(STAFF, description="太冷", **report)  # type: ignore[arg-type]
    assert {a["assignee"], b["assignee"]} == {"t-hvac", "t-elec"}  # one each
    clock.now = MONDAY_9 + timedelta(hours=12)  # 21:00: the electrician is off duty
    c, _ = svc.report(STAFF, description="噪音大", **report)  # type: ignore[arg-type]
    assert c["assignee"] == "t-hvac"


def test_refusals_are_clear(svc: TicketService) -> None:
    t, _ = svc.report(STAFF, description="灯不亮", asset_id="light-b1-3f-corridor")
    with pytest.raises(NotFound):
        svc.accept(t["id"], HVAC)  # assigned to another: not theirs to see
    with pytest.raises(Conflict):
        svc.start(t["id"], ELEC)  # not accepted yet
    with pytest.raises(Conflict):
        svc.rate(t["id"], STAFF, 5, "")  # not resolved yet
    with pytest.raises(Forbidden):
        svc.assign(t["id"], STAFF, "t-hvac")  # staff don't dispatch
    svc.accept(t["id"], ELEC)
    svc.resolve(t["id"], ELEC, "换灯管", [])
    with pytest.raises(Forbidden):
        svc.rate(t["id"], BOSS, 5, "")  # a person's report: only they rate it
    svc.rate(t["id"], STAFF, 3, "慢")
    with pytest.raises(Conflict):
        svc.rate(t["id"], STAFF, 5, "")  # once


def test_sla_counts_business_minutes_pauses_holds_and_escalates(
    svc: TicketService, clock: Clock, alarms: AlarmService, told: list[TicketEvent]
) -> None:
    # Friday 17:00 (normal hvac targets: 60 min response, 480 min resolution)
    clock.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    t, _ = svc.report(STAFF, description="空调不制冷", category="hvac", location="3楼")
    # due: 30 minutes on Friday and 30 on Monday morning; the repair 450 more minutes later
    assert t["response_due"] == datetime(2026, 11, 30, 1, 0, tzinfo=UTC).isoformat()
    assert t["resolution_due"] == datetime(2026, 11, 30, 8, 0, tzinfo=UTC).isoformat()
    clock.now += timedelta(minutes=40)  # 17:40: 30 business minutes have passed
    assert svc.sweep() == 0
    clock.now = datetime(2026, 11, 30, 1, 1, tzinfo=UTC)  # Monday 09:01: 61 minutes
    assert svc.sweep() == 1
    got = svc.get(t["id"], BOSS)
    assert (got["response_breached"], got["resolution_breached"]) == (True, False)
    [alarm] = alarms.list(type="ticket_overdue")
    assert (alarm["originator"], alarm["severity"]) == (f"ticket:{t['id']}", "major")
    assert svc.sweep() == 0  # once

    svc.accept(t["id"], HVAC)
    held = svc.hold(t["id"], HVAC, "等压缩机")
    assert (held["response_due"], held["resolution_due"]) == (None, None)  # met; paused
    clock.now += timedelta(days=1)  # a whole business day on hold does not count
    assert svc.sweep() == 0
    resumed = svc.start(t["id"], HVAC)
    # the day on hold (540 business minutes) moves the repair's due time a business day on
    assert resumed["resolution_due"] == datetime(2026, 12, 1, 8, 0, tzinfo=UTC).isoformat()
    clock.now += timedelta(hours=6)  # 30 + 1 + 6 h = 421 business minutes < 480
    assert svc.sweep() == 0
    clock.now += timedelta(hours=1)  # 481
    assert svc.sweep() == 1
    assert svc.get(t["id"], BOSS)["resolution_breached"]
    svc.resolve(t["id"], HVAC, "更换压缩机", [{"name": "压缩机", "quantity": 1}])
    assert alarms.list(type="ticket_overdue")[0]["state"] == "CLEARED_UNACK"

    # the reporter is reminded to rate once, a day after the repair
    clock.now += timedelta(hours=25)
    assert svc.sweep() == 1
    assert told[-1].action == "rating_reminder"
    assert told[-1].notify == ("staff",)
    assert svc.sweep() == 0


def test_urgent_work_counts_around_the_clock(svc: TicketService, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # Saturday 22:00
    t, _ = svc.report(
        STAFF, description="水管爆裂", category="plumbing", location="2号楼", priority="urgent"
    )
    clock.now += timedelta(minutes=16)  # urgent default response target: 15 minutes
    svc.sweep()
    assert svc.get(t["id"], BOSS)["response_breached"]


def photo_of(img: Image.Image, fmt: str, **save: object) -> str:
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return base64.b64encode(out.getvalue()).decode()


def test_a_photo_is_kept_as_a_clean_image_and_a_disguised_file_is_refused(
    svc: TicketService, tmp_path: Path
) -> None:
    staff = Principal("staff", frozenset({Role.STAFF}), "u-office")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make; a phone also writes where the photo was taken
    png = photo_of(Image.new("RGBA", (4000, 3000), (200, 10, 10, 128)), "PNG")
    jpeg = photo_of(Image.new("RGB", (64, 48), "blue"), "JPEG", exif=exif)
    for i, data in enumerate((png, jpeg)):
        t, _ = svc.report(
            staff, description=f"漏水 {i}", category="plumbing", location="2楼", photo=data
        )
        with Image.open(svc.photo(t["id"], staff)) as kept:
            assert kept.format == "JPEG"
            assert max(kept.size) <= 2560  # scaled to what a screen shows
            assert not kept.getexif()  # no metadata kept
    script = base64.b64encode(b"\xff\xd8\xff<script>alert(1)</script>").decode()
    polyglot = base64.b64encode(base64.b64decode(png)[:200] + b"<html>").decode()  # truncated
    for bad in (script, polyglot):
        with pytest.raises(Invalid, match="photo"):
            svc.report(staff, description="坏了", category="plumbing", location="2楼", photo=bad)
