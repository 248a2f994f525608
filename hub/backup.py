"""Backups while the hub runs, and restoring them on a fresh machine.

One archive (`.tar.gz`) holds everything a hub needs to come back as it was:

    manifest.json           what is inside: hub version, schema revision, backends, when
    db/hub.db               the relational store, by SQLite's online backup API (consistent
    db/hub.pgdump             while the hub writes), or `pg_dump --format=custom` (PostgreSQL)
    telemetry/telemetry.db  the embedded telemetry store (online backup); InfluxDB keeps its own
    telemetry/influx.db     the InfluxDB spool: points not yet delivered
    data/secret_key         the per-install secret, when there is one (tokens, ID-number hashes)
    files/…                 the shared folder: photos, stored reports, the gate's pass key

Telemetry in InfluxDB is backed up with InfluxDB's own tools (`influx backup`); the archive
says so in its manifest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from hub import __version__
from hub.settings import Settings
from hub.tasks import Periodic

Progress = Callable[[str], None]
FORMAT = 1
# what the relational and telemetry stores keep in the data folder: copied by their own
# online backups, never as files that may be mid-write
_STORE_FILES = ("hub.db", "telemetry.db", "secret_key")
_SKIP_DIRS = ("spool", "backups")


class BackupError(Exception):
    """A backup or restore could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an archive holds."""

    format: int
    version: str
    created: str
    schema: str | None
    database: str  # "sqlite" or "postgresql"
    telemetry: str  # "sqlite" or "influxdb" (then not in the archive)
    files: int

    @classmethod
    def read(cls, data: dict[str, Any]) -> Manifest:
        """The manifest of an archive; BackupError if it is not one of ours."""
        try:
            return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})
        except (KeyError, TypeError) as err:
            raise BackupError(f"not a hub backup (manifest: {err})") from None


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its online backup API)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=1024)
    finally:
        src.close()
        dst.close()
    os.chmod(target, 0o600)


def _pg_tool(tool: str, url: str, *args: str) -> None:
    """Run pg_dump or pg_restore against the database at `url` (the password goes in the
    environment, not on a command line others can read)."""
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} is missing: install PostgreSQL's client tools")
    parsed = make_url(url)
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    target = parsed.set(drivername="postgresql", password=None).render_as_string()
    done = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [exe, *args, f"--dbname={target}"], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()}")


def _files_of(settings: Settings) -> Iterator[tuple[Path, str]]:
    """The shared folder's files (path, name in the archive), stores and backups left out."""
    root = settings.files_dir
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in _SKIP_DIRS:
            continue
        if len(rel.parts) == 1 and rel.name.startswith(_STORE_FILES):
            continue  # hub.db, hub.db-wal, telemetry.db…: copied by the stores' backups
        yield path, f"files/{rel.as_posix()}"


def steps(settings: Settings) -> int:
    """How many times `backup` will call its `progress`: the database, the telemetry, and
    each file of the shared folder."""
    return 2 + sum(1 for _ in _files_of(settings))


def backup(settings: Settings, target: Path, *, progress: Progress = lambda _: None) -> Manifest:
    """Write one consistent archive of the hub at `target` while it runs."""
    from hub.storage import Database
    from hub.storage.migrate import current

    db_kind = "postgresql" if settings.db_url.startswith("postgresql") else "sqlite"
    with tempfile.TemporaryDirectory(prefix="hub-backup-") as tmp:
        work = Path(tmp)
        members: list[tuple[Path, str]] = []
        progress("the relational database")
        if db_kind == "sqlite":
            path = Path(make_url(settings.db_url).database or "")
            if not path.exists():
                raise BackupError(f"no database at {path}")
            _sqlite_copy(path, work / "hub.db")
            members.append((work / "hub.db", "db/hub.db"))
        else:
            dump = work / "hub.pgdump"
            _pg_tool("pg_dump", settings.db_url, "--format=custom", "--no-owner", f"--file={dump}")
            members.append((dump, "db/hub.pgdump"))
        database = Database.from_url(settings.db_url)
        try:
            schema = current(database.engine)
        finally:
            database.close()
        progress("telemetry")
        if settings.telemetry_backend == "sqlite" and settings.telemetry_path.exists():
            _sqlite_copy(settings.telemetry_path, work / "telemetry.db")
            members.append((work / "telemetry.db", "telemetry/telemetry.db"))
        if settings.spool_path.exists():
            _sqlite_copy(settings.spool_path, work / "influx.db")
            members.append((work / "influx.db", "telemetry/influx.db"))
        secret = settings.data_dir / "secret_key"
        if secret.exists():
            members.append((secret, "data/secret_key"))
        files = list(_files_of(settings))
        manifest = Manifest(
            format=FORMAT,
            version=__version__,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            schema=schema,
            database=db_kind,
            telemetry=settings.telemetry_backend,
            files=len(files),
        )
        (work / "manifest.json").write_text(json.dumps(dataclasses.asdict(manifest), indent=2))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(work / "manifest.json", "manifest.json")
            for path, name in members:
                tar.add(path, name)
            for path, name in files:
                progress(name)
                tar.add(path, name)
        partial.replace(target)  # a backup is there whole or not at all
    return manifest


def read_manifest(archive: Path) -> Manifest:
    """The manifest of an archive."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            if member is None:
                raise BackupError("not a hub backup (no manifest)")
            return Manifest.read(json.loads(member.read()))
    except (tarfile.TarError, OSError, KeyError, ValueError) as err:
        raise BackupError(f"cannot read {archive}: {err}") from None


def restore(
    settings: Settings, archive: Path, *, force: bool = False, progress: Progress = lambda _: None
) -> Manifest:
    """Bring an archive back into this hub's (stopped, fresh) data folder and database.

    Refuses to overwrite a database that holds data unless `force`."""
    manifest = read_manifest(archive)
    db_kind = "postgresql" if settings.db_url.startswith("postgresql") else "sqlite"
    if manifest.database != db_kind:
        raise BackupError(
            f"the backup is of a {manifest.database} database; this hub uses {db_kind}"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.files_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="hub-restore-") as tmp,
        tarfile.open(archive, "r:gz") as tar,
    ):
        work = Path(tmp)
        tar.extractall(work, filter="data")  # no absolute paths, links or devices
        progress("the relational database")
        if db_kind == "sqlite":
            path = Path(make_url(settings.db_url).database or "")
            if path.exists() and not force:
                raise BackupError(f"{path} exists: restore into a fresh data folder, or --force")
            for stale in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
            _sqlite_copy(work / "db" / "hub.db", path)
        else:
            _restore_postgres(settings.db_url, work / "db" / "hub.pgdump", force=force)
        progress("telemetry")
        for name, path in (
            ("telemetry.db", settings.telemetry_path),
            ("influx.db", settings.spool_path),
        ):
            source = work / "telemetry" / name
            if source.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                _sqlite_copy(source, path)
        secret = work / "data" / "secret_key"
        if secret.exists():
            target = settings.data_dir / "secret_key"
            shutil.copyfile(secret, target)
            os.chmod(target, 0o600)
        files = work / "files"
        if files.is_dir():
            for path in sorted(files.rglob("*")):
                if path.is_file():
                    rel = path.relative_to(files)
                    progress(f"files/{rel.as_posix()}")
                    dest = settings.files_dir / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)
                    os.chmod(dest, 0o600)
    return manifest


def _restore_postgres(url: str, dump: Path, *, force: bool) -> None:
    from sqlalchemy import inspect

    from hub.storage import Database

    database = Database.from_url(url)
    try:
        tables = inspect(database.engine).get_table_names()
    finally:
        database.close()
    if tables and not force:
        raise BackupError("the database has tables: restore into an empty one, or --force")
    _pg_tool("pg_restore", url, "--clean", "--if-exists", "--no-owner", str(dump))


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives in `folder`; the ones deleted."""
    archives = sorted(folder.glob("hub-*.tar.gz"))
    old = archives[:-keep] if keep > 0 else archives
    for path in old:
        path.unlink()
    return old


def archive_name(now: datetime) -> str:
    """hub-YYYYMMDD-HHMMSS.tar.gz (sorts by time)."""
    return f"hub-{now:%Y%m%d-%H%M%S}.tar.gz"


class ScheduledBackups(Periodic):
    """Back the hub up every `HUB_BACKUP__EVERY_H` hours and keep the newest
    `HUB_BACKUP__KEEP` archives (run by the leading worker only)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("backups", settings.backup.every_h * 3600, self._run)
        self.settings = settings
        self.folder = settings.backup.folder or settings.data_dir / "backups"
        self.last_archive: str | None = None

    def _run(self) -> int:
        target = self.folder / archive_name(datetime.now(UTC))
        backup(self.settings, target)
        self.last_archive = target.name
        rotate(self.folder, self.settings.backup.keep)
        return 1

    def health(self) -> dict[str, object]:
        """The timer's state and the newest archive."""
        return {**super().health(), "last_archive": self.last_archive, "folder": str(self.folder)}
