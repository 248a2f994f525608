"""Checkpoint codes: a per-checkpoint TOTP (RFC 6238, 8 digits) that a display at the
checkpoint, or any programmable TOTP token, shows and the guard's phone scans.

    key(cp)  = base32(HMAC-SHA256(hub secret, "patrol-code:" + cp))
    code     = TOTP(key, period_s, 8 digits) at the scan's time
    payload  = "DYP1:<checkpoint>:<code>"   (the QR holds it, or a link ending #scan=<payload>)

An NFC tag at a checkpoint signs each tap instead (nfc.py): `DYN1:<checkpoint>:<PICCData>:
<SDMMAC>`, accepted once per tap counter.

A code is accepted for its own time step and `window_steps` steps after it (the walk from the
label to the phone's network), and one step early (a display's clock a little ahead); each
step once per guard (the scan table refuses a replay). A photo of the label is worthless once
its window has passed: such a code is told apart from a wrong one (it matched a step of the
last day) so the security room sees an attempt, not a typo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from hub.services.patrol import nfc
from hub.site import Site

PREFIX = "DYP1"
LOOK_BACK = timedelta(days=1)  # how far back an old code is recognised as expired


@dataclass(frozen=True, slots=True)
class Shown:
    """What a checkpoint's display shows now."""

    checkpoint: str
    payload: str
    code: str
    step: int
    valid_until: datetime  # the next code shows from then


@dataclass(frozen=True, slots=True)
class Checked:
    """A scanned code judged: the step it belongs to (an NFC tag's tap counter), or why not
    (`expired`, `wrong`, `unknown_checkpoint`, `malformed`)."""

    checkpoint: str
    step: int | None = None
    refused: str = ""
    tag: str = ""  # an NFC tag's UID (its taps: `step` is the tap counter)


def _unwrapped(payload: str) -> str:
    text = payload.strip()
    return text.split("#scan=", 1)[1] if "#scan=" in text else text


def parse(payload: str) -> tuple[str, str] | None:
    """(checkpoint, code) from what the phone read: the payload, or a link carrying it."""
    parts = _unwrapped(payload).split(":")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2].isdigit():
        return None
    return parts[1], parts[2]


class CheckpointCodes:
    """The site's checkpoints' codes, derived from the hub's secret."""

    def __init__(self, site: Site, secret: bytes) -> None:
        default = site.site.patrol.proof.code
        self._periods = {c.id: (c.proof.code if c.proof else default) for c in site.checkpoints}
        self._secret = secret

    def key(self, checkpoint: str) -> str:
        """The checkpoint's TOTP key (base32), for a token or display programmed offline."""
        mac = hmac.new(self._secret, f"patrol-code:{checkpoint}".encode(), hashlib.sha256)
        return base64.b32encode(mac.digest()).decode().rstrip("=")

    def _totp(self, checkpoint: str) -> pyotp.TOTP:
        return pyotp.TOTP(
            self.key(checkpoint), digits=8, interval=self._periods[checkpoint].period_s
        )

    def show(self, checkpoint: str, now: datetime) -> Shown:
        """The code a checkpoint's display shows at `now`."""
        totp = self._totp(checkpoint)
        step = totp.timecode(now)
        code = totp.generate_otp(step)
        until = datetime.fromtimestamp((step + 1) * totp.interval, now.tzinfo)
        return Shown(checkpoint, f"{PREFIX}:{checkpoint}:{code}", code, step, until)

    def tag_keys(self, checkpoint: str) -> tuple[bytes, bytes]:
        """The checkpoint's NFC tag keys (SDMMetaReadKey, SDMFileReadKey)."""
        return nfc.tag_keys(self._secret, checkpoint)

    def _tap(self, text: str) -> Checked:
        parts = text.split(":")
        if len(parts) != 4:
            return Checked("", refused="malformed")
        checkpoint, picc, mac = parts[1:]
        if checkpoint not in self._periods:
            return Checked(checkpoint, refused="unknown_checkpoint")
        tap = nfc.verify(picc, mac, *self.tag_keys(checkpoint))
        if tap is None:
            return Checked(checkpoint, refused="wrong")
        return Checked(checkpoint, step=tap.counter, tag=tap.uid)

    def check(self, payload: str, now: datetime) -> Checked:
        """Whether a scanned payload holds a code of its checkpoint valid at `now` (or a tap
        its NFC tag signed: whether it is new is the scan table's to say)."""
        text = _unwrapped(payload)
        if text.startswith(f"{nfc.PREFIX}:"):
            return self._tap(text)
        parsed = parse(payload)
        if parsed is None:
            return Checked("", refused="malformed")
        checkpoint, code = parsed
        if checkpoint not in self._periods:
            return Checked(checkpoint, refused="unknown_checkpoint")
        totp = self._totp(checkpoint)
        current = totp.timecode(now)
        window = self._periods[checkpoint].window_steps
        for step in range(current + 1, current - window - 1, -1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return Checked(checkpoint, step)
        oldest = totp.timecode(now - LOOK_BACK)
        for step in range(current - window - 1, oldest - 1, -1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return Checked(checkpoint, step, refused="expired")
        return Checked(checkpoint, refused="wrong")
