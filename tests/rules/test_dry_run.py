"""A dry run through the API: rules tried on what the telemetry store recorded, nothing
stored or notified; bad rules are refused with every problem and its line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from hub.domain import PositionFix, Reading, SubjectKind
from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE

PASSWORD = "dry run test password"
RULES = """
- {id: try-hot, kind: threshold, point: ahu-b2.supply_temp, above: 28, for_s: 60}
- {id: try-leave, kind: geofence, fence: gf-district, when: exit, subjects: [vehicle]}
"""
BAD = """
rules:
  - {id: a, kind: threshold, point: ahu-b2.nothing, above: 28}
  - id: b
    kind: missed_patrol
    route: route-west
    schedule: "FREQ=SOMETIMES"
"""


def test_rules_are_tried_on_recorded_events_without_raising_anything(
    tmp_path: Path, demo_site: Site
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k" * 48, site_file=DEMO_SITE)
    hub = Hub(settings, demo_site, factories=())
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    recorded = [
        Reading(
            "ahu-b2.supply_temp",
            30.0 if 6 <= i < 12 else 25.0,  # three minutes too hot
            "degC",
            start + timedelta(seconds=30 * i),
        )
        for i in range(20)
    ]
    track = [(30.2600, 120.1300), (30.2600, 120.1650), (30.2600, 120.1750), (30.2600, 120.1600)]
    recorded += [
        PositionFix("car-3", SubjectKind.VEHICLE, start + timedelta(minutes=m), "gps", lat=a, lon=b)
        for m, (a, b) in enumerate(track)
    ]
    with TestClient(hub.app()) as client:
        client.portal.call(hub.ctx.telemetry.write, recorded)  # type: ignore[attr-defined]
        for user, role in (("chief", Role.SECURITY), ("clerk", Role.STAFF)):
            hub.ctx.identity.ensure_user(user, PASSWORD, [role])

        def auth(user: str) -> dict[str, str]:
            r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        body = {
            "rules": RULES,
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=15)).isoformat(),
        }
        r = client.post("/api/rules/dry-run", json=body, headers=auth("chief"))
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["events"] == 24
        assert result["raised"] == [
            {"rule": "try-hot", "type": "threshold", "count": 1},
            {"rule": "try-leave", "type": "geofence_exit", "count": 1},
        ]
        steps = [(e["action"], e["originator"]) for e in result["timeline"]]
        assert steps == [
            ("raised", "car-3"),
            ("cleared", "car-3"),
            ("raised", "ahu-b2.supply_temp"),
            ("cleared", "ahu-b2.supply_temp"),
        ]
        hot = next(e for e in result["timeline"] if e["rule"] == "try-hot")
        assert hot["ts"] == (start + timedelta(seconds=30 * 8)).isoformat()  # 60 s after 30°
        assert client.get("/api/alarms", headers=auth("chief")).json() == []  # nothing real

        bad = client.post("/api/rules/dry-run", json={**body, "rules": BAD}, headers=auth("chief"))
        assert bad.status_code == 422
        detail = bad.json()["detail"]
        assert "rules[0].point (line 3): unknown point 'ahu-b2.nothing'" in detail
        assert "rules[1].schedule (line 7)" in detail
        assert "invalid RRULE" in detail
        refused = client.post("/api/rules/dry-run", json=body, headers=auth("clerk"))
        assert refused.status_code == 403


def test_a_dry_run_sees_journaled_statuses_and_sightings(tmp_path: Path, demo_site: Site) -> None:
    """Statuses and sightings are journaled as they pass the pipeline, so equipment-fault
    and patrol rules can be tried on them too."""
    from zoneinfo import ZoneInfo

    from hub.domain import DeviceStatus, Sighting

    settings = Settings(data_dir=tmp_path, secret_key="k" * 48, site_file=DEMO_SITE)
    hub = Hub(settings, demo_site, factories=())
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    badge = "fda50693-a4e2-4fb1-afcf-c6eb07647825-1-1"  # g1's
    statuses = [
        DeviceStatus("ahu-b2", True, start + timedelta(seconds=s), fault=f, detail="fan")
        for s, f in ((60, True), (70, False), (80, True), (90, False))
    ]
    visits = [  # the west route, g1 walks it but skips the plant room (three close reports)
        Sighting(
            badge,
            cp,
            start + timedelta(minutes=10 + 2 * i, seconds=s),
            "espresense",
            distance_m=1.0,
        )
        for i, cp in enumerate(["cp-main-gate", "cp-parking", "cp-b3", "cp-b1-north"])
        for s in (0, 1, 2)
    ]
    tour = (start + timedelta(minutes=10)).astimezone(ZoneInfo("Asia/Shanghai"))
    rules = f"""
- {{id: try-faults, kind: equipment_fault, devices: [ahu-b2], clear_after_s: 60}}
- id: try-west
  kind: missed_patrol
  route: route-west
  schedule: "FREQ=DAILY;BYHOUR={tour.hour};BYMINUTE={tour.minute}"
  step_min: 2
  grace_min: 3
"""
    with TestClient(hub.app()) as client:
        portal = client.portal  # type: ignore[attr-defined]
        for event in [*statuses, *visits]:
            assert portal.call(hub.pipeline.publish, "test", event).accepted
        hub.ctx.identity.ensure_user("chief", PASSWORD, [Role.SECURITY])
        token = client.post(
            "/api/auth/token", data={"username": "chief", "password": PASSWORD}
        ).json()["access_token"]
        body = {
            "rules": rules,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        }
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while True:  # the journal writes behind the pipeline
            r = client.post(
                "/api/rules/dry-run", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200, r.text
            if r.json()["events"] == 16 or datetime.now(UTC) > deadline:
                break
    result = r.json()
    assert result["events"] == 16
    assert result["raised"] == [
        {"rule": "try-faults", "type": "equipment_fault", "count": 1},
        {"rule": "try-west", "type": "patrol_missed", "count": 1},
        # at cp-b1-north (minute 16) cp-plant was still open (due 16, grace to 19)
        {"rule": "try-west", "type": "patrol_out_of_order", "count": 1},
    ]
    missed = next(e for e in result["timeline"] if e["type"] == "patrol_missed")
    assert missed["originator"] == "route-west/cp-plant"
