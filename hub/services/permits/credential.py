"""The phone as the staff card (一机通): a person's phone shows a QR code that changes every
minute — a token signed with the gate's key, as visitors' passes are, bound to the person and
short-lived. The phone is given the codes for the next ten minutes at once, so it keeps
working without network for that long. Each code is taken once, wherever it is shown first (a
gate, the canteen's counter): a screenshot is refused after its minute, and a code shown at a
second place is refused as used."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.services.gate.passes import AUDIENCE, ISSUER, PassError, decode, in_time
from hub.storage import Database
from hub.storage.models import CredentialUse, Permit, User

KIND = "staff"  # the token's `typ`, beside visitors' passes
STEP = timedelta(seconds=60)  # each code's life
AHEAD = 10  # codes a phone is given at once: ten minutes without network
STAFF_CARD = "staff_card"  # the kind the phone stands in for
TAKEN_AWAY = ("suspended", "revoked", "lost")  # a card in these states: the phone is refused too


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Holder:
    """Whose credential was shown, and the code's id."""

    username: str
    label: str
    jti: str


class StaffCredentials:
    """Issuing a person's codes and taking them where they are shown."""

    def __init__(
        self,
        db: Database,
        key: Ed25519PrivateKey,
        names: dict[str, str],
        *,
        leeway: timedelta = timedelta(seconds=5),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = db
        self._key = key
        self._public = key.public_key()
        self.names = names  # username -> the name on the card
        self.leeway = leeway
        self.clock = clock

    def codes(self, username: str, count: int = AHEAD) -> list[dict[str, Any]]:
        """The next `count` codes (one a minute from now), each with when it is good."""
        now = self.clock().replace(microsecond=0)
        out = []
        for i in range(count):
            opens, closes = now + i * STEP, now + (i + 1) * STEP
            body = {
                "iss": ISSUER,
                "aud": AUDIENCE,
                "typ": KIND,
                "sub": username,
                "lbl": self.names.get(username, username),
                "jti": secrets.token_hex(12),
                "nbf": int(opens.timestamp()),
                "exp": int(closes.timestamp()),
            }
            token = jwt.encode(body, self._key, algorithm="EdDSA")
            out.append({"token": token, "from": opens.isoformat(), "until": closes.isoformat()})
        return out

    @staticmethod
    def looks_like(text: str) -> bool:
        """Whether a scanned text is a signed token (three dot-separated parts)."""
        return text.count(".") == 2 and len(text) > 40

    def take(self, s: Session, body: dict[str, Any], place: str, now: datetime) -> Holder:
        """A staff credential's decoded claims, checked and its code used up at `place` (in the
        caller's transaction); PassError saying why not."""
        in_time(body, now, self.leeway)
        username, jti = str(body.get("sub", "")), str(body.get("jti", ""))
        if body.get("typ") != KIND or not username or not jti:
            raise PassError("not a staff credential")
        active = s.scalar(select(User.active).where(User.username == username))
        if not active:
            raise PassError("the person's account is closed")
        card = s.scalar(  # the person's latest staff card, if they were ever given one
            select(Permit.status)
            .where(
                Permit.holder == username, Permit.kind == STAFF_CARD, Permit.issued_at.is_not(None)
            )
            .order_by(Permit.id.desc())
            .limit(1)
        )
        if card in TAKEN_AWAY:
            raise PassError(f"the person's staff card is {card}")
        used = s.get(CredentialUse, jti)
        if used is not None:
            raise PassError(f"this code was used already ({used.place})")
        try:
            with s.begin_nested():
                s.add(CredentialUse(jti=jti, username=username, place=place, ts=now))
        except IntegrityError:  # the same code at two places at once: the other one won
            raise PassError("this code was used already") from None
        return Holder(username, str(body.get("lbl", username)), jti)

    def verify(self, token: str, place: str) -> Holder:
        """Take a staff credential shown at `place` (the canteen's counter); PassError if not."""
        body = decode(self._public, token.strip(), self.leeway)
        now = self.clock()
        with self._db.session() as s:
            return self.take(s, body, place, now)

    def forget(self, before: datetime) -> int:
        """Forget codes used before `before` (long expired: they can never be shown again)."""
        with self._db.session() as s:
            done = s.execute(delete(CredentialUse).where(CredentialUse.ts < before))
            return int(done.rowcount or 0)  # type: ignore[attr-defined]
