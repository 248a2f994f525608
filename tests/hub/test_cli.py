"""The `hub` command as an operator uses it, run as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hub.storage.migrate import head
from tests.conftest import DEMO_SITE, ROOT
from tests.hub.site.test_loader import BROKEN
from tests.support.servers import free_port


def hub(
    *args: str, env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kw,  # type: ignore[call-overload]
    )


def test_check_prints_a_summary_of_a_good_site() -> None:
    r = hub("check", "-c", str(DEMO_SITE))
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    assert re.search(r"buildings\s+3", r.stdout)


def test_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    r = hub("check", "-c", str(path))
    assert r.returncode != 0
    assert "11 problem(s)" in r.stderr or "problem(s)" in r.stderr
    for fragment in (
        "devices[0].points[0].address",
        "must be 0..65535",
        "people[1].id",
        "patrol_routes[0].checkpoints[0]",
        "site.boundary.coordinates",
    ):
        assert fragment in r.stderr


def test_run_refuses_a_broken_site(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    r = hub("run", "-c", str(path), env={"HUB_DATA_DIR": str(tmp_path / "d")})
    assert r.returncode != 0
    assert "must be 0..65535" in r.stderr


def test_run_refuses_to_serve_pages_without_their_libraries(tmp_path: Path) -> None:
    """A `pip install` without `npm ci`: the wall would fail in the browser ("L is not
    defined") with nothing saying why; the hub says so and does not start."""
    web = tmp_path / "web"
    shutil.copytree(ROOT / "web", web, ignore=shutil.ignore_patterns("node_modules"))
    r = hub(
        "run",
        "-c",
        str(DEMO_SITE),
        env={"HUB_DATA_DIR": str(tmp_path / "d"), "HUB_WEB_DIR": str(web)},
    )
    assert r.returncode != 0
    assert "vendor/node_modules/leaflet/dist/leaflet.js" in r.stderr
    assert "npm ci" in r.stderr


def test_run_in_production_refuses_default_secrets(tmp_path: Path) -> None:
    r = hub(
        "run", "-c", str(DEMO_SITE), env={"HUB_ENV": "production", "HUB_DATA_DIR": str(tmp_path)}
    )
    assert r.returncode != 0
    assert "HUB_SECRET_KEY" in r.stderr


def test_user_add_and_migrate(tmp_path: Path) -> None:
    env = {"HUB_DATA_DIR": str(tmp_path), "HUB_NEW_PASSWORD": "a long enough password"}
    r = hub(
        "user",
        "add",
        "zhou",
        "--role",
        "dispatcher",
        "--role",
        "staff",
        "--unit",
        "u-logistics",
        "-c",
        str(DEMO_SITE),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "dispatcher, staff" in r.stdout
    r = hub("user", "add", "zhou", "--role", "staff", env=env)
    assert r.returncode != 0
    assert "already exists" in r.stderr
    r = hub("migrate", env=env)
    assert r.returncode == 0
    assert f"revision {head()}" in r.stdout
    r = hub("key", "add", "gate-main-1", "--role", "gate_terminal", env=env)
    assert r.returncode == 0
    assert r.stdout.startswith("dyh_")


def _get(url: str, token: str | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_demo_starts_prints_credentials_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "demo", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HUB_ADMIN_PASSWORD": ""},
    )
    assert proc.stdout is not None
    output = ""
    try:
        deadline = time.monotonic() + 60
        while "stop       Ctrl+C" not in output:
            assert time.monotonic() < deadline, output
            line = proc.stdout.readline()
            assert line, output  # the process died
            output += line
        password = re.search(r"sign in\s+admin / (\S+)", output).group(1)  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}/" in output

        status, health = _get(f"http://127.0.0.1:{port}/api/health")
        assert (status, health) == (200, {"status": "ok"})  # strangers learn up or down only

        form = f"username=admin&password={password}".encode()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/auth/token", form, timeout=5
        ) as r:
            token = json.loads(r.read())["access_token"]
        status, health = _get(f"http://127.0.0.1:{port}/api/health", token)
        assert health["components"]["mqtt_broker"]["status"] == "ok"
        status, users = _get(f"http://127.0.0.1:{port}/api/users", token)
        assert status == 200
        assert {"admin", "security", "wall"} <= {u["username"] for u in users}
        # guards walk (OwnTracks through the embedded broker), cars drive (OsmAnd over HTTP)
        deadline = time.monotonic() + 30
        seen: set[str] = set()
        while not {"g1", "g3", "car-1", "car-2"} <= seen:
            assert time.monotonic() < deadline, seen
            time.sleep(0.5)
            seen = {p["key"] for p in _get(f"http://127.0.0.1:{port}/api/positions", token)[1]}
        assert _get(f"http://127.0.0.1:{port}/api/users")[0] == 401
        assert "made the demo's day" in output
        # every demo account's home has what its role sees on a working day
        homes = {}
        for user in ("staff", "leader", "dispatcher", "driver1", "tech-elec", "security", "cook"):
            form = f"username={user}&password={password}".encode()
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/auth/token", form, timeout=5
            ) as r:
                who = json.loads(r.read())["access_token"]
            homes[user] = _get(f"http://127.0.0.1:{port}/api/home", who)[1]
        kinds = {u: {i["kind"] for i in h["items"]} for u, h in homes.items()}
        assert {"meeting", "car", "visit", "repair"} <= kinds["staff"]
        assert any(i["action"] == "rate" for i in homes["staff"]["items"])
        waiting = {i["id"].split(":")[0] for i in homes["leader"]["waiting"]}
        assert {"room", "car"} <= waiting
        assert homes["dispatcher"]["queues"]["cars_to_dispatch"] >= 1
        assert "tickets_unassigned" in homes["dispatcher"]["queues"]  # the site assigns by skill
        assert "trip" in kinds["driver1"]
        assert homes["tech-elec"]["queues"]["my_tickets"] >= 1
        assert "gate_reviews" in homes["security"]["queues"]
        assert "meal" in kinds["staff"]  # tomorrow's lunch, ordered
        assert "meals_waiting" in homes["cook"]["queues"]
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        output += rest
    assert proc.returncode == 0, output
    assert "hub stopped" in output


def test_demo_uses_the_admin_password_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "demo", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "HUB_ADMIN_PASSWORD": "my chosen demo password"},
    )
    assert proc.stdout is not None
    try:
        output = ""
        while "sign in" not in output:
            line = proc.stdout.readline()
            assert line, output
            output += line
        assert "admin / my chosen demo password" in output
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_check_names_the_bad_row_of_a_register_map(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "my_meter.csv").write_text(
        "id,table,address,type,unit\nvolts,input,0,float32,V\namps,input,2,float33,A\n",
        encoding="utf-8",
    )
    site = (
        DEMO_SITE.read_text(encoding="utf-8")
        .replace("unit: 3, map: eastron_sdm630", "unit: 3, map: maps/my_meter.csv")
        .replace("unit: 2, map: eastron_sdm630", "unit: 2, map: eastron_sdm630, baud: 9600")
    )
    (tmp_path / "site.yaml").write_text(site, encoding="utf-8")
    r = hub("check", "-c", str(tmp_path / "site.yaml"))
    assert r.returncode != 0
    assert "devices[2].connection.map" in r.stderr
    assert "my_meter.csv line 3: type" in r.stderr
    assert "devices[1].connection.baud" in r.stderr
    assert "unknown key" in r.stderr


def test_the_shipped_maps_and_lists_show_their_point_ids() -> None:
    maps = hub("modbus", "map")
    assert maps.stdout.split() == ["eastron_sdm630", "generic_ahu", "generic_chiller"]
    sdm = hub("modbus", "map", "eastron_sdm630").stdout
    assert "total_energy" in sdm
    assert "float32" in sdm
    ahu = hub("bacnet", "list", "ahu_controller").stdout
    assert "supply_temp" in ahu
    assert "analog-input,1" in ahu
    missing = hub("bacnet", "list", "no-such-list")
    assert missing.returncode != 0
    assert "built-in lists: ahu_controller, room_controller" in missing.stderr
