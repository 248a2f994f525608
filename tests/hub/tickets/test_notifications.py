"""Ticket changes reach the people they concern by e-mail (a real SMTP server, aiosmtpd)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.mail import smtp_inbox


def test_the_technician_hears_of_the_job_and_the_reporter_of_the_repair(
    tmp_path: Path, quiet_site: Site
) -> None:
    with smtp_inbox() as inbox:
        settings = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            notify={"email": {"host": "127.0.0.1", "port": inbox.port, "security": "none"}},
        )
        hub = Hub(settings, quiet_site, factories=())
        with TestClient(hub.app()):
            ids = hub.ctx.identity
            ids.ensure_user(
                "tech-elec", "elec password 123", [Role.TECHNICIAN], email="liu@x.gov.cn"
            )
            ids.ensure_user("zhou", "zhou password 1234", [Role.STAFF], email="zhou@x.gov.cn")
            tickets = hub.ctx.tickets
            assert tickets is not None
            zhou = Principal("zhou", frozenset({Role.STAFF}))
            liu = Principal("tech-elec", frozenset({Role.TECHNICIAN}))
            t, _ = tickets.report(zhou, description="投影仪不亮", asset_id="projector-r101")
            inbox.wait(1)
            tickets.accept(t["id"], liu)
            inbox.wait(2)
            tickets.resolve(t["id"], liu, "更换灯泡", [])
            inbox.wait(3)
    (to1, m1), (to2, m2), (to3, m3) = inbox.mails
    assert to1 == ["liu@x.gov.cn"]
    assert m1["Subject"] == f"【新维修工单已派给您】#{t['id']} 第一会议室投影仪：投影仪不亮"
    assert (to2, m2["Subject"].split("】")[0]) == (["zhou@x.gov.cn"], "【维修工单已受理")
    assert (to3, m3["Subject"].split("】")[0]) == (["zhou@x.gov.cn"], "【维修已完成，请确认并评价")
