"""A running hub app (lifespan and all) with one signed-in user per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site

PASSWORD = "test password 123"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, demo_site: Site) -> Hub:
    data = tmp_path_factory.mktemp("hub")
    settings = Settings(data_dir=data, secret_key="k" * 48, site_file=Path("site.yaml"))
    return Hub(settings, demo_site, factories=())


@pytest.fixture(scope="module")
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(hub.app()) as c:
        yield c


@pytest.fixture(scope="module")
def tokens(hub: Hub, client: TestClient) -> dict[Role, str]:
    """A bearer token for a user holding exactly each role."""
    out = {}
    for role in Role:
        name = f"user-{role.value}"
        hub.ctx.identity.ensure_user(name, PASSWORD, [role], work_unit="u-office")
        r = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        out[role] = r.json()["access_token"]
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
