"""The `hub` command: run, demo, check, migrate, user and key management."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from hub.errors import HubError
from hub.identity.roles import Role
from hub.settings import Settings
from hub.site import Site, SiteConfigError

DEMO_SITE = Path(__file__).parent / "demo" / "site.yaml"

# Demo accounts, one per kind of user, sharing the printed password.
DEMO_USERS: list[tuple[str, str, list[Role], str | None]] = [
    ("security", "保卫科值班员 Security desk", [Role.SECURITY], "u-security"),
    ("dispatcher", "调度员 Dispatcher", [Role.DISPATCHER], "u-logistics"),
    ("tech-hvac", "陈师傅 HVAC technician", [Role.TECHNICIAN], "u-logistics"),
    ("tech-elec", "刘师傅 Electrician", [Role.TECHNICIAN], "u-logistics"),
    ("staff", "办公室职员 Staff member", [Role.STAFF], "u-office"),
    ("leader", "办公室主任 Office director (approves)", [Role.STAFF], "u-office"),
    ("driver1", "周司机 Driver", [Role.STAFF], "u-logistics"),
    ("wall", "监控大屏 Wall display", [Role.DISPLAY], "u-security"),
    ("manager", "后勤处长 Facilities manager (reports)", [Role.MANAGER], "u-logistics"),
]


def _settings(**overrides: Any) -> Settings:
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


def _site(path: Path) -> Site:
    from hub.runtime import load_site_for_hub

    try:
        return load_site_for_hub(path)
    except SiteConfigError as err:
        raise click.ClickException(str(err)) from err


def _serve(coro: Any) -> None:
    """Run the server until it stops; Ctrl+C or SIGTERM after a clean shutdown is success."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(coro)


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    # Libraries that narrate every state change at INFO.
    for noisy in ("transitions", "amqtt", "alembic.runtime.migration", "pymodbus", "bacpypes3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


@click.group()
@click.version_option(package_name="dayuan-hub")
def main() -> None:
    """dayuan hub — smart-building and security supervision for an administrative compound."""


@main.command()
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
    site = _site(site_file)
    click.echo(f"{site_file}: OK — {site.site.name} ({site.site.id})")
    for name, n in site.summary().items():
        click.echo(f"  {name:<14} {n}")


@main.command()
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

    settings = _settings(site_file=site_file, host=host, port=port)
    if settings.site_file is None:
        raise click.ClickException("name the site file with -c FILE or HUB_SITE_FILE")
    _logging(settings.log_level)
    site = _site(settings.site_file)
    hub = Hub(settings, site)
    if settings.admin_password is not None:
        hub.migrate()
        hub.ctx.identity.ensure_user(
            settings.admin_username,
            settings.admin_password.get_secret_value(),
            [Role.ADMIN],
            display_name="Administrator",
        )
    _serve(hub.serve())


@main.command()
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
    settings = _settings(**overrides)
    _logging(settings.log_level)
    site = with_free_ports(_site(DEMO_SITE))
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

    _serve(hub.serve(on_ready=ready))


async def _demo_history(settings: Settings, site: Site) -> dict[str, float]:
    """Seed the demo's meter history (once); where each meter's counter stands."""
    from datetime import UTC, datetime

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
    identity = _identity(None, settings)
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


@main.command()
def migrate() -> None:
    """Bring the relational database schema up to date (HUB_DATABASE_URL)."""
    from hub.storage import Database, upgrade
    from hub.storage.migrate import current

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.db_url)
    upgrade(db.engine)
    click.echo(f"database at revision {current(db.engine)} ({db.dialect})")
    db.close()


def _identity(site_file: Path | None, settings: Settings | None = None) -> Any:
    from hub.identity import IdentityService
    from hub.storage import Database, upgrade

    settings = settings or _settings(site_file=site_file)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.db_url)
    upgrade(db.engine)
    units = None
    if settings.site_file is not None:
        units = [u.id for u in _site(settings.site_file).work_units]
    return IdentityService(db, settings.resolve_secret(), known_units=units)


@main.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="A role (repeat for several).",
)
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--unit", "work_unit", default=None, help="Work unit id from the site file.")
@click.option("--email", default=None, help="E-mail address for alarm notifications.")
@click.option(
    "-c",
    "--config",
    "site_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Site file, to check the work unit.",
)
@click.password_option(
    help="Password (prompted when omitted; HUB_NEW_PASSWORD also works).", envvar="HUB_NEW_PASSWORD"
)
def user_add(
    username: str,
    roles: tuple[str, ...],
    display_name: str,
    work_unit: str | None,
    email: str | None,
    site_file: Path | None,
    password: str,
) -> None:
    """Create a user account."""
    identity = _identity(site_file)
    try:
        view = identity.create_user(
            username,
            password,
            [Role(r) for r in roles],
            display_name=display_name,
            work_unit=work_unit,
            email=email,
            actor="cli",
        )
    except HubError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"created user {view.username} with roles {', '.join(view.roles)}")


@user.command("unlock")
@click.argument("username", required=False)
@click.option("--address", default=None, help="Lift a client address's lock instead.")
def user_unlock(username: str | None, address: str | None) -> None:
    """Lift a sign-in lock (an account's, or with --address a client address's)."""
    if bool(username) == bool(address):
        raise click.UsageError("name a user or give --address")
    identity = _identity(None)
    keys = [f"addr:{address}", f"cred:{address}"] if address else [f"account:{username}".lower()]
    lifted = [k for k in keys if identity.lift_lock(k, actor="cli")]
    click.echo(f"lifted {', '.join(lifted)}" if lifted else "nothing was locked")


@user.command("locks")
def user_locks() -> None:
    """Accounts and addresses with failed sign-ins now (locked ones with their end)."""
    for row in _identity(None).throttle.locks():
        until = row["blocked_until"]
        state = f"waits until {until:%Y-%m-%d %H:%M:%S}Z" if until else "free"
        click.echo(f"{row['key']}\t{row['failures']} failures\t{state}")


@main.command("backup")
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="The archive to write (default: <data dir>/backups/hub-<time>.tar.gz).",
)
def backup_cmd(target: Path | None) -> None:
    """Back up the running hub: database, telemetry, files (one consistent archive)."""
    from hub import backup as backups

    settings = _settings()
    target = target or settings.data_dir / "backups" / backups.archive_name(datetime.now(UTC))
    with click.progressbar(length=backups.steps(settings), label="backing up") as bar:
        try:
            manifest = backups.backup(settings, target, progress=lambda _: bar.update(1))
        except backups.BackupError as err:
            raise click.ClickException(str(err)) from err
    size = target.stat().st_size / 1e6
    click.echo(f"{target} ({size:.1f} MB; schema {manifest.schema}, {manifest.files} files)")
    if manifest.telemetry == "influxdb":
        click.echo("telemetry is in InfluxDB: back it up with `influx backup`")


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that holds data.")
def restore_cmd(archive: Path, force: bool) -> None:
    """Restore a backup into this (stopped) hub's data folder and database."""
    from hub import backup as backups

    settings = _settings()
    try:
        manifest = backups.read_manifest(archive)
        with click.progressbar(length=2 + manifest.files, label="restoring") as bar:
            backups.restore(settings, archive, force=force, progress=lambda _: bar.update(1))
    except backups.BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"restored the backup of {manifest.created} (hub {manifest.version})")


@main.group()
def bacnet() -> None:
    """BACnet/IP tools."""


@bacnet.command("discover")
@click.option("--address", default=None, help="Ask one device (ip[:port]); default: broadcast.")
@click.option("--low", type=int, default=None, help="Lowest device instance.")
@click.option("--high", type=int, default=None, help="Highest device instance.")
@click.option(
    "--local", default=None, help="The hub's BACnet address (default HUB_BACNET__ADDRESS)."
)
@click.option("--bbmd", default=None, help="Register as a foreign device with this BBMD.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write one proposed point list per device into this folder.",
)
def bacnet_discover(
    address: str | None,
    low: int | None,
    high: int | None,
    local: str | None,
    bbmd: str | None,
    out: Path | None,
) -> None:
    """Find devices (Who-Is) and propose a point list from each one's object list."""
    from adapters.bacnet import BacnetLink, discover, proposal_yaml

    settings = _settings()
    b = settings.bacnet

    async def run() -> list[dict[str, Any]]:
        link = BacnetLink(
            local or b.address,
            b.device_instance,
            bbmd=bbmd or b.bbmd,
            ttl_s=b.ttl_s,
            apdu_timeout_ms=b.apdu_timeout_ms,
            retries=b.retries,
        )
        await link.start()
        try:
            return await discover(link, address=address, low=low, high=high)
        finally:
            link.close()

    found = asyncio.run(run())
    if not found:
        raise click.ClickException("no device answered")
    for device in found:
        click.echo(
            f"device {device['device_instance']} at {device['address']}: "
            f"{device['name']} ({len(device['points'])} points)"
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"device_{device['device_instance']}.yaml"
            path.write_text(proposal_yaml(device), encoding="utf-8")
            click.echo(f"  proposed point list: {path}")


@main.group()
def key() -> None:
    """Manage API keys for machines (gate terminals, trackers, displays)."""


@key.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        sorted(r.value for r in (Role.GATE_TERMINAL, Role.DEVICE, Role.DISPLAY, Role.ADMIN))
    ),
)
@click.option("--unit", "work_unit", default=None, help="Work unit id.")
@click.option(
    "--tracker",
    "trackers",
    multiple=True,
    help="A tracker this device key reports for (its id as it sends it); repeat for more.",
)
def key_add(name: str, role: str, work_unit: str | None, trackers: tuple[str, ...]) -> None:
    """Create an API key and print it (it is shown only once)."""
    identity = _identity(None)
    try:
        raw, _ = identity.create_api_key(
            name, Role(role), actor="cli", work_unit=work_unit, trackers=trackers
        )
    except HubError as err:
        raise click.ClickException(str(err)) from err
    click.echo(raw)


@main.group()
def report() -> None:
    """Reports from the hub's data."""


@report.command("energy")
@click.option("--day", "day", default=None, help="A day, 2026-10-05.")
@click.option("--week", "week", default=None, help="An ISO week, 2026-W41.")
@click.option("--month", "month", default=None, help="A month, 2026-10.")
@click.option("--year", "year", default=None, help="A year, 2026.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "xlsx", "csv", "json"]),
    default="pdf",
    show_default=True,
)
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="File to write.")
@click.option(
    "--site",
    "site_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Site file (default: HUB_SITE_FILE, else the demo compound).",
)
def report_energy(
    day: str | None,
    week: str | None,
    month: str | None,
    year: str | None,
    fmt: str,
    lang: str,
    out: Path | None,
    site_file: Path | None,
) -> None:
    """Energy report of a period from the hub's telemetry (the hub may be running)."""
    from zoneinfo import ZoneInfo

    import orjson

    from hub.runtime import load_site_for_hub, make_telemetry
    from hub.services.energy import render
    from hub.services.energy.periods import parse_period
    from hub.services.energy.service import EnergyService
    from hub.services.tables import to_csv, to_xlsx
    from hub.storage import Database

    given = [p for p in (day, week, month, year) if p]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --day, --week, --month, --year")
    settings = _settings(site_file=site_file)
    path = settings.site_file or DEMO_SITE
    try:
        site = load_site_for_hub(path)
        period = parse_period(given[0], ZoneInfo(site.site.timezone))
    except (SiteConfigError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    out = out or Path(f"energy-{period.label}.{fmt}")
    stages = ["consumption", "previous period", "last year", "out-of-hours use", "demand"]

    async def build() -> dict[str, Any]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        telemetry = make_telemetry(settings, site)
        known = settings.database_url or (settings.data_dir / "hub.db").exists()
        db = Database.from_url(settings.db_url) if known else None  # bookings: occupancy
        await telemetry.start()
        try:
            with click.progressbar(
                length=len(stages) + 1, label=f"energy {period.label}", file=sys.stderr
            ) as bar:
                energy = EnergyService(site, telemetry, db=db)
                return await energy.report(period, progress=lambda _stage: bar.update(1))
        finally:
            await telemetry.close()
            if db is not None:
                db.close()

    data = asyncio.run(build())
    if fmt == "pdf":
        out.write_bytes(render.pdf(data, lang))
    elif fmt == "xlsx":
        out.write_bytes(to_xlsx(render.sheets(data)))
    elif fmt == "csv":
        columns, rows = render.sheets(data)["summary"]
        out.write_text(to_csv(columns, rows), encoding="utf-8")
    else:
        out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    total = data["compound"].get("electricity", {}).get("total")
    click.echo(f"{out}  ({period.label}, electricity {total} kWh)")
