"""The production stack: the compose file is valid and keeps its secrets out of the file, and
the broker's production settings (authentication, ACLs, persistence, queue limit) hold when
Debian's mosquitto runs them."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.settings import Settings
from tests.conftest import ROOT
from tests.support.certs import self_signed
from tests.support.servers import free_port, terminate, wait_for_port
from tests.support.waiting import wait_for


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)  # the spec is draft-07
    assert {"hub", "mosquitto", "influxdb", "postgres"} <= set(compose["services"])


def test_compose_secrets_come_from_the_environment_and_are_required() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    env = compose["services"]["hub"]["environment"]
    assert env["HUB_ENV"] == "production"
    assert re.fullmatch(r"\$\{HUB_SECRET_KEY:\?.+\}", env["HUB_SECRET_KEY"])
    for name in ("POSTGRES_PASSWORD", "INFLUXDB_TOKEN", "MQTT_HUB_PASSWORD"):
        assert "${" + name + ":?" in text
    example = (ROOT / ".env.example").read_text()
    assert all(
        line.split("=", 1)[1].split("#")[0].strip() == ""
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    )


def compose_env(service: str) -> dict[str, str]:
    """A service's environment as compose hands it over, with .env's values filled in."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"][service]["environment"]
    filled = {"HUB_SECRET_KEY": "s" * 48, "HUB_ADMIN_PASSWORD": "a-strong-password-1"}

    def fill(match: re.Match[str]) -> str:
        return filled.get(match.group(1), f"<{match.group(1).lower()}>")

    return {k: re.sub(r"\$\{(\w+)(?::?[?-][^}]*)?\}", fill, str(v)) for k, v in env.items()}


@pytest.mark.parametrize("service", ["hub", "hub-2"])
def test_every_worker_in_compose_starts_as_a_production_scale_out_worker(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("HUB_")]:
        monkeypatch.delenv(name)
    for name, value in compose_env(service).items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # the production checks pass: nothing default, nothing missing
    assert settings.env == "production"
    assert settings.db_url.startswith("postgresql+psycopg://hub:<postgres_password>@postgres")
    assert settings.telemetry_backend == "influxdb"
    assert settings.influx.api == "v2"
    assert settings.mqtt.relay
    assert settings.mqtt.shared_group == "hub"
    assert settings.files_dir == Path("/var/lib/hub-shared")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    retention = compose["services"]["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_RETENTION"]
    assert int(retention.rstrip("d")) >= settings.telemetry_retention_days


def test_the_workers_in_compose_have_their_own_names_and_spools_and_share_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    one, two = (compose["services"][s] for s in ("hub", "hub-2"))
    assert one["environment"]["HUB_MQTT__CLIENT_ID"] != two["environment"]["HUB_MQTT__CLIENT_ID"]
    data = [next(v for v in w["volumes"] if v.endswith(":/var/lib/hub")) for w in (one, two)]
    assert data[0] != data[1]
    shared = [
        next(v for v in w["volumes"] if v.endswith(":/var/lib/hub-shared")) for w in (one, two)
    ]
    assert shared[0] == shared[1]


def test_mosquitto_keeps_the_hubs_backlog() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    limit = int(re.search(r"^max_queued_messages (\d+)", conf, re.M).group(1))  # type: ignore[union-attr]
    assert limit > 1000


# -- the production broker's settings, run by Debian's mosquitto -----------------------------


class ProductionBroker:
    """deploy/mosquitto as compose runs it, on a loopback port: its mosquitto.conf and acl,
    with the container's paths pointed at a temporary folder."""

    USERS = {"hub": "hub-secret", "g1": "phone-secret", "cp-north": "node-secret"}

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.tls_port = free_port()
        self.ca, _ = self_signed(root / "certs")  # the operator's certificate
        conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
        conf = conf.replace("listener 1883", f"listener {self.port} 127.0.0.1")
        conf = conf.replace("listener 8883", f"listener {self.tls_port} 127.0.0.1")
        conf = conf.replace("/mosquitto/config/", f"{root}/").replace(
            "/mosquitto/data/", f"{root}/"
        )
        conf = conf.replace("/mosquitto/certs/", f"{root}/certs/")
        (root / "mosquitto.conf").write_text(conf + f"log_dest file {root}/mosquitto.log\n")
        shutil.copy(ROOT / "deploy" / "mosquitto" / "acl", root / "acl")
        passwd = root / "passwd"
        passwd.touch()
        for user, password in self.USERS.items():
            subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
        if os.geteuid() == 0:  # mosquitto drops root for its own user
            with contextlib.suppress(KeyError):
                pw = pwd.getpwnam("mosquitto")
                for path in (
                    root,
                    passwd,
                    root / "acl",
                    root / "mosquitto.conf",
                    *root.glob("certs*/*"),
                    root / "certs",
                ):
                    os.chown(path, pw.pw_uid, pw.pw_gid)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([binary, "-c", str(self.root / "mosquitto.conf")])
        wait_for_port(self.port, 15)

    def stop(self) -> None:
        terminate(self.proc)  # SIGTERM: mosquitto writes its persistence file


def client(
    broker: ProductionBroker,
    user: str | None,
    *,
    client_id: str = "",
    persistent: bool = False,
    tls: bool = False,
) -> tuple[paho.Client, list[str], list[str]]:
    """A connected MQTT 5 client; what it receives and how its connection ended up."""
    received: list[str] = []
    outcome: list[str] = []
    c = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id or f"{user}-{free_port()}",
        protocol=paho.MQTTv5,
    )
    if user:
        c.username_pw_set(user, broker.USERS[user])
    c.on_message = lambda _c, _u, msg: received.append(msg.topic)
    c.on_connect = lambda _c, _u, _f, reason, _p: outcome.append(str(reason))
    props = None
    if persistent:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
    if tls:
        c.tls_set(ca_certs=str(broker.ca))
    port = broker.tls_port if tls else broker.port
    c.connect("127.0.0.1", port, clean_start=not persistent, properties=props)
    c.loop_start()
    wait_for(lambda: outcome, "the CONNACK", timeout=10)
    return c, received, outcome


def subscribe(c: paho.Client, topic: Any, qos: int = 0) -> None:
    """Subscribe, and return once the broker has acknowledged (its SUBACK)."""
    acked = threading.Event()
    c.on_subscribe = lambda *_: acked.set()
    c.subscribe(topic, qos)
    assert acked.wait(10), "no SUBACK"


def settle(check: Any, timeout: float = 10.0) -> None:
    wait_for(check, "the messages", timeout=timeout)


@pytest.fixture
def broker() -> Iterator[ProductionBroker]:
    root = Path(tempfile.mkdtemp(prefix="hub-broker-"))  # mosquitto's user can reach it
    b = ProductionBroker(root)
    b.start()
    yield b
    b.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_the_production_broker_lets_each_device_write_only_its_own_topics(
    broker: ProductionBroker,
) -> None:
    _, _, refused = client(broker, None)
    assert refused == ["Not authorized"]  # no anonymous clients
    hub, got, _ = client(broker, "hub")
    subscribe(hub, [("owntracks/#", 1), ("espresense/#", 1), ("hub/cluster/#", 1)])
    phone, phone_got, _ = client(broker, "g1")
    subscribe(phone, "hub/#", 1)  # nothing of the hub's is the phone's to read
    node, _, _ = client(broker, "cp-north")
    phone.publish("owntracks/g1/phone", b"{}", qos=1).wait_for_publish(5)
    phone.publish("owntracks/g2/phone", b"{}", qos=1).wait_for_publish(5)  # posing as g2
    node.publish("espresense/devices/badge-7/cp-north", b"{}", qos=1).wait_for_publish(5)
    node.publish("espresense/devices/badge-7/cp-south", b"{}", qos=1).wait_for_publish(5)
    hub.publish("hub/cluster/hub-a/events", b"[]", qos=1).wait_for_publish(5)
    hub.publish("hub/alarms/fault", b"{}", qos=1).wait_for_publish(5)
    settle(lambda: len(got) >= 3)
    time.sleep(0.5)  # what the broker refused would have arrived by now
    assert sorted(got) == [
        "espresense/devices/badge-7/cp-north",
        "hub/cluster/hub-a/events",
        "owntracks/g1/phone",
    ]
    assert phone_got == []
    for c in (hub, phone, node):
        c.loop_stop()
        c.disconnect()


def test_the_compose_health_check_of_the_broker_passes(broker: ProductionBroker) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    check = compose["services"]["mosquitto"]["healthcheck"]["test"][1]
    command = check.replace("$$", "$").replace("127.0.0.1", f"127.0.0.1 -p {broker.port}")
    env = {**os.environ, "MQTT_HUB_PASSWORD": broker.USERS["hub"]}
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    wrong = {**env, "MQTT_HUB_PASSWORD": "wrong"}
    refused = subprocess.run(["sh", "-c", command], env=wrong, capture_output=True, timeout=30)
    assert refused.returncode != 0


def test_the_hubs_session_keeps_a_backlog_beyond_1000_across_a_broker_restart(
    broker: ProductionBroker,
) -> None:
    """The hub offline (a deploy), 5,000 fixes arrive, the broker restarts: the hub's
    persistent session gets every one (mosquitto's default queue limit would keep 1,000)."""
    hub, _, _ = client(broker, "hub", client_id="dayuan-hub", persistent=True)
    subscribe(hub, "owntracks/#", 1)
    hub.loop_stop()
    hub.disconnect()
    phone, _, _ = client(broker, "g1")
    backlog = 5000
    for i in range(backlog):
        info = phone.publish("owntracks/g1/phone", str(i).encode(), qos=1)
    info.wait_for_publish(30)
    phone.loop_stop()
    phone.disconnect()
    broker.stop()
    broker.start()
    hub, got, _ = client(broker, "hub", client_id="dayuan-hub", persistent=True)
    settle(lambda: len(got) >= backlog, timeout=30)
    assert len(got) == backlog
    hub.loop_stop()
    hub.disconnect()


def test_the_image_gives_the_hub_user_every_folder_compose_mounts_for_writing() -> None:
    """A named volume takes the owner of the image's folder on first use: a folder the image
    lacks would be root's, and the hub (not root) could not write its spool or photos."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    owned = {p for m in re.finditer(r"chown hub ([^&\n]+)", dockerfile) for p in m.group(1).split()}
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("hub", "hub-2"):
        for volume in compose["services"][name]["volumes"]:
            target = volume.split(":")[1]
            if not volume.endswith(":ro"):
                assert target in owned, (name, target)


def test_devices_reach_the_broker_over_tls_and_still_sign_in(broker: ProductionBroker) -> None:
    hub, got, _ = client(broker, "hub")  # the workers, on the compose network's plain port
    subscribe(hub, "owntracks/#", 1)
    _, _, refused = client(broker, None, tls=True)
    assert refused == ["Not authorized"]  # TLS is no way around authentication
    phone, _, outcome = client(broker, "g1", tls=True)
    assert outcome == ["Success"]
    phone.publish("owntracks/g1/phone", b"{}", qos=1).wait_for_publish(5)
    settle(lambda: got == ["owntracks/g1/phone"])
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["mosquitto"]["ports"] == ["8883:8883"]  # plain MQTT unpublished
    for c in (hub, phone):
        c.loop_stop()
        c.disconnect()
