"""Gate decisions: a plate read or a QR scan from a gate terminal becomes allow, deny or
review (a guard looks at a near match instead of a flat deny), in one call, with the reason
and the evidence logged; anti-passback; guards' reviews and manual overrides, audited;
alarms for repeated refusals and for visitors still inside after their visit; the host is told
of arrival and overstay. The guards' side is in `desk.py`, the plate index in `index.py`."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.domain import GateDirection, GateEvent, Notice, Say
from hub.errors import Invalid, NotFound
from hub.services.alarms import AlarmService
from hub.services.booking.txn import Serialised
from hub.services.gate import passes
from hub.services.gate.desk import RULE, GateDesk, decision_dict
from hub.services.gate.index import PlateIndex
from hub.services.gate.plates import normalise
from hub.services.gate.queue import DecisionQueue, Presented
from hub.services.gate.staff import StaffCards, by_staff
from hub.services.gate.visits import VisitService, mask
from hub.storage.models import GateDecision, Visit, Visitor

T = TypeVar("T")


def held(s: Session, kind: str, key: Hashable, load: Callable[[], T]) -> T:
    """What `load` gives for `key`, loaded once per transaction and held in the session's
    `info` under `kind` (strongly: the identity map alone lets unchanged objects go)."""
    bucket: dict[Hashable, T] = s.info.setdefault(kind, {})
    if key not in bucket:
        bucket[key] = load()
    return bucket[key]


class GateService(GateDesk):
    """Decisions at the site's gates, on the relational database (the guards' side in
    `GateDesk`)."""

    def __init__(
        self,
        visits: VisitService,
        *,
        alarms: AlarmService | None = None,
        announce: Callable[[GateEvent | Notice], None] = lambda e: None,
    ) -> None:
        self.visits = visits
        self._db = visits._db
        self.settings = visits.settings
        self.site = visits.site
        self.gates = {g.id: g for g in visits.site.gates}
        self.tz = ZoneInfo(visits.site.site.timezone)
        self._verify_key = visits.key.public_key()
        self._alarms = alarms
        self._announce = announce
        self.write = Serialised(self._db)
        self.index = PlateIndex(self.settings)
        visits.listeners.append(self.index.invalidate)
        # what terminals present, decided in batches on a thread of their own
        self.queue = DecisionQueue(self.decide_many)
        # cards and permits, when the hub runs them (`hub.services.permits` plugs these in):
        # a plate's valid parking permit, read in the decision's transaction, and the staff's
        # phone credentials
        self.permit_for_plate: Callable[[Session, str, datetime], Any] | None = None
        self.staff: StaffCards | None = None

    def public_key(self) -> str:
        """The PEM public key terminals verify passes with, offline."""
        return passes.public_pem(self.visits.key)

    # -- the decision ---------------------------------------------------------------------------
    def decide(
        self,
        terminal: str,
        gate_id: str,
        direction: str,
        *,
        qr: str | None = None,
        plate: str | None = None,
        terminal_ts: datetime | None = None,
    ) -> dict[str, Any]:
        """Allow, deny or review what a terminal presents (exactly one of `qr` and `plate`)."""
        presented = Presented(terminal, gate_id, direction, qr, plate, terminal_ts)
        result = self.decide_many([presented])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def decide_many(self, batch: list[Presented]) -> list[dict[str, Any] | Exception]:
        """Decide a batch in one serialised transaction (one commit for all: group commit),
        in order, each seeing the ones before; an invalid item gets its error and spares the
        others. Should the transaction fail, each is retried on its own, so one cannot sink
        the rest."""
        results: list[dict[str, Any] | Exception] = []
        valid: list[int] = []
        for i, p in enumerate(batch):
            try:
                self._check(p)
                results.append(NotFound("not decided"))  # replaced below
                valid.append(i)
            except Invalid as err:
                results.append(err)
        if not valid:
            return results
        now = self.clock()
        try:
            with self.write("the visitor") as s:
                with s.no_autoflush:  # one flush for the batch, the rows in one statement
                    self._prefetch(s, [batch[i] for i in valid], now)
                    rows = [(i, *self._decide_in(s, batch[i], now)) for i in valid]
                s.flush()
                done = [
                    (i, decision_dict(row), host, arrived, self._denials(s, row, now))
                    for i, row, host, arrived in rows
                ]
        except Exception as err:
            if len(valid) == 1:
                results[valid[0]] = err
                return results
            for i in valid:  # one by one: a failure stays with its own item
                results[i] = self.decide_many([batch[i]])[0]
            return results
        for i, decision, host, arrived, denials in done:
            results[i] = decision
            self._after(decision, host, visitor_arrived=arrived, denials=denials)
        return results

    def _check(self, p: Presented) -> None:
        if p.gate_id not in self.gates:
            raise Invalid(f"no gate {p.gate_id!r}", field="gate_id")
        if p.direction not in ("in", "out"):
            raise Invalid("direction is in or out", field="direction")
        if (p.qr is None) == (p.plate is None):
            raise Invalid("present a qr or a plate", field="qr")

    def _decide_in(
        self, s: Session, p: Presented, now: datetime
    ) -> tuple[GateDecision, str | None, bool]:
        """One decision inside the transaction, its row added (not yet flushed): the row, the
        host to tell, and whether the visitor just arrived. The visitors it changes are the
        session's objects, so the next decision of the batch sees them."""
        evidence: dict[str, Any] = {}
        if p.terminal_ts is not None:
            skew = (p.terminal_ts - now).total_seconds()
            if abs(skew) > self.settings.clock_skew_s:
                evidence["terminal_clock_off_s"] = round(skew)  # the hub's clock decides
        if p.qr is not None:
            outcome, reason, subject, visitor, presented = self._by_pass(
                s, p.qr, p.gate_id, p.direction, now, evidence
            )
            credential = "qr"
        else:
            assert p.plate is not None
            outcome, reason, subject, visitor, presented = self._by_plate(
                s, p.plate, p.direction, now, evidence
            )
            credential = "plate"
        row = GateDecision(
            ts=now,
            gate_id=p.gate_id,
            direction=p.direction,
            credential=credential,
            presented=presented[:200],
            terminal=p.terminal,
            terminal_ts=p.terminal_ts,
            outcome=outcome,
            reason=reason,
            visitor_id=visitor.id if visitor else None,
            subject=subject,
            evidence=evidence,
        )
        s.add(row)
        visit = self._visit(s, visitor.visit_id) if visitor else None
        return row, visit.host if visit else None, bool(evidence.get("arrived"))

    def _by_pass(
        self,
        s: Session,
        token: str,
        gate_id: str,
        direction: str,
        now: datetime,
        evidence: dict[str, Any],
    ) -> tuple[str, str, str, Visitor | None, str]:
        leeway = timedelta(seconds=self.settings.clock_skew_s)
        try:
            body = passes.decode(self._verify_key, token.strip(), leeway)
            if body.get("typ") == "staff":
                return by_staff(self.staff, s, body, gate_id, direction, now, evidence)
            claims = passes.claims_of(body, now, leeway)
        except passes.PassError as err:
            return "deny", str(err), "", None, token.strip()[:40]
        presented = claims.pass_id
        if claims.gates and gate_id not in claims.gates:
            return "deny", f"the pass is not for {gate_id}", claims.label, None, presented
        v = self._visitor(s, claims.visitor)
        if v is None or v.pass_id != claims.pass_id:
            return "deny", "unknown pass", claims.label, None, presented
        visit = self._visit(s, v.visit_id)
        if v.pass_revoked or visit is None or visit.status != "approved":
            return "deny", "the pass is revoked", claims.label, v, presented
        label = mask(v.name)
        if direction == "in":
            if v.inside:
                return "deny", "already inside: no exit since the last entry", label, v, presented
            if v.entries_used >= v.entries_allowed:
                return "deny", "no entries left on this pass", label, v, presented
            v.inside, v.entries_used, v.status = True, v.entries_used + 1, "arrived"
            if v.arrived_at is None:
                v.arrived_at = now
                evidence["arrived"] = True
            return "allow", "visitor pass", label, v, presented
        if not v.inside:
            return "review", "no entry recorded for this pass", label, v, presented
        v.inside, v.left_at = False, now
        if not v.car_inside:
            v.status = "left"
        return "allow", "visitor leaving", label, v, presented

    def _by_plate(
        self, s: Session, read: str, direction: str, now: datetime, evidence: dict[str, Any]
    ) -> tuple[str, str, str, Visitor | None, str]:
        idx = self.index.get(s, now)
        presented = normalise(read)[:16] or "?"
        m = held(s, "matches", read, lambda: idx.registry.match(read))
        evidence["read"] = read
        if m.fixes:
            evidence["corrections"] = list(m.fixes)
        if m.plate and idx.lists.get(m.plate) == "block":
            return "deny", "blocked plate", m.plate, None, presented
        plate = m.exact or m.plate
        if plate and plate in idx.more and (find := self.permit_for_plate) is not None:
            # a plate the index knows as a permit's is asked about at the decision itself: a
            # revoked permit opens no gate from that moment, on any worker
            permit = held(s, "permits", plate, lambda: find(s, plate, now))
            if permit is not None:
                evidence["permit"] = permit.number
                return "allow", "staff permit", plate, None, presented
        if m.exact and idx.lists.get(m.exact) == "allow":
            return "allow", "staff car", m.exact, None, presented
        if m.exact and m.exact in idx.cars:
            vid, opens, closes = idx.cars[m.exact]
            if not opens <= now <= closes:
                return "deny", "this visitor car is not expected now", m.exact, None, presented
            v = self._visitor(s, vid)
            visit = self._visit(s, v.visit_id) if v else None
            if v is None or visit is None or v.pass_revoked or visit.status != "approved":
                return "deny", "the visit is cancelled", m.exact, v, presented
            return self._car(v, m.exact, direction, now, evidence, presented)
        if m.near:
            evidence["candidates"] = list(m.near)
            return (
                "review",
                "near match: a guard should look",
                m.plate or presented,
                None,
                presented,
            )
        if m.plate is None:
            return "deny", f"unreadable plate ({m.problem})", presented, None, presented
        return "deny", "unknown plate", m.plate, None, presented

    @staticmethod
    def _car(
        v: Visitor,
        plate: str,
        direction: str,
        now: datetime,
        evidence: dict[str, Any],
        presented: str,
    ) -> tuple[str, str, str, Visitor | None, str]:
        label = f"{plate} {mask(v.name)}"
        if direction == "in":
            if v.car_inside:
                return "deny", "already inside: no exit since the last entry", label, v, presented
            if v.car_entries_used >= v.entries_allowed:
                return "deny", "no entries left for this car", label, v, presented
            v.car_inside, v.car_entries_used = True, v.car_entries_used + 1
            if v.arrived_at is None:
                v.arrived_at, v.status = now, "arrived"
                evidence["arrived"] = True
            return "allow", "visitor car", label, v, presented
        if not v.car_inside:
            return "review", "no entry recorded for this car", label, v, presented
        v.car_inside = False
        if not v.inside:
            v.status, v.left_at = "left", now
        return "allow", "visitor car leaving", label, v, presented

    def _prefetch(self, s: Session, batch: list[Presented], now: datetime) -> None:
        """Lock and load in one query the visitors whose cars the batch's plates are (each
        decision then finds its visitor in the transaction; a pass's visitor is known only
        once its signature is checked, and is loaded then)."""
        idx = self.index.get(s, now)
        ids = set()
        for p in batch:
            if (plate := p.plate) is None:
                continue
            # matched once: `_by_plate` finds the match held in the transaction
            exact = held(s, "matches", plate, lambda: idx.registry.match(plate)).exact
            if exact in idx.cars:
                ids.add(idx.cars[exact][0])
        if ids:
            q = select(Visitor).where(Visitor.id.in_(ids)).with_for_update()
            s.info.setdefault("visitors", {}).update({v.id: v for v in s.scalars(q)})

    @staticmethod
    def _visitor(s: Session, visitor_id: int) -> Visitor | None:
        """A visitor, locked for the rest of the transaction (once per transaction)."""

        def load() -> Visitor | None:
            return s.scalar(select(Visitor).where(Visitor.id == visitor_id).with_for_update())

        return held(s, "visitors", visitor_id, load)

    @staticmethod
    def _visit(s: Session, visit_id: int) -> Visit | None:
        """A visit, loaded once per transaction (a group's cars share it; the session's
        identity map alone would let it go between decisions)."""
        return held(s, "visits", visit_id, lambda: s.get(Visit, visit_id))

    def _denials(self, s: Session, row: GateDecision, now: datetime) -> int:
        """The refusals of a refused credential in the alarm window, this one included."""
        if row.outcome != "deny":
            return 0
        since = now - timedelta(minutes=self.settings.denied_window_min)
        q = select(func.count()).where(
            GateDecision.presented == row.presented,
            GateDecision.outcome == "deny",
            GateDecision.ts >= since,
        )
        return int(s.scalar(q) or 0)

    def _after(
        self, d: dict[str, Any], host: str | None, *, visitor_arrived: bool, denials: int
    ) -> None:
        """Tell the screens, the host, and security when refusals repeat."""
        now = datetime.fromisoformat(d["ts"])
        self._announce(
            GateEvent(
                gate_id=d["gate_id"],
                direction=GateDirection(d["direction"]),
                allowed=d["outcome"] == "allow",
                ts=now,
                credential=d["credential"],
                subject=d["subject"],
                reason=d["reason"] if d["outcome"] != "review" else f"review: {d['reason']}",
            )
        )
        if visitor_arrived and host:
            gate = self.gates[d["gate_id"]].name
            self._announce(
                Notice(
                    topic="visit.arrived",
                    subject=f"【访客到达】{d['subject']} 已从{gate}进入",
                    body=(
                        f"您预约的访客 {d['subject']} 已于 "
                        f"{now.astimezone(self.tz):%H:%M} 从{gate}进入。"
                    ),
                    ts=now,
                    notify=(host,),
                    key=f"visit:{d['visitor_id']}",
                    link="/visits.html",
                )
            )
        if denials >= self.settings.denied_alarm and self._alarms is not None:
            self._alarms.raise_alarm(
                rule=RULE,
                originator=d["gate_id"],
                type="gate_denied_repeatedly",
                severity="major",
                message=f"{d['presented']} refused {denials} times within "
                f"{self.settings.denied_window_min} minutes ({d['reason']})",
                ticket=False,
                now=now,
                say=Say(
                    "gate.denied",
                    {
                        "gate_id": d["gate_id"],
                        "presented": d["presented"],
                        "count": denials,
                        "window": self.settings.denied_window_min,
                        "reason": d["reason"],
                    },
                ),
            )
