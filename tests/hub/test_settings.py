"""Settings: production refuses default secrets; development generates and keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.settings import Settings


def test_production_refuses_missing_or_weak_secrets(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        Settings(env="production", data_dir=tmp_path)
    text = str(err.value)
    assert "HUB_SECRET_KEY" in text
    assert "HUB_DATABASE_URL" in text
    assert "HUB_SITE_FILE" in text
    with pytest.raises(ValidationError, match="HUB_SECRET_KEY"):
        Settings(
            env="production",
            secret_key="changeme",
            database_url="postgresql://x/y",
            site_file=tmp_path / "s.yaml",
            data_dir=tmp_path,
        )


def test_production_starts_with_explicit_settings(tmp_path: Path) -> None:
    s = Settings(
        env="production",
        secret_key="k" * 40,
        database_url="postgresql+psycopg://h/db",
        site_file=tmp_path / "site.yaml",
        data_dir=tmp_path,
    )
    assert s.db_url == "postgresql+psycopg://h/db"


def test_production_refuses_the_embedded_broker(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="embedded MQTT broker"):
        Settings(
            env="production",
            secret_key="k" * 40,
            database_url="postgresql://h/db",
            site_file=tmp_path / "s.yaml",
            data_dir=tmp_path,
            mqtt={"embedded": True},
        )


def test_development_generates_one_secret_and_keeps_it_private(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    first = s.resolve_secret()
    assert len(first) >= 48
    assert Settings(data_dir=tmp_path).resolve_secret() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_configure_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_PORT", "9000")
    monkeypatch.setenv("HUB_MQTT__PORT", "1884")
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    s = Settings()
    assert s.port == 9000
    assert s.mqtt.port == 1884
    assert s.db_url == f"sqlite:///{tmp_path / 'hub.db'}"
