"""Visitor passes: Ed25519-signed, verifiable with the public key alone; forged, expired,
early and tampered passes refused."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from hub.services.gate import passes
from tests.support.fuzz import fuzz

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CLAIMS = passes.PassClaims("p1", 7, 3, ("gate-main",), 1, "王**", NOW, NOW + timedelta(hours=4))
LEEWAY = timedelta(seconds=120)


def test_a_pass_verifies_with_the_public_key_only(tmp_path: Path) -> None:
    key = passes.load_or_create_key(tmp_path / "k.pem")
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    again = passes.load_or_create_key(tmp_path / "k.pem")  # the same key after a restart
    assert passes.public_pem(again) == passes.public_pem(key)
    token = passes.issue(key, CLAIMS)
    got = passes.verify(key.public_key(), token, NOW + timedelta(hours=1), LEEWAY)
    assert (got.pass_id, got.visitor, got.gates, got.label) == ("p1", 7, ("gate-main",), "王**")


def test_forged_expired_early_and_tampered_passes_are_refused(tmp_path: Path) -> None:
    key = passes.load_or_create_key(tmp_path / "k.pem")
    token = passes.issue(key, CLAIMS)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(passes.PassError, match="forged"):
        passes.verify(key.public_key(), passes.issue(other, CLAIMS), NOW, LEEWAY)
    with pytest.raises(passes.PassError, match="expired"):
        passes.verify(key.public_key(), token, NOW + timedelta(hours=5), LEEWAY)
    with pytest.raises(passes.PassError, match="not valid yet"):
        passes.verify(key.public_key(), token, NOW - timedelta(minutes=10), LEEWAY)
    # a skewed terminal within the leeway is fine
    passes.verify(key.public_key(), token, NOW - timedelta(seconds=60), LEEWAY)
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["ent"] = 99
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(passes.PassError, match="forged"):
        passes.verify(key.public_key(), f"{head}.{forged}.{sig}", NOW, LEEWAY)
    # "alg": "none" and a symmetric key are never accepted
    none = jwt.encode({"jti": "x", "exp": 2**31, "nbf": 0}, None, algorithm="none")
    with pytest.raises(passes.PassError):
        passes.verify(key.public_key(), none, NOW, LEEWAY)
    for junk in ("", "x" * 5000, "a.b.c", "浙A12345"):
        with pytest.raises(passes.PassError):
            passes.verify(key.public_key(), junk, NOW, LEEWAY)


FUZZ_KEY = Ed25519PrivateKey.generate()
SCANNED_AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
claim_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
)

# seconds since 1970: plausible, far off, beyond what a date can hold
times = st.integers(0, 2**33) | st.sampled_from([2**63, -(2**63), 10**30, 1e300]) | st.floats()


@fuzz(300)
@given(st.text(max_size=300))
def test_anything_scanned_at_the_gate_is_a_pass_or_a_refusal(token: str) -> None:
    with contextlib.suppress(passes.PassError):
        passes.verify(FUZZ_KEY.public_key(), token, SCANNED_AT, timedelta(minutes=2))


@fuzz(300)
@given(
    st.fixed_dictionaries(
        {
            "iss": st.just(passes.ISSUER),
            "aud": st.just(passes.AUDIENCE),
            "jti": st.text(max_size=30),  # PyJWT refuses any other jti itself
            **{k: st.integers() | claim_values for k in ("vis", "vst")},
            **{k: times | claim_values for k in ("nbf", "exp")},
        },
        optional={k: claim_values for k in ("gts", "ent", "lbl")},
    )
)
def test_a_genuinely_signed_pass_with_any_claims_is_a_pass_or_a_refusal(
    claims: dict[str, object],
) -> None:
    """Should the hub ever sign odd claims (a bug in `issue`), the gate still answers."""
    token = jwt.encode(claims, FUZZ_KEY, algorithm="EdDSA")
    with contextlib.suppress(passes.PassError):
        passes.verify(FUZZ_KEY.public_key(), token, SCANNED_AT, timedelta(minutes=2))
