"""Consumption from counters (pure): resets, rollovers and gaps; the meter hierarchy; report
periods."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from hub.runtime import load_site_for_hub
from hub.services.energy.counting import consumption, window_of
from hub.services.energy.meters import MeterTree, MeterTreeError
from hub.services.periods import last_complete, parse_period
from hub.site import SiteConfigError
from hub.site.energy import Meter
from hub.telemetry.counters import Step
from tests.conftest import DEMO_SITE

T0 = datetime(2026, 10, 1, tzinfo=UTC)
H = timedelta(hours=1)


def test_windows_are_interval_ending() -> None:
    assert window_of(T0 + H, T0, H) == T0  # a reading at 01:00 closes (00:00, 01:00]
    assert window_of(T0 + H + timedelta(seconds=1), T0, H) == T0 + H
    assert window_of(T0, T0, H) == T0 - H


def test_a_rollover_counts_what_wrapped_and_a_reset_what_counted_since() -> None:
    rolled = Step("m", T0 + timedelta(minutes=30), T0 + timedelta(minutes=31), 99_998.0, 3.0)
    reset = Step("m", T0 + timedelta(minutes=50), T0 + timedelta(minutes=51), 5_000.0, 2.0)
    c = consumption(
        "m",
        [(T0, 10.0)],  # the non-negative differences of the hour, as the store sums them
        [rolled, reset],
        start=T0,
        end=T0 + H,
        every=H,
        gap=timedelta(minutes=15),
        rollover=100_000.0,
    )
    assert c.windows == {T0: 10.0 + 5.0 + 2.0}
    assert [(f.kind, f.amount) for f in c.flags] == [("rollover", 5.0), ("reset", 2.0)]


def test_a_gap_is_spread_over_the_windows_it_spans_and_marked_estimated() -> None:
    gap = Step("m", T0 + timedelta(minutes=30), T0 + 3 * H, 100.0, 250.0)  # 150 over 2.5 h
    c = consumption(
        "m",
        [(T0, 30.0), (T0 + 2 * H, 150.0 + 0.0)],  # the store put the whole 150 at 03:00
        [gap],
        start=T0,
        end=T0 + 4 * H,
        every=H,
        gap=timedelta(minutes=15),
    )
    assert c.windows == {T0: 30.0 + 30.0, T0 + H: 60.0, T0 + 2 * H: 60.0}
    assert c.estimated == {T0, T0 + H, T0 + 2 * H}
    assert [f.kind for f in c.flags] == ["gap"]
    assert c.total == 180.0  # nothing gained or lost


def test_virtual_meters_subtract_their_tenants_and_tops_never_double_count() -> None:
    tree = MeterTree(
        [
            Meter(id="main", name="总表", point="d.main"),
            Meter(id="b1", name="1号楼", point="d.b1", parent="main", building="b1"),
            Meter(id="b1-dc", name="机房", point="d.dc", parent="b1", building="b1"),
            Meter(id="b1-rest", name="除机房", virtual={"of": "b1", "minus": ["b1-dc"]}),
            Meter(id="water", name="水表", measures="water", point="d.w", building="b1"),
        ]
    )
    metered = {"main": 1000.0, "b1": 600.0, "b1-dc": 250.0, "water": 40.0}
    assert tree.value("b1-rest", metered) == 350.0
    assert [m.id for m in tree.tops("electricity")] == ["main"]
    assert [m.id for m in tree.tops("electricity", "b1")] == ["b1"]
    assert [m.id for m in tree.tops("water", "b1")] == ["water"]
    with pytest.raises(MeterTreeError, match="cycle"):
        MeterTree(
            [
                Meter(id="a", name="a", point="d.a", parent="b"),
                Meter(id="b", name="b", point="d.b", parent="a"),
            ]
        )
    with pytest.raises(MeterTreeError, match="measures something else"):
        MeterTree(
            [
                Meter(id="e", name="e", point="d.e"),
                Meter(id="w", name="w", point="d.w", measures="water"),
                Meter(id="v", name="v", virtual={"of": "e", "minus": ["w"]}),
            ]
        )


def test_periods_and_what_they_are_compared_with() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    month = parse_period("2026-10", tz)
    assert (month.first, month.last, month.days) == (date(2026, 10, 1), date(2026, 10, 31), 31)
    assert month.start == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert month.previous().label == "2026-09"
    assert month.last_year().label == "2025-10"
    week = parse_period("2026-W53", tz)
    assert week.first == date(2026, 12, 28)
    assert week.last_year().label == "2025-W52"  # 2025 had 52 weeks
    assert parse_period("2024-02-29", tz).last_year().first == date(2023, 2, 28)
    assert parse_period("2026", tz).days == 365
    assert last_complete("month", datetime(2026, 11, 1, 0, 30, tzinfo=tz), tz).label == "2026-10"
    for bad in ("2026-13", "2026-W60", "yesterday", "2026-02-30"):
        with pytest.raises(ValueError, match="period"):
            parse_period(bad, tz)


def test_hub_check_lists_a_broken_meter_hierarchy(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    shutil.copytree(DEMO_SITE.parent / "plans", tmp_path / "plans")
    raw["meters"][0]["parent"] = "m-b2"
    raw["meters"][1]["parent"] = "m-b1"
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SiteConfigError) as err:
        load_site_for_hub(tmp_path / "site.yaml")
    assert {p.message for p in err.value.problems} == {
        "meter 'm-b1': its parents form a cycle",
        "meter 'm-b2': its parents form a cycle",
    }


def test_a_register_reading_a_hair_lower_is_noise_not_a_reset() -> None:
    """A float32 register continuing a float64 history reads 0.02 kWh low at 281,806 kWh:
    that is nothing, not a reset that would count the whole register."""
    hair = Step("m", T0 + timedelta(minutes=15), T0 + timedelta(minutes=19), 281_806.36, 281_806.34)
    c = consumption(
        "m", [(T0, 5.0)], [hair], start=T0, end=T0 + H, every=H, gap=timedelta(minutes=15)
    )
    assert c.windows == {T0: 5.0}
    assert c.flags == []
