"""The guards' side of the gate: the review queue (a near match waits for a guard instead
of a flat deny), manual overrides, the decision log, the day's counts and the wall's summary,
the allow and block lists, and the sweep for overstays, no-shows and expired personal data.
A mixin of `GateService`, which owns the state it uses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.domain import GateDirection, GateEvent, Notice, Say
from hub.errors import Conflict, Invalid, NotFound
from hub.identity.roles import Principal
from hub.services.alarms import AlarmService
from hub.services.booking.txn import Serialised
from hub.services.gate.index import PlateIndex
from hub.services.gate.plates import PlateError, normalise, parse
from hub.services.gate.visits import VisitService, mask
from hub.settings import GateSettings
from hub.site.model import Gate
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import (
    Alarm,
    AlarmLogEntry,
    AuditEntry,
    GateDecision,
    InboxMessage,
    PlateListEntry,
    Visit,
    Visitor,
)

RULE = "gate"  # the rule id of the gate's alarms (routes notifications to security)
PURGED_TEXT = "（个人信息已按保留期限清除）"
# audit entries whose target or detail may name a visitor or a plate
PERSONAL_AUDIT = (
    "gate.review",
    "gate.override",
    "gate.plate_allow",
    "gate.plate_block",
    "gate.plate_unlist",
)


def decision_dict(row: GateDecision) -> dict[str, Any]:
    """A gate decision as the API and the screens show it."""
    return {
        "id": row.id,
        "ts": row.ts.isoformat(),
        "gate_id": row.gate_id,
        "direction": row.direction,
        "credential": row.credential,
        "presented": row.presented,
        "terminal": row.terminal,
        "outcome": row.outcome,
        "decision": row.outcome,
        "reason": row.reason,
        "subject": row.subject,
        "visitor_id": row.visitor_id,
        "evidence": row.evidence,
        "reviewed_by": row.reviewed_by,
    }


class GateDesk:
    """What guards do at the gate (mixed into `GateService`)."""

    _db: Database
    write: Serialised
    settings: GateSettings
    gates: dict[str, Gate]
    tz: ZoneInfo
    visits: VisitService
    index: PlateIndex
    _alarms: AlarmService | None
    _announce: Callable[[GateEvent | Notice], None]

    @property
    def clock(self) -> Callable[[], datetime]:
        """The visits' clock."""
        return self.visits.clock

    def reviews(self) -> list[dict[str, Any]]:
        """Near matches and other cases waiting for a guard (last 24 hours)."""
        since = self.clock() - timedelta(hours=24)
        q = (
            select(GateDecision)
            .where(
                GateDecision.outcome == "review",
                GateDecision.reviewed_by.is_(None),
                GateDecision.ts >= since,
            )
            .order_by(GateDecision.id.desc())
        )
        with self._db.session() as s:
            return [decision_dict(r) for r in s.scalars(q)]

    def review(
        self, who: Principal, decision_id: int, allow: bool, note: str = ""
    ) -> dict[str, Any]:
        """A guard decides a case in the review queue; audited and shown live."""
        now = self.clock()
        with self.write("the decision") as s:
            row = s.get(GateDecision, decision_id)
            if row is None:
                raise NotFound(f"no gate decision {decision_id}")
            if row.outcome != "review" or row.reviewed_by is not None:
                raise Conflict(f"decision {decision_id} is not waiting for review")
            row.reviewed_by, row.reviewed_at = who.name, now
            row.evidence = {**row.evidence, "review": {"allow": allow, "note": note}}
            if allow:  # let the anti-passback state follow what the guard let through
                self._apply_review(s, row, now)
            record(s, who.name, "gate.review", str(decision_id), allow=allow, note=note)
            out = decision_dict(row)
        self._announce_manual(
            out["gate_id"],
            out["direction"],
            allow,
            out["subject"] or out["presented"],
            f"reviewed by {who.name}: {note}".strip(": "),
            now,
        )
        return out

    def _apply_review(self, s: Session, row: GateDecision, now: datetime) -> None:
        """A visitor (or the one expected car among the candidates) passed: record it."""
        v: Visitor | None = None
        if row.visitor_id is not None:
            v = s.scalar(select(Visitor).where(Visitor.id == row.visitor_id).with_for_update())
        else:
            idx = self.index.get(s, now)
            cars = [c for c in row.evidence.get("candidates", []) if c in idx.cars]
            if len(cars) == 1:
                vid = idx.cars[cars[0]][0]
                v = s.scalar(select(Visitor).where(Visitor.id == vid).with_for_update())
                row.visitor_id = vid
        if v is None:
            return
        entering = row.direction == "in"
        if row.credential == "plate" or row.evidence.get("candidates"):
            v.car_inside = entering
            v.car_entries_used += 1 if entering else 0
        else:
            v.inside = entering
        if entering and v.arrived_at is None:
            v.arrived_at, v.status = now, "arrived"
        elif not entering and not (v.inside or v.car_inside):
            v.left_at, v.status = now, "left"

    def override(
        self, who: Principal, gate_id: str, direction: str, subject: str, reason: str
    ) -> dict[str, Any]:
        """A guard lets someone through by hand (a reason is required); audited."""
        if gate_id not in self.gates:
            raise Invalid(f"no gate {gate_id!r}", field="gate_id")
        if direction not in ("in", "out"):
            raise Invalid("direction is in or out", field="direction")
        if not reason.strip():
            raise Invalid("an override needs a reason", field="reason")
        now = self.clock()
        with self.write("the gate") as s:
            row = GateDecision(
                ts=now,
                gate_id=gate_id,
                direction=direction,
                credential="manual",
                presented=subject[:200],
                terminal=f"guard:{who.name}",
                outcome="allow",
                reason=f"override: {reason}"[:200],
                subject=subject[:120],
                evidence={"override_by": who.name},
                reviewed_by=who.name,
                reviewed_at=now,
            )
            s.add(row)
            s.flush()
            record(
                s,
                who.name,
                "gate.override",
                gate_id,
                direction=direction,
                subject=subject,
                reason=reason,
            )
            out = decision_dict(row)
        self._announce_manual(gate_id, direction, True, subject, f"override by {who.name}", now)
        return out

    def _announce_manual(
        self, gate_id: str, direction: str, allowed: bool, subject: str, reason: str, now: datetime
    ) -> None:
        self._announce(
            GateEvent(gate_id, GateDirection(direction), allowed, now, "manual", subject, reason)
        )

    def decisions(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest decisions, newest first."""
        q = select(GateDecision).order_by(GateDecision.id.desc()).limit(limit)
        with self._db.session() as s:
            return [decision_dict(r) for r in s.scalars(q)]

    def counts(self, day: date) -> dict[str, Any]:
        """Passages allowed on a day (site time): people and cars in and out, per gate; and
        the refusals. Counted by the database (a busy gate logs thousands a day)."""
        lo = datetime.combine(day, datetime.min.time(), self.tz)
        q = (
            select(
                GateDecision.outcome,
                GateDecision.gate_id,
                GateDecision.direction,
                GateDecision.credential,
                func.count(),
            )
            .where(GateDecision.ts >= lo, GateDecision.ts < lo + timedelta(days=1))
            .group_by(
                GateDecision.outcome,
                GateDecision.gate_id,
                GateDecision.direction,
                GateDecision.credential,
            )
        )
        counts: Counter[str] = Counter()
        with self._db.session() as s:
            for outcome, gate_id, direction, credential, n in s.execute(q):
                if outcome == "deny":
                    counts["denied"] += n
                elif outcome == "allow":
                    who = "cars" if credential == "plate" else "people"
                    counts[f"{who}_{direction}"] += n
                    counts[f"{gate_id}:{direction}"] += n
        return {"day": day.isoformat(), "denied": 0, **counts}

    def summary(self) -> dict[str, int]:
        """For the wall: visitors and visitor cars inside now, today's passages in and out."""
        today = self.counts(datetime.now(self.tz).date())
        with self._db.session() as s:
            people = s.scalar(select(func.count()).where(Visitor.inside)) or 0
            cars = s.scalar(select(func.count()).where(Visitor.car_inside)) or 0
        return {
            "people_inside": int(people),
            "cars_inside": int(cars),
            **{k: int(today.get(k, 0)) for k in ("people_in", "people_out", "cars_in", "cars_out")},
            "denied": int(today["denied"]),
        }

    # -- plate lists -------------------------------------------------------------------------------
    def list_plate(
        self, who: Principal, plate: str, kind: str, owner: str = "", note: str = ""
    ) -> dict[str, Any]:
        """Put a plate on the staff allow list or the block list."""
        if kind not in ("allow", "block"):
            raise Invalid("kind is allow or block", field="kind")
        try:
            normal, _ = parse(plate)
        except PlateError as err:
            raise Invalid(str(err), field="plate", key=err.key, **err.params) from None
        with self._db.session() as s:
            if s.scalar(select(PlateListEntry).where(PlateListEntry.plate == normal)) is not None:
                raise Conflict(f"{normal} is listed already")
            s.add(
                PlateListEntry(plate=normal, kind=kind, owner=owner, note=note, created_by=who.name)
            )
            record(s, who.name, f"gate.plate_{kind}", normal, owner=owner)
        self.index.invalidate()
        return {"plate": normal, "kind": kind, "owner": owner, "note": note}

    def unlist_plate(self, who: Principal, plate: str) -> None:
        """Take a plate off its list."""
        normal = normalise(plate)
        with self._db.session() as s:
            row = s.scalar(select(PlateListEntry).where(PlateListEntry.plate == normal))
            if row is None:
                raise NotFound(f"{normal} is not listed")
            s.delete(row)
            record(s, who.name, "gate.plate_unlist", normal)
        self.index.invalidate()

    def plates(self) -> list[dict[str, Any]]:
        """The allow and block lists."""
        with self._db.session() as s:
            return [
                {"plate": e.plate, "kind": e.kind, "owner": e.owner, "note": e.note}
                for e in s.scalars(select(PlateListEntry).order_by(PlateListEntry.plate))
            ]

    # -- the job: overstays, no-shows, retention -------------------------------------------------
    def sweep(self) -> int:
        """Raise overstay alarms (and tell the host), mark no-shows, purge old personal data."""
        now = self.clock()
        late = now - timedelta(minutes=self.settings.overstay_grace_min)
        notices = []
        with self._db.session() as s:
            q = select(Visit).where(
                Visit.status == "approved", Visit.end < late, Visit.overstay_alarmed.is_(False)
            )
            changed = 0
            for visit in s.scalars(q):
                people = list(s.scalars(select(Visitor).where(Visitor.visit_id == visit.id)))
                still = [v for v in people if v.inside or v.car_inside]
                for v in people:
                    if v.arrived_at is None and v.status == "invited":
                        v.status = "no_show"
                if still:
                    for v in still:
                        v.status = "overstay"
                    labels = "、".join(mask(v.name) for v in still)
                    if self._alarms is not None:
                        self._alarms.raise_alarm(
                            rule=RULE,
                            originator=f"visit:{visit.id}",
                            type="visitor_overstay",
                            severity="minor",
                            message=(
                                f"{labels} still inside after the visit ended (host {visit.host})"
                            ),
                            ticket=False,
                            now=now,
                            say=Say("visit.overstay", {"visitors": labels, "host": visit.host}),
                        )
                    notices.append(
                        Notice(
                            topic="visit.overstay",
                            subject=f"【访客超时】{labels} 仍在院内",
                            body=(
                                f"您预约的访客 {labels} 的来访时间已于 "
                                f"{visit.end.astimezone(self.tz):%m-%d %H:%M} 结束，仍在院内，"
                                "请联系访客离开或延长预约。"
                            ),
                            ts=now,
                            notify=(visit.host,),
                            key=f"visit:{visit.id}",
                            link="/visits.html",
                        )
                    )
                visit.overstay_alarmed = True
                changed += 1
        for n in notices:
            self._announce(n)
        purged = self.visits.purge(now)
        self.purge_trail(now)
        return changed + purged

    def purge_trail(self, now: datetime) -> int:
        """Past the retention period, forget what the gate's trail holds of people too: the
        plates and passes presented, labels, camera reads and guards' notes of decisions,
        the messages of the gate's alarms, and the subjects and notes in its audit entries.
        What stays are the counts: when, which gate, in or out, allowed or not, and why."""
        cutoff = now - timedelta(days=self.settings.retention_days)
        n = 0
        with self._db.session() as s:
            q = select(GateDecision).where(GateDecision.ts < cutoff, GateDecision.presented != "")
            for row in s.scalars(q):
                row.presented, row.subject = "", ""
                row.evidence = {"purged": True}
                if row.reason.startswith("override:"):  # a guard's words may name someone
                    row.reason = "override"
                n += 1
            q2 = select(Alarm).where(Alarm.rule == RULE, Alarm.last_at < cutoff)
            for alarm in s.scalars(q2):
                if alarm.message != PURGED_TEXT or alarm.say is not None:
                    alarm.message, alarm.ack_comment, alarm.say = PURGED_TEXT, "", None
                    history = select(AlarmLogEntry).where(AlarmLogEntry.alarm_id == alarm.id)
                    audited = select(AuditEntry).where(  # acknowledgements, comments on it
                        AuditEntry.action.like("alarm.%"), AuditEntry.target == str(alarm.id)
                    )
                    for trace in [*s.scalars(history), *s.scalars(audited)]:
                        trace.detail = {"purged": True}
                    n += 1
            told = delete(InboxMessage).where(  # hosts' inbox: "visitor X arrived"
                InboxMessage.topic.like("visit.%"), InboxMessage.created_at < cutoff
            )
            n += int(s.execute(told).rowcount or 0)  # type: ignore[attr-defined]
            q3 = select(AuditEntry).where(
                AuditEntry.ts < cutoff, AuditEntry.action.in_(PERSONAL_AUDIT)
            )
            for entry in s.scalars(q3):
                if not entry.detail.get("purged"):
                    entry.target, entry.detail = "", {"purged": True}
                    n += 1
            if n:
                record(s, "gate", "gate.purge_trail", "", rows=n, before=cutoff.isoformat())
        return n
