"""The production compose file is valid and keeps its secrets out of the file."""

from __future__ import annotations

import json
import re

import jsonschema
import yaml

from tests.conftest import ROOT


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


def test_mosquitto_keeps_the_hubs_backlog() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    limit = int(re.search(r"^max_queued_messages (\d+)", conf, re.M).group(1))  # type: ignore[union-attr]
    assert limit > 1000
