"""Any bearer token, and any claims signed with the hub's secret, are read or refused with
TokenError (a 401), never another exception (a 500)."""

from __future__ import annotations

import contextlib

import jwt
from hypothesis import given
from hypothesis import strategies as st

from hub.identity.tokens import ALGORITHM, ISSUER, TokenError, read_token
from tests.support.fuzz import fuzz

SECRET = "s" * 48
values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
# seconds since 1970: now-ish, far off, beyond what a date can hold
times = st.integers(1_700_000_000, 2**33) | st.sampled_from([2**63, 10**30, 1e300]) | values


@fuzz(200)
@given(st.text(max_size=400))
def test_any_bearer_token_is_read_or_refused(token: str) -> None:
    with contextlib.suppress(TokenError):
        read_token(SECRET, token)


@fuzz(300)
@given(
    st.fixed_dictionaries(
        {
            "iss": st.just(ISSUER),
            "sub": st.text(min_size=1, max_size=20),
            "iat": st.integers(0, 2**33),
            "exp": times,
        },
        optional={"ver": values, "pur": values},
    )
)
def test_any_claims_signed_with_the_secret_are_read_or_refused(claims: dict[str, object]) -> None:
    with contextlib.suppress(TokenError):
        read_token(SECRET, jwt.encode(claims, SECRET, algorithm=ALGORITHM))
