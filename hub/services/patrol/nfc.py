"""NFC checkpoint tags that sign every tap: NTAG 424 DNA "Secure Unique NFC" (SUN, NXP
AN12196). Each tap the tag mirrors into the URL it gives the phone its UID and tap counter,
encrypted (PICCData), and a MAC over them (SDMMAC), with AES-128 keys only the tag and the hub
know; a copy of the URL serves once at most, as its counter does not grow again.

    PICCData = AES-128-CBC⁻¹(K_meta, IV 0)(picc_data) = C7 ‖ UID (7) ‖ SDMReadCtr (3, LSB first) ‖ …
    K_ses    = CMAC(K_file, 3C C3 00 01 00 80 ‖ UID ‖ SDMReadCtr)
    SDMMAC   = the odd bytes (1, 3, … 15) of CMAC(K_ses, "")     (MAC input: nothing)

The tag of checkpoint `cp` is programmed (SDM on, UID and counter mirrored, MAC over nothing)
with keys derived from the hub's secret, `hub patrol key <cp>` prints them, and its URL
template `<hub>/guard.html#scan=DYN1:<cp>:{PICCData}:{SDMMAC}`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

PREFIX = "DYN1"
_UID_AND_COUNTER = 0xC7  # PICCDataTag: UID mirrored, counter mirrored, UID length 7
_SV2 = bytes.fromhex("3CC300010080")


@dataclass(frozen=True, slots=True)
class Tap:
    """A verified tap: the tag's UID and its counter."""

    uid: str
    counter: int


def tag_keys(secret: bytes, checkpoint: str) -> tuple[bytes, bytes]:
    """The checkpoint's tag keys (SDMMetaReadKey, SDMFileReadKey), AES-128."""

    def derive(purpose: str) -> bytes:
        return hmac.new(secret, f"{purpose}:{checkpoint}".encode(), hashlib.sha256).digest()[:16]

    return derive("patrol-nfc-meta"), derive("patrol-nfc-file")


def _cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def verify(picc_data: str, sdmmac: str, meta_key: bytes, file_key: bytes) -> Tap | None:
    """The tap a tag's mirrored PICCData and SDMMAC (hex) prove, or None."""
    try:
        encrypted, mac = bytes.fromhex(picc_data), bytes.fromhex(sdmmac)
    except ValueError:
        return None
    if len(encrypted) != 16 or len(mac) != 8:
        return None
    decryptor = Cipher(algorithms.AES(meta_key), modes.CBC(bytes(16))).decryptor()
    plain = decryptor.update(encrypted) + decryptor.finalize()
    if plain[0] != _UID_AND_COUNTER:
        return None
    uid, counter = plain[1:8], plain[8:11]
    session = _cmac(file_key, _SV2 + uid + counter)
    expected = _cmac(session, b"")[1::2]
    if not hmac.compare_digest(expected, mac):
        return None
    return Tap(uid.hex(), int.from_bytes(counter, "little"))


def tap_url(meta_key: bytes, file_key: bytes, uid: str, counter: int) -> tuple[str, str]:
    """What a tag programmed with these keys mirrors on tap `counter`: (PICCData, SDMMAC) in
    hex (for tests and for checking a tag's programming against the hub)."""
    raw_uid, raw_ctr = bytes.fromhex(uid), counter.to_bytes(3, "little")
    plain = bytes([_UID_AND_COUNTER]) + raw_uid + raw_ctr + bytes(5)
    encryptor = Cipher(algorithms.AES(meta_key), modes.CBC(bytes(16))).encryptor()
    picc = encryptor.update(plain) + encryptor.finalize()
    session = _cmac(file_key, _SV2 + raw_uid + raw_ctr)
    return picc.hex().upper(), _cmac(session, b"")[1::2].hex().upper()
