"""A guard walking his route past one checkpoint, simulated end to end: his badge is seen by
the checkpoints' BLE gateways (ESPresense over the embedded MQTT broker), the hub's rules
engine runs a tour that starts a few seconds into the test, and the skipped checkpoint's
missed-patrol alarm is seen through the API and the websocket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from adapters.location_sim.simulator import LocationSimulator, demo_walkers
from hub.domain import Component, EventSink
from hub.identity import Role
from hub.runtime import Hub, adapter_components
from hub.settings import Settings
from hub.site import Site
from hub.site.patrol import PatrolSettings
from hub.site.rules import MissedPatrolRule
from tests.conftest import DEMO_SITE
from tests.support.live import next_change

PASSWORD = "patrol test password"


def test_a_skipped_checkpoint_raises_a_missed_patrol_alarm(tmp_path: Path, demo_site: Site) -> None:
    tz = ZoneInfo(demo_site.site.timezone)
    start = (datetime.now(UTC) + timedelta(seconds=4)).astimezone(tz)
    rule = MissedPatrolRule(
        id="west-tour",
        kind="missed_patrol",
        route="route-west",
        schedule=f"FREQ=DAILY;BYHOUR={start.hour};BYMINUTE={start.minute};BYSECOND={start.second}",
        # every checkpoint is due at once, with 40 s grace: the walker loops in about 12 s, and
        # on a loaded machine the hub, the broker and the walker take a while to start
        windows={
            cp: {"at_min": 0, "grace_min": 40 / 60}
            for cp in next(r for r in demo_site.patrol_routes if r.id == "route-west").checkpoints
        },
        late_min=5,
    )
    # the walker walks at forty times a person's pace: let distances up to the compound's size
    # pass the walking-speed check (tests/rules/test_patrol_proof.py tests that check)
    fast = demo_site.site.model_copy(update={"patrol": PatrolSettings(slack_m=500)})
    site = demo_site.model_copy(update={"devices": [], "rules": [rule], "site": fast})
    settings = Settings(
        data_dir=tmp_path,
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"embedded": True, "port": 0},
    )
    sims: list[LocationSimulator] = []

    def guards_walking(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
        walkers = [w for w in demo_walkers(site, skip=("g1", "cp-plant")) if w.kind == "guard"][:1]
        sims.append(
            LocationSimulator(
                walkers,
                mqtt_host=settings.mqtt.host,
                mqtt_port=0,  # set below, once the embedded broker has its port
                osmand_url="http://127.0.0.1:9/unused",  # guards use MQTT only
                tick_s=0.25,
                speed=40,
            )
        )
        return sims

    def broker_then_walkers(settings: Settings, site: Site, sink: EventSink) -> list[Component]:
        parts = list(adapter_components(settings, site, sink))
        broker = next(c for c in parts if c.name == "mqtt_broker")
        (walker,) = guards_walking(settings, site, sink)
        walker.mqtt = (settings.mqtt.host, broker.port)  # type: ignore[attr-defined]
        return [*parts, walker]

    hub = Hub(settings, site, factories=(broker_then_walkers,))
    with TestClient(hub.app()) as client:
        hub.ctx.identity.ensure_user("guard-room", PASSWORD, [Role.SECURITY])
        r = client.post("/api/auth/token", data={"username": "guard-room", "password": PASSWORD})
        token = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with client.websocket_connect(f"/ws?token={token}") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            msg = next_change(
                ws, lambda m: m["type"] == "alarm" and m["alarm_type"] == "patrol_missed", 60
            )
        assert msg["originator"] == "route-west/cp-plant"
        assert msg["state"] == "ACTIVE_UNACK"
        missed = client.get("/api/alarms?type=patrol_missed", headers=headers).json()
        assert [a["originator"] for a in missed] == ["route-west/cp-plant"]
        (rules,) = client.get("/api/rules", headers=headers).json()
        tour = rules["state"]["tour"]
        assert set(tour["visited"]) == {"cp-main-gate", "cp-parking", "cp-b3", "cp-b1-north"}
        assert {v["by"] for v in tour["visited"].values()} == {"g1"}
        assert sims[0].sent["espresense"] > 0
