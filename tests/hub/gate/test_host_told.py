"""The host hears of a visitor's arrival by e-mail (a real SMTP server, aiosmtpd), and the
gate API survives whatever a terminal sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.identity import Role
from hub.identity.roles import Principal
from hub.runtime import Hub
from hub.services.gate.visits import VisitorIn
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.mail import smtp_inbox


def test_the_host_is_told_of_the_arrival_and_bad_input_gets_answers_not_errors(
    tmp_path: Path, quiet_site: Site
) -> None:
    with smtp_inbox() as inbox:
        config = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=DEMO_SITE,
            notify={"email": {"host": "127.0.0.1", "port": inbox.port, "security": "none"}},
        )
        hub = Hub(config, quiet_site, factories=())
        with TestClient(hub.app()) as client:
            hub.ctx.identity.ensure_user(
                "staff", "staff password 12", [Role.STAFF], email="host@x.gov.cn"
            )
            assert hub.ctx.visits is not None
            now = datetime.now(UTC)
            hub.ctx.visits.register(
                Principal("staff", frozenset({Role.STAFF}), "u-office"),
                purpose="座谈",
                start=now - timedelta(minutes=5),
                end=now + timedelta(hours=2),
                visitors=[VisitorIn("李雷", plate="苏E12345")],
            )
            key = hub.ctx.identity.create_api_key("t1", Role.GATE_TERMINAL, actor="test")[0]
            h = {"X-API-Key": key}
            r = client.post(
                "/api/gate/decide",
                json={"gate_id": "gate-main", "direction": "in", "plate": "苏E12345"},
                headers=h,
            )
            assert r.json()["decision"] == "allow"
            inbox.wait(1)

            @settings(
                max_examples=60,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture],
            )
            @given(
                plate=st.one_of(st.none(), st.text(max_size=40)),
                qr=st.one_of(
                    st.none(),
                    st.text(max_size=300),
                    st.from_regex(
                        r"ey[A-Za-z0-9_\-]{5,40}\.[A-Za-z0-9_\-]{5,80}\.[A-Za-z0-9_\-]{0,90}",
                        fullmatch=True,
                    ),
                ),
                direction=st.sampled_from(["in", "out", "sideways"]),
            )
            def any_input(plate: str | None, qr: str | None, direction: str) -> None:
                body = {"gate_id": "gate-main", "direction": direction, "plate": plate, "qr": qr}
                r = client.post("/api/gate/decide", json=body, headers=h)
                assert r.status_code in (200, 422), r.text
                if r.status_code == 200:
                    assert r.json()["decision"] in ("allow", "deny", "review")

            any_input()
    ((to, mail),) = inbox.mails
    assert to == ["host@x.gov.cn"]
    assert mail["Subject"] == "【访客到达】苏E12345 李* 已从南大门进入"
