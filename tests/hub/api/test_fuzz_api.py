"""Every operation of the hub's API fuzzed from its own OpenAPI schema (schemathesis's
hypothesis strategies) against the hub served over HTTP on loopback, signed in as an
administrator (who may call everything): whatever arrives — odd strings, huge numbers,
missing fields, wrong types — the answer is never a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import given

from hub.identity import Role
from hub.runtime import Hub
from hub.settings import Settings
from hub.site import Site
from tests.conftest import DEMO_SITE
from tests.support.fuzz import fuzz
from tests.support.web import serve

PASSWORD = "fuzzing password 123"
EXAMPLES = 25  # per operation


def test_no_input_makes_a_server_error(tmp_path: Path, demo_site: Site) -> None:
    config = Settings(data_dir=tmp_path, secret_key="k" * 48, site_file=DEMO_SITE)
    hub = Hub(config, demo_site, factories=())
    with serve(hub) as url:
        hub.ctx.identity.ensure_user("fuzzer", PASSWORD, [Role.ADMIN], work_unit="u-office")
        headers = {"Authorization": f"Bearer {hub.ctx.identity.login('fuzzer', PASSWORD)}"}
        schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 100

        for operation in operations:

            @given(case=operation.as_strategy())
            @fuzz(EXAMPLES)
            def call(case: Any) -> None:
                response = case.call(headers=headers)
                assert response.status_code < 500, (
                    f"{case.method} {case.formatted_path} {case.query or ''} "
                    f"{str(case.body)[:200]} -> {response.status_code} {response.text[:300]}"
                )

            call()
