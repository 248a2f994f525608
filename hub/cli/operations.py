"""Operating the hub: backups, reports, BACnet discovery."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from hub.cli.support import (
    DEMO_SITE,
    settings_from,
)
from hub.site import SiteConfigError


@click.command("backup")
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

    settings = settings_from()
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


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that holds data.")
def restore_cmd(archive: Path, force: bool) -> None:
    """Restore a backup into this (stopped) hub's data folder and database."""
    from hub import backup as backups

    settings = settings_from()
    try:
        manifest = backups.read_manifest(archive)
        with click.progressbar(length=2 + manifest.files, label="restoring") as bar:
            backups.restore(settings, archive, force=force, progress=lambda _: bar.update(1))
    except backups.BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"restored the backup of {manifest.created} (hub {manifest.version})")


def _show_points(
    name: str | None,
    builtin: Path,
    load: Callable[[str, Path], Any],
    refused: type[Exception],
    row: Callable[[Any], str],
) -> None:
    """The built-in tables' names, or one table's points a line each."""
    if name is None:
        for path in sorted(builtin.glob("*.*")):
            click.echo(path.stem)
        return
    try:
        table = load(name, Path.cwd())
    except refused as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"# {table.name}: <device>.<id> in the hub")
    for p in table.points:
        click.echo(f"{p.id:24} {row(p)} {'rw' if p.writable else 'r ':2} {p.name}")


@click.group()
def modbus() -> None:
    """Modbus tools."""


@modbus.command("map")
@click.argument("name", required=False)
def modbus_map(name: str | None) -> None:
    """The point ids of a register map (a built-in one, or a file); without NAME, the
    built-in maps."""
    from adapters.modbus.points import BUILTIN_MAPS, MapError, load_map

    _show_points(
        name,
        BUILTIN_MAPS,
        load_map,
        MapError,
        lambda p: f"{p.table.value:8} {p.address:5} {p.type.value:8} {p.unit:6}",
    )


@click.group()
def bacnet() -> None:
    """BACnet/IP tools."""


@bacnet.command("list")
@click.argument("name", required=False)
def bacnet_list(name: str | None) -> None:
    """The point ids of a point list (a built-in one, or a file); without NAME, the
    built-in lists."""
    from adapters.bacnet.points import BUILTIN_LISTS, ListError, load_list

    _show_points(
        name,
        BUILTIN_LISTS,
        load_list,
        ListError,
        lambda p: f"{p.object:22} {p.unit or '':6} {'cov ' if p.cov else 'poll'}",
    )


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

    settings = settings_from()
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


@click.group()
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
    from hub.services.energy import energy_service, render
    from hub.services.energy.report import EnergyReport
    from hub.services.periods import parse_period
    from hub.services.tables import to_csv, to_xlsx
    from hub.storage import Database

    given = [p for p in (day, week, month, year) if p]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --day, --week, --month, --year")
    settings = settings_from(site_file=site_file)
    path = settings.site_file or DEMO_SITE
    try:
        site = load_site_for_hub(path)
        period = parse_period(given[0], ZoneInfo(site.site.timezone))
    except (SiteConfigError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    out = out or Path(f"energy-{period.label}.{fmt}")
    stages = ["consumption", "previous period", "last year", "out-of-hours use", "demand"]

    async def build() -> EnergyReport:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        telemetry = make_telemetry(settings, site)
        known = settings.database_url or (settings.data_dir / "hub.db").exists()
        db = Database.from_url(settings.db_url) if known else None  # bookings: occupancy
        await telemetry.start()
        try:
            with click.progressbar(
                length=len(stages) + 1, label=f"energy {period.label}", file=sys.stderr
            ) as bar:
                energy = energy_service(settings, site, telemetry, db)
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
        out.write_bytes(orjson.dumps(data.as_json(), option=orjson.OPT_INDENT_2))
    electricity = data.compound.get("electricity")
    total = electricity.total if electricity else None
    click.echo(f"{out}  ({period.label}, electricity {total} kWh)")
