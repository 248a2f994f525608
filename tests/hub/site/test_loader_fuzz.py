"""The config loaders fuzzed (hypothesis): any text as a site file, the demo site with any
value anywhere replaced by something else, and any `HUB_*` environment give a site or the
list of problems (a settings error), never a crash."""

from __future__ import annotations

from typing import Any

import click
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hub.cli.support import settings_from
from hub.runtime import SITE_HOOKS
from hub.settings import Settings
from hub.site import check_site_text
from tests.conftest import DEMO_SITE
from tests.support.fuzz import fuzz

DEMO = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
FUZZ = fuzz(150)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "b1", "1F", "meter-b1.total_energy", "FREQ=DAILY", "25:99-00:00"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the parsed YAML a value sits."""
    out = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*at, i))
    return out


PLACES = [p for p in paths(DEMO) if p]


def replaced(data: Any, at: tuple[Any, ...], value: Any) -> Any:
    """A copy of `data` with the value at `at` replaced (or deleted when value is ...)."""
    if not at:
        return value
    if isinstance(data, dict):
        copy = dict(data)
        if value is ... and len(at) == 1:
            copy.pop(at[0], None)
        else:
            copy[at[0]] = replaced(data[at[0]], at[1:], value)
        return copy
    copy_list = list(data)
    if value is ... and len(at) == 1:
        del copy_list[at[0]]
    else:
        copy_list[at[0]] = replaced(data[at[0]], at[1:], value)
    return copy_list


def _outcome(make: Any) -> Any:
    """What `make()` returned, or the message of the ClickException it raised."""
    try:
        return make()
    except click.ClickException as err:
        return err.message


def check(text: str) -> None:
    site, problems = check_site_text(text, DEMO_SITE.parent, SITE_HOOKS)
    assert (site is None) == bool(problems)
    for p in problems:
        assert p.path
        assert p.message


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_a_site_file_gives_problems_not_a_crash(text: str) -> None:
    check(text)


@FUZZ
@given(at=st.sampled_from(PLACES), value=st.one_of(values, st.just(...)))
def test_the_demo_site_with_anything_anywhere_gives_problems_not_a_crash(
    at: tuple[Any, ...], value: Any
) -> None:
    mangled = replaced(DEMO, at, value)
    try:
        text = yaml.safe_dump(mangled, allow_unicode=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return  # not representable as YAML: nothing a site file could say
    check(text)


@FUZZ
@given(
    env=st.dictionaries(
        st.sampled_from(
            [
                "HUB_PORT",
                "HUB_ENV",
                "HUB_TELEMETRY_BACKEND",
                "HUB_ACCESS_TOKEN_HOURS",
                "HUB_CREDENTIAL_CACHE_S",
                "HUB_MQTT__PORT",
                "HUB_LIVE__RATE_HZ",
                "HUB_ENERGY__SCHEDULE",
                "HUB_ENERGY__GAP_MIN",
                "HUB_GATE__RETENTION_DAYS",
                "HUB_BOOKING__HORIZON_DAYS",
                "HUB_NOTIFY__WEBHOOKS",
            ]
        ),
        st.text(max_size=20),
        max_size=4,
    )
)
def test_any_environment_gives_settings_or_a_clear_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What every `hub` command starts with: the settings, or "invalid settings: …"."""
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("\x00", ""))
    try:
        outcome = _outcome(lambda: settings_from(secret_key="k" * 48))
        assert isinstance(outcome, Settings) or outcome.startswith("invalid settings")
    finally:
        for name in env:
            monkeypatch.delenv(name, raising=False)
