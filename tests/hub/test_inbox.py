"""The inbox from the events that already exist: a notice for a host and one for a role, a
ticket's change for its reporter; kept per person once, counted, marked read, and the unread
count pushed live to that person's own connections only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from hub.domain import Notice, TicketEvent
from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.live import next_change
from tests.support.waiting import wait_for

PASSWORD = "inbox test password"
T = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def arrived(visit: int = 1) -> Notice:
    return Notice(
        topic="visit.arrived",
        subject="【访客到达】张三 已从南大门进入",
        body="您预约的访客 张三 已于 10:00 从南大门进入。",
        ts=T,
        notify=("host",),
        key=f"visit:{visit}",
        link="/visits.html",
    )


def test_what_concerns_a_person_reaches_their_inbox_once_and_live(
    tmp_path: Path, quiet_site: Site
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        secret_key="k" * 48,
        site_file=DEMO_SITE,
        mqtt={"ingest": False},
        live={"rate_hz": 10, "summary_s": 0.5},
    )
    hub = Hub(settings, quiet_site, factories=())
    with TestClient(hub.app()) as client:
        portal: Any = client.portal  # type: ignore[attr-defined]
        for name, roles in (
            ("host", [Role.STAFF]),
            ("desk", [Role.SECURITY]),
            ("wall", [Role.DISPLAY]),
        ):
            hub.ctx.identity.ensure_user(name, PASSWORD, roles)

        def auth(user: str) -> dict[str, str]:
            r = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        host, desk, wall = auth("host"), auth("desk"), auth("wall")
        with (
            client.websocket_connect(f"/ws?token={host['Authorization'][7:]}") as host_ws,
            client.websocket_connect(f"/ws?token={desk['Authorization'][7:]}") as desk_ws,
        ):
            assert host_ws.receive_json()["type"] == "snapshot"
            assert desk_ws.receive_json()["type"] == "snapshot"
            events = [
                arrived(),
                Notice(
                    "patrol.report",
                    "【巡更报告】11月",
                    "已生成",
                    T,
                    ("role:security",),
                    "patrol:month:2026-11",
                ),
                TicketEvent(
                    "7",
                    "accepted",
                    "accepted",
                    "hvac",
                    "normal",
                    "会议室空调不制冷",
                    T,
                    notify=("host",),
                ),
                TicketEvent(
                    "7", "started", "in_progress", "hvac", "normal", "会议室空调不制冷", T
                ),  # nobody
            ]
            for e in events:
                assert portal.call(hub.pipeline.publish, "test", e).accepted
            mine = next_change(host_ws, lambda m: m["type"] == "inbox" and m["unread"] == 2, 10)
            assert mine["key"] == "host"
            theirs = next_change(desk_ws, lambda m: m["type"] == "inbox", 10)
            assert (theirs["key"], theirs["unread"]) == ("desk", 1)  # never the host's count

        listed = client.get("/api/inbox", headers=host).json()
        assert [m["title"] for m in listed] == [
            "工单 #7「会议室空调不制冷」已接单，维修人员将尽快处理",
            "【访客到达】张三 已从南大门进入",
        ]
        assert listed[1]["link"] == "/visits.html"
        assert client.get("/api/inbox/count", headers=host).json() == {"unread": 2}
        assert [m["title"] for m in client.get("/api/inbox", headers=desk).json()] == [
            "【巡更报告】11月"
        ]

        # the same event delivered again (a retried batch) is told once
        assert portal.call(hub.pipeline.publish, "test", arrived()).accepted
        assert portal.call(hub.pipeline.publish, "test", arrived(visit=2)).accepted
        wait_for(
            lambda: client.get("/api/inbox/count", headers=host).json()["unread"] == 3,
            "the second visit's arrival",
        )
        assert len(client.get("/api/inbox", headers=host).json()) == 3  # not the first again

        r = client.post("/api/inbox/read", json={"ids": [listed[1]["id"]]}, headers=host)
        assert r.json() == {"unread": 2}
        assert [m["read"] for m in client.get("/api/inbox?unread=true", headers=host).json()] == [
            False,
            False,
        ]
        assert client.post("/api/inbox/read", json={}, headers=host).json() == {"unread": 0}
        assert client.get("/api/inbox", headers=wall).status_code == 403  # a screen has no inbox
        assert client.post("/api/inbox/read", json={"ids": "all"}, headers=host).status_code == 422
        # ids beyond what a database holds are refused, not crashed on (the API fuzzer's find)
        assert client.get(f"/api/inbox?before={2**63}", headers=host).status_code == 422
        assert (
            client.post("/api/inbox/read", json={"ids": [2**63]}, headers=host).status_code == 422
        )
