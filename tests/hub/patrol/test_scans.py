"""Scans judged and kept: a code once per guard, an NFC tap once whoever sends it and never an
older one, refusals kept with their reason, guessing made to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.errors import TooManyAttempts
from hub.services.patrol import nfc
from hub.services.patrol.codes import CheckpointCodes
from hub.services.patrol.scans import MAX_REFUSED, Scans
from hub.site import Site
from hub.storage import Database
from hub.storage.migrate import upgrade
from hub.storage.models import PatrolScan

NOW = datetime(2026, 12, 4, 3, 0, 10, tzinfo=UTC)
UID = "04a1b2c3d4e5f6"


@pytest.fixture
def scans(tmp_path: Path, demo_site: Site) -> Scans:
    db = Database.from_url(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(db.engine)
    return Scans(db, CheckpointCodes(demo_site, b"s" * 48))


def tap(scans: Scans, counter: int, cp: str = "cp-plant") -> str:
    picc, mac = nfc.tap_url(*scans.codes.tag_keys(cp), UID, counter)
    return f"DYN1:{cp}:{picc}:{mac}"


def test_a_code_serves_each_guard_once(scans: Scans) -> None:
    shown = scans.codes.show("cp-b3", NOW)
    first = scans.judge("g1", shown.payload, "qr", NOW, fix=(30.2595, 120.1293, 6.0))
    assert first.scan is not None
    assert (first.scan.step, first.scan.lat, first.scan.accuracy_m) == (shown.step, 30.2595, 6.0)
    assert scans.judge("g1", shown.payload, "qr", NOW + timedelta(seconds=5)).refused == "replayed"
    assert scans.judge("g2", shown.payload, "qr", NOW + timedelta(seconds=5)).scan is not None


def test_an_nfc_tap_counts_once_whoever_sends_it_and_never_after_a_later_one(scans: Scans) -> None:
    five, six = tap(scans, 5), tap(scans, 6)
    accepted = scans.judge("g1", five, "qr", NOW)  # the phone's word for the source is not taken
    assert accepted.scan is not None
    assert (accepted.scan.source, accepted.scan.step) == ("nfc", 5)
    assert scans.judge("g2", five, "nfc", NOW).refused == "replayed"  # the URL, copied
    assert scans.judge("g1", six, "nfc", NOW).scan is not None
    assert scans.judge("g1", tap(scans, 4), "nfc", NOW).refused == "replayed"  # kept back
    assert (
        scans.judge("g1", tap(scans, 9, "cp-parking"), "nfc", NOW).scan is not None
    )  # its own tag


def test_refusals_are_kept_with_their_reason_and_guessing_waits(scans: Scans) -> None:
    for i in range(MAX_REFUSED):
        assert scans.judge("g1", f"DYP1:cp-b3:{i:08d}", "typed", NOW).refused == "wrong"
    with pytest.raises(TooManyAttempts):
        scans.judge("g1", scans.codes.show("cp-b3", NOW).payload, "qr", NOW)
    later = NOW + timedelta(minutes=11)
    assert scans.judge("g1", scans.codes.show("cp-b3", later).payload, "qr", later).scan is not None
    assert scans.refused_between(NOW, later) == {"g1": {"wrong": MAX_REFUSED}}
    with scans._db.session() as s:
        verdicts = [r.verdict for r in s.scalars(select(PatrolScan).order_by(PatrolScan.id))]
    assert verdicts == ["wrong"] * MAX_REFUSED + ["accepted"]
