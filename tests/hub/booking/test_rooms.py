"""Room bookings on SQLite and PostgreSQL: the no-overlap rule under concurrency, buffers,
hours, the past, quotas, approval, recurring series and their edits, the waitlist,
check-in with the rotating code, release of no-shows and the HVAC plan."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid
from hub.identity.roles import Principal, Role
from hub.services.booking import CheckIn, RoomBookings, Slot
from hub.services.booking.jobs import hvac_done, hvac_plan, release_no_shows
from hub.settings import BookingSettings
from hub.site import Site
from hub.storage import Database
from tests.support.clock import Clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=SH)  # Monday 08:00
STAFF = Principal("staff", frozenset({Role.STAFF}), "u-office")
FIN = Principal("fin", frozenset({Role.STAFF}), "u-finance")
LEADER = Principal("leader", frozenset({Role.STAFF}), "u-office")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def rooms(db: Database, demo_site: Site, clock: Clock) -> RoomBookings:
    return RoomBookings(db, demo_site, BookingSettings(), clock=clock)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=SH)


def slot(day: int, hh: int, mm: int, hours: float) -> Slot:
    start = at(day, hh, mm)
    return Slot(start, start + timedelta(hours=hours))


def test_fifty_concurrent_requests_for_one_slot_book_it_once(rooms: RoomBookings) -> None:
    barrier = threading.Barrier(50)
    won: list[int] = []
    refused: list[str] = []

    def ask(n: int) -> None:
        who = Principal(f"user{n}", frozenset({Role.STAFF}), "u-edu")
        barrier.wait()
        try:
            won.append(rooms.book(who, "r-201b", slot(24, 14, 0, 1), title=f"会议 {n}")["id"])
        except Conflict as err:
            refused.append(str(err))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert len(refused) == 49
    assert len(rooms.find(room_id="r-201b")) == 1


def test_buffers_hours_the_past_and_capacity_are_refused_with_reasons(
    rooms: RoomBookings,
) -> None:
    rooms.book(STAFF, "r-101", slot(24, 9, 0, 1), title="周例会")
    with pytest.raises(Conflict, match="10 minutes kept free"):
        rooms.book(STAFF, "r-101", slot(24, 10, 5, 1), title="紧接着")  # inside the buffer
    rooms.book(STAFF, "r-101", slot(24, 10, 10, 1), title="缓冲之后")  # just after it
    with pytest.raises(Invalid, match="07:00-22:00"):
        rooms.book(STAFF, "r-101", slot(24, 21, 30, 1), title="太晚")
    with pytest.raises(Invalid, match="in the past"):
        rooms.book(STAFF, "r-101", slot(22, 9, 0, 1), title="昨天")
    with pytest.raises(Invalid, match="seats 12"):
        rooms.book(FIN, "r-301", slot(24, 9, 0, 1), title="大会", attendees=30)
    with pytest.raises(Invalid, match="ends after"):
        rooms.book(STAFF, "r-101", Slot(at(24, 15), at(24, 14)), title="倒着")


def test_a_unit_over_its_weekly_quota_is_refused(rooms: RoomBookings) -> None:
    # u-office may book 40 room hours a week
    for day in (23, 24, 25, 26):
        rooms.book(STAFF, "r-201b", slot(day, 9, 0, 10), title="全天")
    with pytest.raises(Conflict, match="quota of 40 room hours"):
        rooms.book(STAFF, "r-201b", slot(27, 9, 0, 1), title="再一个")
    rooms.book(FIN, "r-201b", slot(27, 9, 0, 1), title="财政局不受影响")
    rooms.book(STAFF, "r-201b", slot(30, 9, 0, 1), title="下周可以")


def test_other_units_wait_for_the_owners_approval_by_the_right_person(
    rooms: RoomBookings,
) -> None:
    told: list[Notice] = []
    rooms.announce = told.append
    b = rooms.book(FIN, "r-501", slot(24, 15, 0, 1), title="财政局借用")
    assert b["status"] == "pending"
    with pytest.raises(Forbidden):
        rooms.decide(STAFF, b["id"], approve=True)  # u-office, but not its approver
    with pytest.raises(Conflict):  # the pending booking holds the room meanwhile
        rooms.book(STAFF, "r-501", slot(24, 15, 30, 1), title="同时")
    assert rooms.decide(LEADER, b["id"], approve=True)["status"] == "confirmed"
    asked, approved = told  # the room's approver is asked, the organiser hears of it
    assert (asked.topic, asked.notify) == ("booking.waiting", ("leader",))
    assert (approved.topic, approved.notify) == ("booking.approved", (FIN.name,))
    assert approved.subject.startswith("【会议室】常委会议室")
    own = rooms.book(STAFF, "r-501", slot(25, 15, 0, 1), title="本单位")
    assert own["status"] == "confirmed"


def test_a_series_books_every_meeting_or_none_and_edits_one_following_or_a_range(
    rooms: RoomBookings,
) -> None:
    series = rooms.book(
        STAFF,
        "r-101",
        slot(24, 14, 0, 1),
        title="周二例会",
        rrule="FREQ=WEEKLY;COUNT=6",
        exdates=[date(2026, 12, 8)],
    )
    starts = [b["start"][:10] for b in series["bookings"]]
    assert starts == ["2026-11-24", "2026-12-01", "2026-12-15", "2026-12-22", "2026-12-29"]
    # a series meeting a taken date is refused whole, naming the date
    daily = Slot(
        datetime(2026, 11, 30, 13, 30, tzinfo=SH), datetime(2026, 11, 30, 14, 30, tzinfo=SH)
    )
    with pytest.raises(Conflict, match="2026-12-01 13:30"):
        rooms.book(STAFF, "r-101", daily, title="冲突", rrule="FREQ=DAILY;COUNT=3")
    assert len(rooms.find(organiser="staff")) == 5  # nothing half-written

    ids = [b["id"] for b in series["bookings"]]
    # this one: the 1 December meeting moves an hour later
    moved = rooms.change(
        STAFF,
        ids[1],
        scope="this",
        start=datetime(2026, 12, 1, 15, tzinfo=SH),
        end=datetime(2026, 12, 1, 16, tzinfo=SH),
    )
    assert moved[0]["start"].startswith("2026-12-01T07:00")  # 15:00 in Shanghai
    # this and following: from 15 December the meetings start half an hour earlier
    following = rooms.change(
        STAFF,
        ids[2],
        scope="following",
        start=datetime(2026, 12, 15, 13, 30, tzinfo=SH),
        end=datetime(2026, 12, 15, 14, 30, tzinfo=SH),
        title="周二例会（新时间）",
    )
    assert [b["start"][11:16] for b in following] == ["05:30", "05:30", "05:30"]
    (new_series,) = {b["series_id"] for b in following}  # they became a series of their own
    assert new_series != series["series_id"]
    # a date range: the holidays are off
    off = rooms.change_range(STAFF, new_series, date(2026, 12, 20), date(2026, 12, 31), cancel=True)
    assert len(off) == 2
    # a date range re-timed: the meeting of 1 December moves to the afternoon
    retimed = rooms.change_range(
        STAFF, series["series_id"], date(2026, 12, 1), date(2026, 12, 1), hours=(time(16), time(17))
    )
    assert [b["start"] for b in retimed] == [
        datetime(2026, 12, 1, 16, tzinfo=SH).astimezone(UTC).isoformat()
    ]
    with pytest.raises(Invalid, match="07:00-22:00"):
        rooms.change_range(
            STAFF,
            series["series_id"],
            date(2026, 11, 24),
            date(2026, 11, 24),
            hours=(time(21), time(23)),
        )
    left = rooms.find(organiser="staff")
    assert [b["start"][:10] for b in left] == ["2026-11-24", "2026-12-01", "2026-12-15"]
    with pytest.raises(Forbidden):
        rooms.cancel(FIN, ids[0])


def test_the_waitlist_gets_a_cancelled_room(rooms: RoomBookings) -> None:
    b = rooms.book(STAFF, "r-301", slot(24, 10, 0, 1), title="原会议")
    with pytest.raises(Conflict):
        rooms.book(FIN, "r-301", slot(24, 10, 0, 1), title="也想要")
    entry = rooms.wait(FIN, "r-301", slot(24, 10, 0, 1), title="也想要")
    assert entry["status"] == "waiting"
    rooms.cancel(STAFF, b["id"])
    (got,) = rooms.find(room_id="r-301")
    assert (got["organiser"], got["title"], got["unit"]) == ("fin", "也想要", "u-finance")


def test_check_in_with_the_rotating_code_and_no_shows_released_with_their_hvac(
    rooms: RoomBookings, clock: Clock
) -> None:
    door = CheckIn(rooms, b"s" * 32)
    held = rooms.book(STAFF, "r-101", slot(23, 9, 0, 1), title="有人来")
    empty = rooms.book(STAFF, "r-101", slot(23, 14, 0, 1), title="没人来")
    # 08:30: the room goes to comfort 30 minutes ahead
    clock.now = at(23, 8, 30)
    (step,) = hvac_plan(rooms, clock.now)
    assert (step.point, step.value, step.state, step.bookings) == (
        "rc-101.mode",
        2,
        "comfort",
        (held["id"],),
    )
    hvac_done(rooms, step)
    assert hvac_plan(rooms, clock.now) == []  # once
    # 08:55: a photo of yesterday's code does not work; the door's code now does
    clock.now = at(23, 8, 55)
    with pytest.raises(Forbidden):
        door.sign_in(STAFF, "r-101", door.code("r-101", clock.now - timedelta(minutes=5)))
    code = door.code("r-101", clock.now)
    signed = door.sign_in(STAFF, "r-101", code)
    assert (signed["status"], signed["signed_in"]) == ("checked_in", 1)
    assert door.sign_in(LEADER, "r-101", code)["signed_in"] == 2
    assert door.sign_in(LEADER, "r-101", code)["signed_in"] == 2  # once per person
    # 10:05: the meeting is over: set back
    clock.now = at(23, 10, 5)
    (step,) = hvac_plan(rooms, clock.now)
    assert (step.value, step.state) == (3, "setback")
    hvac_done(rooms, step)
    # 14:16: nobody came to the 14:00 meeting: released, and its comfort set back
    clock.now = at(23, 13, 30)
    (step,) = hvac_plan(rooms, clock.now)
    hvac_done(rooms, step)
    clock.now = at(23, 14, 16)
    assert release_no_shows(rooms, clock.now) == [empty["id"]]
    assert rooms.get(empty["id"])["status"] == "released"
    (step,) = hvac_plan(rooms, clock.now)
    assert (step.state, step.bookings) == ("setback", (empty["id"],))
    report = door.report(at(23, 0), at(24, 0))
    (office,) = report["units"]
    assert (office["meetings"], office["held"], office["no_shows"], office["signed_in"]) == (
        2,
        1,
        1,
        2,
    )


def test_cancelling_the_rest_of_a_series_can_be_undone_except_what_others_took(
    rooms: RoomBookings, clock: Clock
) -> None:
    series = rooms.book(
        STAFF, "r-301", slot(23, 15, 0, 1), title="周会", rrule="FREQ=WEEKLY;COUNT=4"
    )
    first, second, *_ = series["bookings"]
    gone = rooms.cancel(STAFF, second["id"], scope="following")
    assert len(gone) == 3
    # meanwhile another unit books the third week's slot
    third_week = Slot(
        datetime(2026, 12, 7, 15, 0, tzinfo=SH), datetime(2026, 12, 7, 16, 0, tzinfo=SH)
    )
    rooms.book(FIN, "r-301", third_week, title="财务会")
    with pytest.raises(Forbidden):
        rooms.restore(FIN, second["id"])  # only the organiser undoes
    clock.now += timedelta(minutes=5)
    back = rooms.restore(STAFF, second["id"])
    assert [b["start"] for b in back["restored"]] == [gone[0]["start"], gone[2]["start"]]
    assert [b["start"] for b in back["taken"]] == [gone[1]["start"]]
    assert {b["status"] for b in back["restored"]} == {"confirmed"}
    held = [b for b in rooms.find(room_id="r-301") if b["organiser"] == "staff"]
    assert len(held) == 3  # the first week and the two restored
    assert first["id"] in {b["id"] for b in held}
    rooms.cancel(STAFF, first["id"])
    clock.now += timedelta(minutes=11)
    with pytest.raises(Conflict) as late:
        rooms.restore(STAFF, first["id"])
    assert late.value.key == "booking.undo_late"
