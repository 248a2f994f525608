"""What the `hub` commands share: settings, the site, logging, the identity service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from hub.identity.roles import Role
from hub.settings import Settings
from hub.site import Site, SiteConfigError

DEMO_SITE = Path(__file__).parents[1] / "demo" / "site.yaml"

# Demo accounts, one per kind of user, sharing the printed password.
DEMO_USERS: list[tuple[str, str, list[Role], str | None]] = [
    ("security", "保卫科值班员 Security desk", [Role.SECURITY], "u-security"),
    ("dispatcher", "调度员 Dispatcher", [Role.DISPATCHER], "u-logistics"),
    ("tech-hvac", "陈师傅 HVAC technician", [Role.TECHNICIAN], "u-logistics"),
    ("tech-elec", "刘师傅 Electrician", [Role.TECHNICIAN], "u-logistics"),
    ("staff", "办公室职员 Staff member", [Role.STAFF], "u-office"),
    ("leader", "办公室主任 Office director (approves)", [Role.STAFF], "u-office"),
    ("driver1", "周司机 Driver", [Role.STAFF], "u-logistics"),
    ("guard1", "王保安 Guard (west round)", [Role.SECURITY], "u-security"),
    ("wall", "监控大屏 Wall display", [Role.DISPLAY], "u-security"),
    ("manager", "后勤处长 Facilities manager (reports)", [Role.MANAGER], "u-logistics"),
    ("cook", "食堂管理员 Canteen (menus, counter)", [Role.CANTEEN], "u-logistics"),
]


def settings_from(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        lines = []
        for e in err.errors():
            where = ".".join(str(p) for p in e["loc"])
            lines.append(
                f"  - {where + ': ' if where else ''}{e['msg'].removeprefix('Value error, ')}"
            )
        raise click.ClickException("invalid settings:\n" + "\n".join(lines)) from err
    except SettingsError as err:  # a HUB_* value that isn't the JSON a list or a table needs
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        raise click.ClickException(f"invalid settings: {err}{cause}") from err


def site_from(path: Path) -> Site:
    from hub.runtime import load_site_for_hub

    try:
        return load_site_for_hub(path)
    except SiteConfigError as err:
        raise click.ClickException(str(err)) from err


def run_until_stopped(coro: Any) -> None:
    """Run the server until it stops; Ctrl+C or SIGTERM after a clean shutdown is success."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(coro)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    # Libraries that narrate every state change at INFO.
    for noisy in ("transitions", "amqtt", "alembic.runtime.migration", "pymodbus", "bacpypes3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def identity_of(site_file: Path | None, settings: Settings | None = None) -> Any:
    from hub.identity import IdentityService
    from hub.storage import Database, upgrade

    settings = settings or settings_from(site_file=site_file)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.db_url)
    upgrade(db.engine)
    units = None
    if settings.site_file is not None:
        units = [u.id for u in site_from(settings.site_file).work_units]
    return IdentityService(db, settings.resolve_secret(), known_units=units)


def require_web_libraries(settings: Settings) -> None:
    """Refuse to serve pages whose npm libraries are missing (the wall would fail in the
    browser with "L is not defined" and nothing else would say why)."""
    from hub.api.app import missing_web_libraries

    if not settings.web_dir.is_dir():
        return  # an API-only hub serves no pages
    missing = missing_web_libraries(settings.web_dir)
    if missing:
        raise click.ClickException(
            f"the pages' libraries are missing ({', '.join(missing)}): run "
            f"`npm ci --prefix {settings.web_dir / 'vendor'}` (scripts/setup.sh does)"
        )
