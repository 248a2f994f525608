"""Gate decisions: a plate read or a QR scan from a gate terminal becomes allow, deny or
review (a guard looks at a near match instead of a flat deny), in one call, with the reason
and the evidence logged; anti-passback; guards' reviews and manual overrides, audited;
alarms for repeated refusals and for visitors still inside after their visit; the host is told
of arrival and overstay."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.domain import GateDirection, GateEvent, Notice
from hub.errors import Conflict, Invalid, NotFound
from hub.identity.roles import Principal
from hub.services.alarms import AlarmService
from hub.services.booking.txn import Serialised
from hub.services.gate import passes
from hub.services.gate.plates import PlateError, Registry, normalise, parse
from hub.services.gate.queue import DecisionQueue, Presented
from hub.services.gate.visits import VisitService, mask
from hub.storage.audit import record
from hub.storage.models import GateDecision, PlateListEntry, Visit, Visitor

RULE = "gate"  # the rule id of the gate's alarms (routes notifications to security)
INDEX_TTL_S = 10.0  # the plate index is rebuilt at least this often


@dataclass(frozen=True, slots=True)
class _Index:
    built: float  # monotonic
    lists: dict[str, str]  # plate -> allow / block
    cars: dict[str, tuple[int, datetime, datetime]]  # plate -> visitor, expected from, until
    registry: Registry


class GateService:
    """Decisions at the site's gates, on the relational database."""

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
        self._index: _Index | None = None
        visits.listeners.append(self._invalidate)
        # what terminals present, decided in batches on a thread of their own
        self.queue = DecisionQueue(self.decide_many)

    @property
    def clock(self) -> Callable[[], datetime]:
        """The visits' clock."""
        return self.visits.clock

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
                done = [(i, *self._decide_in(s, batch[i], now)) for i in valid]
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
    ) -> tuple[dict[str, Any], str | None, bool, int]:
        """One decision inside the transaction: the decision, the host to tell, whether the
        visitor just arrived, and the refusals of this credential in the alarm window."""
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
        s.flush()
        host = self._host(s, visitor)
        denials = self._recent_denials(s, presented, now) if outcome == "deny" else 0
        return self._public(row), host, bool(evidence.get("arrived")), denials

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
            claims = passes.verify(self._verify_key, token.strip(), now, leeway)
        except passes.PassError as err:
            return "deny", str(err), "", None, token.strip()[:40]
        presented = claims.pass_id
        if claims.gates and gate_id not in claims.gates:
            return "deny", f"the pass is not for {gate_id}", claims.label, None, presented
        v = s.scalar(select(Visitor).where(Visitor.id == claims.visitor).with_for_update())
        if v is None or v.pass_id != claims.pass_id:
            return "deny", "unknown pass", claims.label, None, presented
        visit = s.get(Visit, v.visit_id)
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

    def _invalidate(self) -> None:
        self._index = None

    def _plates(self, s: Session, now: datetime) -> _Index:
        """The listed plates and the visitor cars expected around now, indexed for matching;
        rebuilt when this process changes visits or lists, and at least every
        `INDEX_TTL_S` (changes made by another hub worker)."""
        idx = self._index
        if idx is not None and time.monotonic() - idx.built < INDEX_TTL_S:
            return idx
        lists = {e.plate: e.kind for e in s.scalars(select(PlateListEntry))}
        early = timedelta(minutes=self.settings.early_min)
        late = timedelta(minutes=self.settings.overstay_grace_min)
        margin = timedelta(seconds=INDEX_TTL_S)
        q = (
            select(Visitor.id, Visitor.plate, Visit.start, Visit.end)
            .join(Visit, Visit.id == Visitor.visit_id)
            .where(
                Visit.status == "approved",
                Visit.start <= now + early + margin,
                Visit.end >= now - late - margin,
                Visitor.plate.is_not(None),
                Visitor.pass_revoked.is_(False),
            )
        )
        cars = {
            str(plate): (vid, start - early, end + late) for vid, plate, start, end in s.execute(q)
        }
        idx = self._index = _Index(time.monotonic(), lists, cars, Registry([*lists, *cars]))
        return idx

    def _by_plate(
        self, s: Session, read: str, direction: str, now: datetime, evidence: dict[str, Any]
    ) -> tuple[str, str, str, Visitor | None, str]:
        idx = self._plates(s, now)
        presented = normalise(read)[:16] or "?"
        m = idx.registry.match(read)
        evidence["read"] = read
        if m.fixes:
            evidence["corrections"] = list(m.fixes)
        if m.plate and idx.lists.get(m.plate) == "block":
            return "deny", "blocked plate", m.plate, None, presented
        if m.exact and idx.lists.get(m.exact) == "allow":
            return "allow", "staff car", m.exact, None, presented
        if m.exact and m.exact in idx.cars:
            vid, opens, closes = idx.cars[m.exact]
            if not opens <= now <= closes:
                return "deny", "this visitor car is not expected now", m.exact, None, presented
            v = s.scalar(select(Visitor).where(Visitor.id == vid).with_for_update())
            visit = s.get(Visit, v.visit_id) if v else None
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
            v.car_inside = True
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

    def _host(self, s: Session, visitor: Visitor | None) -> str | None:
        if visitor is None:
            return None
        visit = s.get(Visit, visitor.visit_id)
        return visit.host if visit else None

    def _recent_denials(self, s: Session, presented: str, now: datetime) -> int:
        since = now - timedelta(minutes=self.settings.denied_window_min)
        q = select(func.count()).where(
            GateDecision.presented == presented,
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
            )

    @staticmethod
    def _public(row: GateDecision) -> dict[str, Any]:
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

    # -- guards ---------------------------------------------------------------------------------
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
            return [self._public(r) for r in s.scalars(q)]

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
            out = self._public(row)
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
            idx = self._plates(s, now)
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
            out = self._public(row)
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
            return [self._public(r) for r in s.scalars(q)]

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
            raise Invalid(str(err), field="plate") from None
        with self._db.session() as s:
            if s.scalar(select(PlateListEntry).where(PlateListEntry.plate == normal)) is not None:
                raise Conflict(f"{normal} is listed already")
            s.add(
                PlateListEntry(plate=normal, kind=kind, owner=owner, note=note, created_by=who.name)
            )
            record(s, who.name, f"gate.plate_{kind}", normal, owner=owner)
        self._invalidate()
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
        self._invalidate()

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
                        )
                    )
                visit.overstay_alarmed = True
                changed += 1
        for n in notices:
            self._announce(n)
        return changed + self.visits.purge(now)
