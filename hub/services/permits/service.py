"""Cards and permits (卡证办理): a person applies from their phone with the documents the kind
asks for; the kind's chain approves (their unit's approvers, then the back office), returns it
for changes or refuses it; the window issues it (the holder is told it is ready) and hands it
over; it is renewed before it expires (the holder reminded), reported lost, suspended, revoked.
What a permit does: an issued parking permit's plate opens the gate while it is valid (the
gate asks at every decision, so a revocation holds at once on every hub worker); door access
is exported per door for the access-control system."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.domain import Notice
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.identity.roles import Principal, Role
from hub.services.approvals import history
from hub.services.gate.plates import normalise
from hub.services.images import NotAnImage, clean_photo, keep_photo, photo_bytes
from hub.services.permits.credential import StaffCredentials
from hub.site import Site
from hub.site.permits import DOCUMENTS, PermitKind, permit_kinds
from hub.storage import Database
from hub.storage.audit import record
from hub.storage.models import ApprovalStep, Permit, PermitEntry

Announce = Callable[[Notice], None]
WAITING = ("applied",)
LIVE = ("issued", "collected")  # valid cards: what the gate and the door lists honour
HELD = ("applied", "returned", "approved", "issued", "collected", "suspended")  # a plate's
ENDED = ("refused", "lost", "revoked", "expired", "replaced")
MAX_DOCUMENT = 6 * 1024 * 1024
WORDS = {
    "approved": "已通过",
    "returned": "退回修改",
    "refused": "未通过",
    "issued": "已制证，请到窗口领取",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Permits:
    """Applications, approvals, the window and the register."""

    def __init__(
        self,
        db: Database,
        site: Site,
        files: Path,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = db
        self.site = site
        self.files = files
        self.clock = clock
        self.kinds: dict[str, PermitKind] = permit_kinds(site)
        self.approvers = {u.id: list(u.approvers) for u in site.work_units}
        self.doors = {b.id for b in site.buildings} | {r.id for r in site.rooms}
        self.tz = ZoneInfo(site.site.timezone)
        self.announce: Announce = lambda _n: None
        self.credentials: StaffCredentials | None = None  # the phones' codes (assembled)

    # -- applying ---------------------------------------------------------------------------
    def apply(
        self,
        who: Principal,
        kind: str,
        *,
        documents: dict[str, str] | None = None,
        plate: str | None = None,
        doors: Sequence[str] = (),
        note: str = "",
        renews: int | None = None,
    ) -> dict[str, Any]:
        """An application, with every document the kind asks for (photos: data URLs); a
        parking permit's plate, door access's doors. Nothing is kept if anything is wrong."""
        k = self._kind(kind)
        docs = documents or {}
        missing = [d for d in k.documents if not docs.get(d)]
        if missing:
            raise Invalid(
                f"the application needs {', '.join(missing)}",
                field="documents",
                key="permit.document",
                document=DOCUMENTS[missing[0]],
                document_en=missing[0].replace("_", " "),
            )
        stray = [d for d in docs if d not in k.documents]
        if stray:
            raise Invalid(f"{stray[0]} is not asked for", field="documents", key="permit.stray")
        normal = self._plate(k, plate)
        doors = self._doors(k, doors)
        cleaned = {d: self._document(docs[d]) for d in k.documents}
        now = self.clock()
        with self._db.session() as s:
            old = self._renewing(s, who, k, renews) if renews is not None else None
            if normal:
                self._plate_free(s, normal, old.id if old else None)
            p = Permit(
                kind=k.id,
                holder=who.name,
                unit=who.work_unit,
                status="applied",
                step=0,
                plate=normal or (old.plate if old else None),
                doors=doors or (old.doors if old else []),
                documents={},
                note=note.strip()[:1000],
                renews=old.id if old else None,
                applied_at=now,
                updated_at=now,
            )
            s.add(p)
            s.flush()
            p.documents = {
                d: keep_photo(self.files, f"p{p.id}-{d}", data) for d, data in cleaned.items()
            }
            self._log(s, p, who.name, "applied", now, renews=p.renews)
            record(s, who.name, "permit.apply", str(p.id), kind=k.id)
            told = self._advance(s, p, now) if not k.chain else self._tell_deciders(s, p)
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    def _kind(self, kind: str) -> PermitKind:
        if kind not in self.kinds:
            raise Invalid(f"no kind {kind!r}", field="kind", key="permit.kind")
        return self.kinds[kind]

    def _plate(self, k: PermitKind, plate: str | None) -> str | None:
        if not k.plate:
            if plate:
                raise Invalid("this kind takes no plate", field="plate", key="permit.stray")
            return None
        normal = normalise(plate or "")
        if not normal or len(normal) < 5:
            raise Invalid(
                "a parking permit needs the car's plate", field="plate", key="permit.plate"
            )
        return normal

    def _doors(self, k: PermitKind, doors: Sequence[str]) -> list[str]:
        if not k.doors:
            if doors:
                raise Invalid("this kind opens no doors", field="doors", key="permit.stray")
            return []
        unknown = [d for d in doors if d not in self.doors]
        if unknown or not doors:
            raise Invalid("name the buildings or rooms", field="doors", key="permit.doors")
        return list(dict.fromkeys(doors))

    @staticmethod
    def _document(data_url: str) -> bytes:
        try:
            data = photo_bytes(data_url)
            if len(data) > MAX_DOCUMENT:
                raise Invalid(
                    "a document's photo is too large", field="documents", key="permit.size"
                )
            return clean_photo(data)
        except NotAnImage as err:
            raise Invalid(f"document: {err}", field="documents", key="permit.photo") from None

    def _plate_free(self, s: Session, plate: str, renewing: int | None) -> None:
        q = select(Permit.id).where(Permit.plate == plate, Permit.status.in_(HELD))
        other = [i for i in s.scalars(q) if i != renewing]
        if other:
            raise Conflict(
                f"{plate} holds a permit already (#{other[0]})",
                key="permit.plate_taken",
                plate=plate,
            )

    def _renewing(self, s: Session, who: Principal, k: PermitKind, renews: int) -> Permit:
        old = s.get(Permit, renews)
        if old is None or old.holder != who.name or old.kind != k.id or old.status not in LIVE:
            raise Conflict("only a valid card of yours is renewed", key="permit.renew")
        return old

    # -- the chain --------------------------------------------------------------------------
    def deciders(self, p: Permit) -> tuple[list[str], str | None]:
        """Who takes the permit's next step: a unit's approvers (usernames), or a role."""
        chain = self.kinds[p.kind].chain
        if p.step >= len(chain):
            return [], None
        step = chain[p.step]
        if step == "unit":
            names = [a for a in self.approvers.get(p.unit or "", []) if a != p.holder]
            return (names, None) if names else ([], Role.ADMIN.value)
        return [], step

    def may_decide(self, who: Principal, p: Permit) -> bool:
        """Whether `who` takes the permit's next step (never their own)."""
        if p.status != "applied" or who.name == p.holder:
            return False
        names, role = self.deciders(p)
        return (
            who.name in names
            or (role is not None and role in {r.value for r in who.roles})
            or (Role.ADMIN in who.roles)
        )

    def decide(self, who: Principal, permit_id: int, action: str, note: str = "") -> dict[str, Any]:
        """approve (the next step, or through), return (for changes, with a note) or refuse
        (with a reason)."""
        if action not in ("approve", "return", "refuse"):
            raise Invalid("approve, return or refuse", field="action", key="permit.action")
        if action != "approve" and not note.strip():
            raise Invalid("say why", field="note", key="permit.note")
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if p.status != "applied":
                raise Conflict(
                    f"the application is {p.status}", key="permit.state", status_word=p.status
                )
            if not self.may_decide(who, p):
                names, role = self.deciders(p)
                raise Forbidden(
                    "this step is not yours",
                    key="approval.not_yours",
                    whom=", ".join(names) or role or "",
                )
            s.add(
                ApprovalStep(
                    kind="permit",
                    subject=str(p.id),
                    unit=p.unit,
                    step=p.step + 1,
                    approver=who.name,
                    approved=action == "approve",
                    note=note.strip(),
                    at=now,
                )
            )
            record(s, who.name, f"permit.{action}", str(p.id))
            if action == "approve":
                p.step += 1
                self._log(s, p, who.name, "approved", now, note.strip() or None, step=p.step)
                told = self._advance(s, p, now)
            else:
                p.status = "returned" if action == "return" else "refused"
                p.reason = note.strip()
                p.ended_at = now if action == "refuse" else None
                self._log(s, p, who.name, p.status, now, note.strip())
                told = self._tell(p, p.status, note.strip(), [p.holder])
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    def _advance(self, s: Session, p: Permit, now: datetime) -> Notice | None:
        """Through the chain: approved (the window is told); else the next deciders are."""
        if p.step < len(self.kinds[p.kind].chain):
            return self._tell_deciders(s, p)
        p.status, p.approved_at = "approved", now
        issuer = self.kinds[p.kind].issuer
        return self._tell(p, "approved", "请制证", [p.holder, f"role:{issuer}"])

    def _tell_deciders(self, s: Session, p: Permit) -> Notice | None:
        names, role = self.deciders(p)
        return self._tell(
            p, "to_approve", f"{p.holder} 申请", [*names, *([f"role:{role}"] if role else [])]
        )

    def resubmit(
        self,
        who: Principal,
        permit_id: int,
        *,
        documents: dict[str, str] | None = None,
        plate: str | None = None,
        doors: Sequence[str] | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """A returned application, changed and sent again (its chain from the start)."""
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if p.holder != who.name or p.status != "returned":
                raise Conflict(
                    "only a returned application of yours", key="permit.state", status_word=p.status
                )
            k = self.kinds[p.kind]
            if plate is not None and k.plate:
                p.plate = self._plate(k, plate)
                self._plate_free(s, p.plate or "", p.id)
            if doors is not None and k.doors:
                p.doors = self._doors(k, doors)
            for d, url in (documents or {}).items():
                if d not in k.documents:
                    raise Invalid(f"{d} is not asked for", field="documents", key="permit.stray")
                p.documents = {
                    **p.documents,
                    d: keep_photo(self.files, f"p{p.id}-{d}", self._document(url)),
                }
            if note is not None:
                p.note = note.strip()[:1000]
            p.status, p.step, p.reason = "applied", 0, None
            self._log(s, p, who.name, "resubmitted", now)
            told = self._advance(s, p, now) if not k.chain else self._tell_deciders(s, p)
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    # -- the window -------------------------------------------------------------------------
    def _window(self, who: Principal, p: Permit) -> None:
        if Role.ADMIN in who.roles or self.kinds[p.kind].issuer in {r.value for r in who.roles}:
            return
        raise Forbidden("the window that issues this kind does this", key="forbidden")

    def issue(self, who: Principal, permit_id: int) -> dict[str, Any]:
        """Made and ready at the window: numbered, valid from now; its holder is told. A
        renewal replaces the card it renews."""
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            self._window(who, p)
            if p.status != "approved":
                raise Conflict(
                    f"the application is {p.status}", key="permit.state", status_word=p.status
                )
            k = self.kinds[p.kind]
            p.status, p.issued_at = "issued", now
            p.valid_from, p.valid_until = now, now + timedelta(days=k.valid_days)
            p.number = f"{k.id.upper()[:3]}-{now.astimezone(self.tz):%Y}-{p.id:05d}"
            if p.renews is not None and (old := s.get(Permit, p.renews)) is not None:
                old.status, old.ended_at = "replaced", now
                self._log(s, old, who.name, "replaced", now, f"#{p.id}")
            self._log(s, p, who.name, "issued", now, number=p.number)
            record(s, who.name, "permit.issue", str(p.id), number=p.number, plate=p.plate)
            told = self._tell(p, "issued", f"编号 {p.number}", [p.holder])
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    def act(self, who: Principal, permit_id: int, action: str, note: str = "") -> dict[str, Any]:
        """At the window: collected (handed over), suspend, resume, revoke. The holder: lost."""
        moves = {
            "collect": (("issued",), "collected"),
            "suspend": (LIVE, "suspended"),
            "resume": (("suspended",), None),
            "revoke": ((*LIVE, "suspended", "approved"), "revoked"),
            "lost": ((*LIVE, "suspended"), "lost"),
        }
        if action not in moves:
            raise Invalid(
                "collect, suspend, resume, revoke or lost", field="action", key="permit.action"
            )
        now = self.clock()
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if action == "lost":
                if p.holder != who.name and Role.ADMIN not in who.roles:
                    self._window(who, p)
            else:
                self._window(who, p)
            allowed, to = moves[action]
            if p.status not in allowed:
                raise Conflict(f"the card is {p.status}", key="permit.state", status_word=p.status)
            if action in ("suspend", "revoke") and not note.strip():
                raise Invalid("say why", field="note", key="permit.note")
            p.status = to or ("collected" if p.collected_at else "issued")
            if action == "collect":
                p.collected_at = now
            if p.status in ENDED:
                p.ended_at, p.reason = now, note.strip() or None
            self._log(s, p, who.name, action, now, note.strip() or None)
            record(s, who.name, f"permit.{action}", str(p.id), plate=p.plate)
            told = self._tell(p, action, note.strip(), [p.holder]) if action != "collect" else None
            out = self._dict(s, p)
        if told:
            self.announce(told)
        return out

    # -- reading ----------------------------------------------------------------------------
    def mine(self, who: Principal) -> list[dict[str, Any]]:
        """This person's cards and applications, newest first."""
        q = select(Permit).where(Permit.holder == who.name).order_by(Permit.id.desc()).limit(100)
        with self._db.session() as s:
            return [self._dict(s, p) for p in s.scalars(q)]

    def one(self, who: Principal, permit_id: int) -> dict[str, Any]:
        """A card or application with its history: its holder's, its deciders', the window's."""
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if not (p.holder == who.name or self.may_decide(who, p) or self._sees_register(who, p)):
                raise NotFound(f"no permit {permit_id}", key="not_found", what=f"#{permit_id}")
            return self._dict(s, p, full=True)

    def _sees_register(self, who: Principal, p: Permit | None = None) -> bool:
        roles = {r.value for r in who.roles}
        if Role.ADMIN in who.roles or Role.MANAGER in who.roles:
            return True
        issuers = (
            {k.issuer for k in self.kinds.values()} if p is None else {self.kinds[p.kind].issuer}
        )
        return bool(roles & issuers) or (
            p is not None and p.kind in self.kinds and bool(roles & set(self.kinds[p.kind].chain))
        )

    def waiting_for(self, who: Principal) -> list[dict[str, Any]]:
        """Applications whose next step is this person's (the home's approvals)."""
        with self._db.session() as s:
            q = select(Permit).where(Permit.status == "applied").order_by(Permit.id).limit(500)
            return [self._dict(s, p) for p in s.scalars(q) if self.may_decide(who, p)]

    def register(
        self, who: Principal, *, kind: str | None = None, status: str | None = None, q: str = ""
    ) -> list[dict[str, Any]]:
        """Every card and application the reader's window (or a manager, an administrator)
        sees, newest first."""
        if not self._sees_register(who):
            raise Forbidden("the windows and managers read the register", key="forbidden")
        query = select(Permit).order_by(Permit.id.desc()).limit(500)
        if kind:
            query = query.where(Permit.kind == kind)
        if status:
            query = query.where(Permit.status == status)
        if q.strip():
            like = f"%{q.strip()}%"
            query = query.where(
                Permit.holder.like(like)
                | Permit.plate.like(like.upper())
                | Permit.number.like(like)
            )
        with self._db.session() as s:
            return [self._dict(s, p) for p in s.scalars(query) if self._sees_register(who, p)]

    def figures(self, who: Principal, year: int) -> dict[str, Any]:
        """Per kind and month: applications, issued, refused, and the days from application to
        issue (median and mean)."""
        if not self._sees_register(who):
            raise Forbidden("the windows and managers read the figures", key="forbidden")
        start, end = datetime(year, 1, 1, tzinfo=self.tz), datetime(year + 1, 1, 1, tzinfo=self.tz)
        cells: dict[tuple[int, str], dict[str, Any]] = defaultdict(
            lambda: {"applied": 0, "issued": 0, "refused": 0, "days": []}
        )
        with self._db.session() as s:
            q = select(Permit).where(Permit.applied_at >= start, Permit.applied_at < end)
            for p in s.scalars(q):
                month = p.applied_at.astimezone(self.tz).month
                for key in ((month, p.kind), (month, ""), (0, p.kind), (0, "")):
                    c = cells[key]
                    c["applied"] += 1
                    c["refused"] += p.status == "refused"
                    if p.issued_at is not None:
                        c["issued"] += 1
                        c["days"].append((p.issued_at - p.applied_at).total_seconds() / 86400)
        rows = []
        for (month, kind), c in sorted(cells.items(), key=lambda kv: (kv[0][0] or 13, kv[0][1])):
            days = c.pop("days")
            rows.append(
                {
                    "month": month,
                    "kind": kind,
                    **c,
                    "days_median": round(statistics.median(days), 2) if days else None,
                    "days_mean": round(statistics.fmean(days), 2) if days else None,
                }
            )
        return {"year": year, "kinds": {k: v.name for k, v in self.kinds.items()}, "rows": rows}

    def door_list(
        self, who: Principal, now: datetime | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """Per door (building or room), the valid door-access permits: for the access-control
        system."""
        if not (Role.ADMIN in who.roles or Role.SECURITY in who.roles):
            raise Forbidden("security exports door access", key="forbidden")
        now = now or self.clock()
        out: dict[str, list[dict[str, Any]]] = {}
        with self._db.session() as s:
            q = select(Permit).where(
                Permit.status.in_(LIVE), Permit.valid_until > now, Permit.valid_from <= now
            )
            for p in s.scalars(q.order_by(Permit.id)):
                for door in p.doors or []:
                    out.setdefault(door, []).append(
                        {
                            "number": p.number,
                            "holder": p.holder,
                            "unit": p.unit,
                            "valid_until": p.valid_until.isoformat() if p.valid_until else None,
                        }
                    )
        return out

    def document(self, who: Principal, permit_id: int, name: str) -> Path:
        """A document's photo, for the holder, the deciders and the window."""
        with self._db.session() as s:
            p = self._get(s, permit_id)
            if not (p.holder == who.name or self.may_decide(who, p) or self._sees_register(who, p)):
                raise NotFound(f"no permit {permit_id}", key="not_found", what=f"#{permit_id}")
            if name not in (p.documents or {}):
                raise NotFound("no such document", key="not_found", what=name)
            return self.files / p.documents[name]

    # -- the gate ---------------------------------------------------------------------------
    @staticmethod
    def for_plate(s: Session, plate: str, now: datetime) -> Permit | None:
        """The valid parking permit of a plate now (read in the gate's own transaction)."""
        q = select(Permit).where(
            Permit.plate == plate,
            Permit.status.in_(LIVE),
            Permit.valid_from <= now,
            Permit.valid_until > now,
        )
        return s.scalar(q.limit(1))

    @staticmethod
    def plates(s: Session, now: datetime) -> list[str]:
        """The plates holding valid parking permits (for the gate's matching of camera reads)."""
        q = select(Permit.plate).where(
            Permit.plate.is_not(None), Permit.status.in_(LIVE), Permit.valid_until > now
        )
        return [p for p in s.scalars(q) if p]

    # -- the hub's jobs ---------------------------------------------------------------------
    def sweep(self) -> int:
        """Expire the cards past their validity; remind holders of those about to expire;
        how many changed."""
        now = self.clock()
        told: list[Notice | None] = []
        n = 0
        with self._db.session() as s:
            for p in s.scalars(
                select(Permit).where(
                    Permit.status.in_((*LIVE, "suspended")), Permit.valid_until <= now
                )
            ):
                p.status, p.ended_at = "expired", now
                self._log(s, p, "hub", "expired", now)
                n += 1
            for p in s.scalars(
                select(Permit).where(Permit.status.in_(LIVE), Permit.reminded_at.is_(None))
            ):
                k = self.kinds.get(p.kind)
                if k and p.valid_until and p.valid_until - timedelta(days=k.remind_days) <= now:
                    p.reminded_at = now
                    self._log(s, p, "hub", "reminded", now)
                    when = p.valid_until.astimezone(self.tz)
                    told.append(
                        self._tell(p, "renew", f"将于 {when:%Y-%m-%d} 到期，请及时续办", [p.holder])
                    )
                    n += 1
        for t in told:
            if t:
                self.announce(t)
        return n

    def purge(self, before: datetime) -> int:
        """Delete the documents' photos of applications decided (issued, refused, ended)
        before `before`: personal data kept no longer than it is needed."""
        n = 0
        with self._db.session() as s:
            q = select(Permit).where(
                Permit.purged_at.is_(None),
                Permit.status.not_in(("applied", "returned", "approved")),
                Permit.updated_at < before,
            )
            for p in s.scalars(q):
                for f in (p.documents or {}).values():
                    (self.files / f).unlink(missing_ok=True)
                p.documents, p.purged_at = {}, self.clock()
                n += 1
            if n:
                record(s, "hub", "permit.purge", "", permits=n, before=before.isoformat())
        return n

    # -- helpers ----------------------------------------------------------------------------
    def _get(self, s: Session, permit_id: int) -> Permit:
        p = s.get(Permit, permit_id)
        if p is None:
            raise NotFound(f"no permit {permit_id}", key="not_found", what=f"#{permit_id}")
        return p

    @staticmethod
    def _log(
        s: Session,
        p: Permit,
        actor: str,
        action: str,
        now: datetime,
        note: str | None = None,
        **detail: Any,
    ) -> None:
        s.add(
            PermitEntry(
                permit_id=p.id, ts=now, actor=actor, action=action, note=note, detail=detail
            )
        )
        p.updated_at = now

    def _tell(self, p: Permit, what: str, body: str, people: Sequence[str | None]) -> Notice | None:
        names = tuple(sorted({x for x in people if x}))
        if not names:
            return None
        k = self.kinds[p.kind]
        word = WORDS.get(
            what,
            {
                "to_approve": "待审批",
                "renew": "续办提醒",
                "suspend": "已暂停",
                "resume": "已恢复",
                "revoke": "已注销",
                "lost": "已挂失",
            }.get(what, what),
        )
        return Notice(
            topic=f"permit.{what}",
            subject=f"【{k.name}】{word}",
            body=body,
            ts=self.clock(),
            notify=names,
            key=f"permit:{p.id}:{what}:{p.updated_at.isoformat()}",
            link=f"/permits.html#permit={p.id}",
        )

    def _dict(self, s: Session, p: Permit, *, full: bool = False) -> dict[str, Any]:
        k = self.kinds.get(p.kind)
        names, role = self.deciders(p) if p.status == "applied" else ([], None)
        out: dict[str, Any] = {
            "id": p.id,
            "kind": p.kind,
            "kind_name": k.name if k else p.kind,
            "holder": p.holder,
            "unit": p.unit,
            "status": p.status,
            "step": p.step,
            "steps": len(k.chain) if k else 0,
            "waiting_for": names or ([role] if role else []),
            "plate": p.plate,
            "doors": p.doors or [],
            "documents": sorted(p.documents or {}),
            "note": p.note,
            "number": p.number,
            "renews": p.renews,
            "reason": p.reason,
            "applied_at": p.applied_at.isoformat(),
            "issued_at": _iso(p.issued_at),
            "collected_at": _iso(p.collected_at),
            "valid_from": _iso(p.valid_from),
            "valid_until": _iso(p.valid_until),
            "ended_at": _iso(p.ended_at),
        }
        if full:
            steps = list(
                s.scalars(
                    select(ApprovalStep)
                    .where(ApprovalStep.kind == "permit", ApprovalStep.subject == str(p.id))
                    .order_by(ApprovalStep.step)
                )
            )
            log = s.scalars(
                select(PermitEntry)
                .where(PermitEntry.permit_id == p.id)
                .order_by(PermitEntry.ts, PermitEntry.id)
            )
            out["approvals"] = history(steps)
            out["log"] = [
                {"ts": e.ts.isoformat(), "actor": e.actor, "action": e.action, "note": e.note}
                for e in log
            ]
        return out


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None
