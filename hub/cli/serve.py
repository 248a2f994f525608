"""Running the hub: check a site file, run, the demo, migrate."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from hub.cli.support import (
    DEMO_SITE,
    DEMO_USERS,
    configure_logging,
    identity_of,
    require_web_libraries,
    run_until_stopped,
    settings_from,
    site_from,
)
from hub.errors import HubError
from hub.identity.roles import Role
from hub.settings import Settings
from hub.site import Site


@click.command()
@click.option(
    "-c",
    "--config",
    "site_file",
    type=click.Path(path_type=Path),
    required=True,
    help="The site file (YAML).",
)
def check(site_file: Path) -> None:
    """Check a site file: list every problem, or print a summary."""
    site = site_from(site_file)
    click.echo(f"{site_file}: OK — {site.site.name} ({site.site.id})")
    for name, n in site.summary().items():
        click.echo(f"  {name:<14} {n}")


@click.command()
@click.option(
    "-c",
    "--config",
    "site_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The site file (default: HUB_SITE_FILE).",
)
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
def run(site_file: Path | None, host: str | None, port: int | None) -> None:
    """Run the hub for a site, configured by HUB_* environment variables."""
    from hub.runtime import Hub

    settings = settings_from(site_file=site_file, host=host, port=port)
    if settings.site_file is None:
        raise click.ClickException("name the site file with -c FILE or HUB_SITE_FILE")
    configure_logging(settings.log_level)
    require_web_libraries(settings)
    site = site_from(settings.site_file)
    hub = Hub(settings, site)
    if settings.admin_password is not None:
        hub.migrate()
        hub.ctx.identity.ensure_user(
            settings.admin_username,
            settings.admin_password.get_secret_value(),
            [Role.ADMIN],
            display_name="Administrator",
        )
    run_until_stopped(hub.serve())


@click.command()
@click.option("--port", type=int, default=8000, show_default=True, help="HTTP port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the demo keeps its databases (default: a per-user folder).",
)
@click.option(
    "--mqtt-port",
    type=int,
    default=0,
    show_default=True,
    help="Port of the embedded MQTT broker (0: any free port).",
)
def demo(port: int, host: str, data_dir: Path | None, mqtt_port: int) -> None:
    """Run the demo compound on embedded defaults: SQLite, an in-process MQTT broker."""
    from adapters.embedded_broker.broker import free_port
    from hub.demo.content import seed_day
    from hub.demo.gate import DemoGate
    from hub.demo.runner import demo_simulators, free_udp_port, with_free_ports
    from hub.runtime import Hub, adapter_components

    mqtt_port = mqtt_port or free_port()  # fixed now: the simulated phones need it too
    overrides: dict[str, Any] = {
        "env": "demo",
        "host": host,
        "port": port,
        "site_file": DEMO_SITE,
        "mqtt": {"embedded": True, "host": "127.0.0.1", "port": mqtt_port},
        "bacnet": {"address": f"127.0.0.1/8:{free_udp_port()}"},
    }
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = settings_from(**overrides)
    configure_logging(settings.log_level)
    require_web_libraries(settings)
    site = with_free_ports(site_from(DEMO_SITE))
    osmand_url = f"http://127.0.0.1:{port}/api/osmand?key={_demo_tracker_key(settings, site)}"
    click.echo("preparing the demo's energy history (the first start takes a few seconds)")
    counters = asyncio.run(_demo_history(settings, site))
    hub = Hub(settings, site, factories=(demo_simulators(osmand_url, counters), adapter_components))
    hub.add_component(DemoGate(hub.ctx))  # visitors passing the main gate
    hub.migrate()
    password = os.environ.get("HUB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    try:
        hub.ctx.identity.ensure_user(
            settings.admin_username, password, [Role.ADMIN], display_name="Administrator"
        )
        for username, name, roles, unit in DEMO_USERS:
            hub.ctx.identity.ensure_user(
                username, password, roles, display_name=name, work_unit=unit
            )
    except HubError as err:
        raise click.ClickException(f"demo accounts: {err}") from err

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104

    def ready() -> None:
        if seed_day(hub.ctx):  # the first start: each account's home has its day
            click.echo("made the demo's day: meetings, car requests, visitors, repairs")
        names = ", ".join([settings.admin_username] + [u[0] for u in DEMO_USERS])
        click.echo(
            "\n"
            f"  dayuan hub demo — {site.site.name} / {site.site.name_en}\n"
            f"  open       {url}/\n"
            f"  wall       {url}/wall.html  (account wall, tick 'Wall display' at the login)\n"
            f"  API docs   {url}/api/docs\n"
            f"  health     {url}/api/health\n"
            f"  sign in    {settings.admin_username} / {password}\n"
            f"  accounts   {names} (same password)\n"
            f"  data       {settings.data_dir}\n"
            "  stop       Ctrl+C\n",
            err=False,
        )

    run_until_stopped(hub.serve(on_ready=ready))


async def _demo_history(settings: Settings, site: Site) -> dict[str, float]:
    """Seed the demo's meter history (once); where each meter's counter stands."""

    from hub.demo.history import seed_energy
    from hub.runtime import make_telemetry

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = make_telemetry(settings, site)
    await store.start()
    try:
        return await seed_energy(store, site, datetime.now(UTC))
    finally:
        await store.close()


def _demo_tracker_key(settings: Settings, site: Site) -> str:
    """A fresh device key for the demo's simulated trackers, bound to its cars' trackers
    (the last run's is revoked)."""
    identity = identity_of(None, settings)
    for key in identity.list_api_keys():
        if key["name"].startswith("demo-trackers") and not key["revoked"]:
            identity.revoke_api_key(key["id"], actor="demo")
    raw, _ = identity.create_api_key(
        f"demo-trackers-{secrets.token_hex(3)}",
        Role.DEVICE,
        actor="demo",
        trackers=[v.tracker for v in site.vehicles if v.tracker],
    )
    return str(raw)


@click.command()
def migrate() -> None:
    """Bring the relational database schema up to date (HUB_DATABASE_URL)."""
    from hub.storage import Database, upgrade
    from hub.storage.migrate import current

    settings = settings_from()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.db_url)
    upgrade(db.engine)
    click.echo(f"database at revision {current(db.engine)} ({db.dialect})")
    db.close()
