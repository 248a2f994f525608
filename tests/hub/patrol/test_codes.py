"""Checkpoint codes: a TOTP per checkpoint, accepted in its window, an old one told apart
from a wrong one, links from a phone's camera app read like the bare payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.services.patrol import nfc
from hub.services.patrol.codes import CheckpointCodes, parse
from hub.site import Site

NOW = datetime(2026, 12, 4, 3, 0, 10, tzinfo=UTC)


def codes(site: Site) -> CheckpointCodes:
    return CheckpointCodes(site, b"s" * 48)


def test_the_code_is_a_standard_totp_a_token_programmed_with_the_key_shows(demo_site: Site) -> None:
    c = codes(demo_site)
    shown = c.show("cp-b3", NOW)
    token = pyotp.TOTP(c.key("cp-b3"), digits=8, interval=30)
    assert shown.code == token.at(NOW)
    assert shown.payload == f"DYP1:cp-b3:{shown.code}"
    assert shown.valid_until == datetime(2026, 12, 4, 3, 0, 30, tzinfo=UTC)
    assert c.key("cp-b3") != c.key("cp-plant")  # per checkpoint
    assert CheckpointCodes(demo_site, b"t" * 48).key("cp-b3") != c.key("cp-b3")  # per hub


def test_a_code_serves_its_step_and_one_after_then_it_has_expired(demo_site: Site) -> None:
    c = codes(demo_site)
    shown = c.show("cp-b3", NOW)
    assert c.check(shown.payload, NOW).step == shown.step
    assert c.check(shown.payload, NOW + timedelta(seconds=30)).step == shown.step  # walked away
    assert c.check(shown.payload, NOW - timedelta(seconds=25)).step == shown.step  # clock ahead
    late = c.check(shown.payload, NOW + timedelta(seconds=75))
    assert (late.refused, late.step) == ("expired", shown.step)
    old = c.check(shown.payload, NOW + timedelta(hours=20))  # a photo from this morning
    assert old.refused == "expired"
    assert c.check(shown.payload, NOW + timedelta(days=2)).refused == "wrong"  # beyond a day


def test_wrong_malformed_and_unknown_codes_are_refused_with_their_reason(demo_site: Site) -> None:
    c = codes(demo_site)
    good = c.show("cp-b3", NOW)
    other = c.show("cp-plant", NOW)
    assert c.check(f"DYP1:cp-b3:{other.code}", NOW).refused == "wrong"
    assert c.check("DYP1:cp-nowhere:12345678", NOW).refused == "unknown_checkpoint"
    for junk in ("", "hello", "DYP1:cp-b3", "DYP1:cp-b3:12ab5678", "DYP2:cp-b3:12345678"):
        assert c.check(junk, NOW).refused == "malformed", junk
    link = f"https://hub.example/guard.html#scan={good.payload}"
    assert parse(link) == ("cp-b3", good.code)
    assert c.check(link, NOW).step == good.step


def test_the_command_line_prints_the_key_a_token_is_programmed_with(
    demo_site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    out = CliRunner().invoke(main, ["patrol", "key", "cp-b3"])
    assert out.exit_code == 0, out.output
    assert f"key (base32): {codes(demo_site).key('cp-b3')}" in out.output
    assert "otpauth://totp/" in out.output
    meta, _ = codes(demo_site).tag_keys("cp-b3")
    assert f"SDMMetaReadKey: {meta.hex().upper()}" in out.output
    assert "guard.html#scan=DYN1:cp-b3:{PICCData}:{SDMMAC}" in out.output
    missing = CliRunner().invoke(main, ["patrol", "key", "cp-nowhere"])
    assert missing.exit_code != 0
    assert "no checkpoint 'cp-nowhere'" in missing.output


def test_an_nfc_tags_tap_is_verified_as_nxp_describes_it() -> None:
    # AN12196's example: all-zero keys, PICCData and SDMMAC as a tag mirrors them
    tap = nfc.verify("EF963FF7828658A599F3041510671E88", "94EED9EE65337086", bytes(16), bytes(16))
    assert tap == nfc.Tap("04de5f1eacc040", 61)
    assert (
        nfc.verify("EF963FF7828658A599F3041510671E88", "94EED9EE65337087", bytes(16), bytes(16))
        is None
    )
    assert (
        nfc.verify(
            "EF963FF7828658A599F3041510671E88", "94EED9EE65337086", bytes(15) + b"\x01", bytes(16)
        )
        is None
    )
    assert nfc.verify("zz", "94EED9EE65337086", bytes(16), bytes(16)) is None


def test_a_tap_of_a_checkpoints_tag_names_its_checkpoint_and_counter(demo_site: Site) -> None:
    c = codes(demo_site)
    picc, mac = nfc.tap_url(*c.tag_keys("cp-plant"), "04a1b2c3d4e5f6", 7)
    tapped = c.check(f"https://hub.example/guard.html#scan=DYN1:cp-plant:{picc}:{mac}", NOW)
    assert (tapped.checkpoint, tapped.step, tapped.tag, tapped.refused) == (
        "cp-plant",
        7,
        "04a1b2c3d4e5f6",
        "",
    )
    # the switch room's tag copied onto a label claiming to be the car park: its keys differ
    assert c.check(f"DYN1:cp-parking:{picc}:{mac}", NOW).refused == "wrong"
    assert c.check(f"DYN1:cp-plant:{picc}", NOW).refused == "malformed"
