"""The front door: what is a person's and what waits for them, by role, on one screen. The
home reads each service's own answers (its `find`, its counts): it never queries another
service's tables.

    items:   a person's meetings, car requests (and a driver's trips), visitors expected, repairs
    waiting: the bookings, car requests (and later cards) waiting for this approver
    queues:  the counts of the queues their role works (dispatchers, technicians, security)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.identity.roles import Principal, Role
from hub.services.approvals import Request
from hub.services.booking.rooms import RoomBookings
from hub.services.booking.vehicles import VehicleBookings
from hub.services.canteen import CanteenOrders
from hub.services.feedback import Feedback
from hub.services.gate.desk import GateDesk
from hub.services.gate.visits import VisitService
from hub.services.inbox import InboxService
from hub.services.notices import Notices
from hub.services.permits import Permits
from hub.services.surveys import Surveys
from hub.services.tickets.service import TicketService
from hub.site import Site
from hub.storage import Database

AHEAD = timedelta(days=7)  # how far ahead the home shows meetings and trips


@dataclass(frozen=True, slots=True)
class Item:
    """One thing on the home: what (`kind`), which, its title, when, its state, where to act
    on it."""

    kind: str  # meeting, car, trip, visit, repair, approval, meal
    id: str
    title: str
    when: str | None
    state: str
    link: str
    action: str = ""  # what the person may do now: check_in, rate, approve


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Home:
    """Builds a person's home from the services' answers."""

    def __init__(
        self,
        site: Site,
        *,
        db: Database,
        rooms: RoomBookings,
        vehicles: VehicleBookings,
        visits: VisitService,
        gate: GateDesk,
        tickets: TicketService,
        inbox: InboxService,
        canteen: CanteenOrders | None = None,
        notices: Notices | None = None,
        feedback: Feedback | None = None,
        surveys: Surveys | None = None,
        permits: Permits | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.rooms, self.vehicles, self.visits = rooms, vehicles, visits
        self.gate, self.tickets, self.inbox = gate, tickets, inbox
        self.canteen = canteen
        self.notices = notices
        self.feedback = feedback
        self.surveys = surveys
        self.permits = permits
        self.clock = clock
        self.tz = ZoneInfo(site.site.timezone)
        self._people = {p.username: p for p in site.people if p.username}

    def _meetings(self, who: Principal, now: datetime) -> list[Item]:
        out = []
        for b in self.rooms.find(organiser=who.name, start=now, end=now + AHEAD, limit=20):
            start = datetime.fromisoformat(b["start"])
            soon = b["status"] == "confirmed" and not b["checked_in_at"]
            due = soon and start - timedelta(minutes=15) <= now
            out.append(
                Item(
                    "meeting",
                    str(b["id"]),
                    f"{b['room']} · {b['title']}",
                    b["start"],
                    b["status"],
                    "/rooms.html",
                    "check_in" if due else "",
                )
            )
        return out

    def _cars(self, who: Principal, now: datetime) -> list[Item]:
        out = []
        person = self._people.get(who.name)
        for r in self.vehicles.find(who, status="open", limit=50):
            mine = r["requester"] == who.name
            drives = person is not None and r["driver_id"] == person.id
            if not (mine or drives):
                continue
            kind = "trip" if drives else "car"
            title = f"{r['destination']} · {r['purpose']}"
            out.append(Item(kind, str(r["id"]), title, r["start"], r["status"], "/vehicles.html"))
        return out

    def _visits(self, who: Principal, now: datetime) -> list[Item]:
        today = now.astimezone(self.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        out = []
        for v in self.visits.find(who, day_from=today, limit=20):
            if v["host"] != who.name or v["status"] in ("cancelled", "refused"):
                continue
            people = v["visitors"]
            inside = sum(1 for p in people if p["inside"])
            names = "、".join(p["label"] for p in people)
            state = f"{inside}/{len(people)}" if inside else v["status"]
            out.append(Item("visit", str(v["id"]), names, v["start"], state, "/visits.html"))
        return out

    def _repairs(self, who: Principal) -> list[Item]:
        out = []
        for t in self.tickets.find(who, mine=True, limit=10):
            if t["reporter"] != who.name:
                continue
            rate = t["status"] == "resolved" or (t["status"] == "closed" and not t.get("rating"))
            out.append(
                Item(
                    "repair",
                    str(t["id"]),
                    t["title"],
                    t.get("created_at"),
                    t["status"],
                    f"/report.html#ticket={t['id']}",
                    "rate" if rate else "",
                )
            )
        return out

    def _notices(self, who: Principal) -> list[Item]:
        """Notices the person has still to acknowledge."""
        if self.notices is None:
            return []
        return [
            Item(
                "notice",
                str(n["id"]),
                n["title"],
                n["publish_at"],
                "to_acknowledge",
                f"/notices.html#notice={n['id']}",
                "acknowledge",
            )
            for n in self.notices.waiting_for(who.name)
        ]

    def _feedback(self, who: Principal) -> list[Item]:
        """What the person wrote under their name that is still open, or answered and not
        rated."""
        if self.feedback is None:
            return []
        out = []
        for f in self.feedback.waiting_for_writer(who):
            rate = f["status"] in ("answered", "closed") and f["rating"] is None
            link = f"/feedback.html#item={f['id']}"
            title = f"{f['category_name']} · {f['title']}"
            out.append(
                Item(
                    "feedback",
                    str(f["id"]),
                    title,
                    f["updated_at"],
                    f["status"],
                    link,
                    "rate" if rate else "",
                )
            )
        return out

    def _surveys(self, who: Principal) -> list[Item]:
        """Questionnaires open for the person that they have not started (or, named, not
        finished)."""
        if self.surveys is None:
            return []
        return [
            Item(
                "survey",
                str(v["id"]),
                v["title"],
                v["closes_at"],
                v["state"],
                f"/surveys.html#survey={v['id']}",
                "answer",
            )
            for v in self.surveys.for_me(who)
            if v["state"] in ("new", "draft")
        ]

    def _cards(self, who: Principal) -> list[Item]:
        """The person's cards and permits that want something: being decided, returned to
        them, ready at the window."""
        if self.permits is None:
            return []
        wanted = {"applied": "", "returned": "change", "approved": "", "issued": "collect"}
        return [
            Item(
                "permit",
                str(p["id"]),
                p["kind_name"],
                p["applied_at"],
                p["status"],
                f"/permits.html#permit={p['id']}",
                wanted[p["status"]],
            )
            for p in self.permits.mine(who)
            if p["status"] in wanted
        ]

    def _waiting(self, who: Principal, now: datetime) -> list[Item]:
        out: list[Item] = []
        if self.permits is not None:
            for p in self.permits.waiting_for(who):
                out.append(
                    Item(
                        "approval",
                        f"permit:{p['id']}",
                        f"{p['kind_name']}（{p['holder']}）",
                        p["applied_at"],
                        "pending",
                        f"/permits.html#permit={p['id']}",
                        "approve",
                    )
                )
        if not self.rooms.approvals.approves_anything(who):
            return out  # most staff approve nothing: no search through the requests
        for b in self.rooms.find(start=now, limit=200):
            room = self.rooms.rooms.get(b["room_id"])
            if b["status"] != "pending" or room is None:
                continue
            request = Request("room", str(b["id"]), room.work_unit, b["organiser"])
            if self.rooms.approvals.may_decide(who, request, 0):
                title = f"{room.name} · {b['title']}（{b['organiser']}）"
                out.append(
                    Item(
                        "approval",
                        f"room:{b['id']}",
                        title,
                        b["start"],
                        "pending",
                        "/rooms.html",
                        "approve",
                    )
                )
        for r in self.vehicles.find(who, status="pending", limit=200):
            request = Request("vehicle", str(r["id"]), r["unit"], r["requester"])
            if self.vehicles.approvals.may_decide(who, request, len(r["approvals"] or [])):
                title = f"用车 · {r['destination']}（{r['requester']}）"
                out.append(
                    Item(
                        "approval",
                        f"car:{r['id']}",
                        title,
                        r["start"],
                        "pending",
                        "/vehicles.html",
                        "approve",
                    )
                )
        return out

    def _queues(self, who: Principal) -> dict[str, int]:
        q: dict[str, int] = {}
        if who.roles & {Role.DISPATCHER, Role.ADMIN}:
            q["tickets_unassigned"] = self.tickets.counts()["unassigned"]
            q["cars_to_dispatch"] = len(self.vehicles.find(who, status="approved", limit=500))
        if Role.TECHNICIAN in who.roles:
            q["my_tickets"] = len(
                [
                    t
                    for t in self.tickets.find(who, status="active", mine=True)
                    if t["reporter"] != who.name
                ]
            )
        if who.roles & {Role.SECURITY, Role.ADMIN}:
            q["gate_reviews"] = len(self.gate.reviews())
        if who.roles & {Role.CANTEEN} and self.canteen is not None:
            q["meals_waiting"] = self.canteen.waiting(self.canteen.today())
        if self.feedback is not None and (waiting := self.feedback.open_count(who)):
            q["feedback_open"] = waiting
        return q

    def _meals(self, who: Principal, now: datetime) -> list[Item]:
        if self.canteen is None:
            return []
        today = now.astimezone(self.tz).date()
        out = []
        for o in self.canteen.mine(who, today):
            canteen = self.canteen.canteens.get(o["canteen"])
            meal = canteen.meal(o["meal"]) if canteen else None
            serves = meal.window(date.fromisoformat(o["day"]), self.tz)[0] if meal else None
            dishes = "、".join(f"{ln['name']}×{ln['portions']}" for ln in o["lines"])
            title = f"{meal.name if meal else o['meal']} · {dishes}"
            due = o["status"] == "ordered" and o["day"] == today.isoformat()
            when = serves.isoformat() if serves else o["day"]
            action = "show_code" if due else ""
            link = "/canteen.html"
            out.append(Item("meal", str(o["id"]), title, when, o["status"], link, action))
        return out

    def for_person(self, who: Principal) -> dict[str, Any]:
        """The person's home, read in one session."""
        with self.db.reading():
            return self._for_person(who)

    def _for_person(self, who: Principal) -> dict[str, Any]:
        now = self.clock()
        items = [
            *self._meetings(who, now),
            *self._cars(who, now),
            *self._visits(who, now),
            *self._repairs(who),
            *self._meals(who, now),
            *self._notices(who),
            *self._feedback(who),
            *self._surveys(who),
            *self._cards(who),
        ]
        return {
            "user": who.name,
            "roles": sorted(r.value for r in who.roles),
            "items": [asdict(i) for i in items],
            "waiting": [asdict(i) for i in self._waiting(who, now)],
            "queues": self._queues(who),
            "unread": self.inbox.unread(who.name),
            "menu": self.canteen.next_open() if self.canteen is not None else None,
        }
