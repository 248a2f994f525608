"""Upgrading a database of the previous release: the schema and data of migration 0006 with a
row in every table, `hub migrate`, and nothing lost — on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import create_engine

from hub.storage.migrate import current, head, upgrade
from tests.conftest import ROOT

PREVIOUS = "0006"
WHEN = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def value_for(table: sa.Table, column: sa.Column[Any], made: dict[str, dict[str, Any]]) -> Any:
    """A plausible value of the column's type (a foreign key points at the row made for the
    table it refers to)."""
    for fk in column.foreign_keys:
        return made[fk.column.table.name][fk.column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 1 if column.primary_key else 7
    if isinstance(kind, sa.Float | sa.Numeric):
        return 2.5
    if isinstance(kind, sa.DateTime):
        return WHEN if kind.timezone else WHEN.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2026, 11, 1)
    if isinstance(kind, sa.JSON):
        return {"kept": [1, "二"]}
    length = getattr(kind, "length", None) or 64
    return f"{table.name}.{column.name}"[:length]


def fill_every_table(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """One row in every table of the schema as it is; each row as the database gives it back."""
    meta = sa.MetaData()
    meta.reflect(engine)
    made: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = {c.name: value_for(table, c, made) for c in table.columns}
            conn.execute(table.insert().values(**row))
            made[table.name] = row
    stored: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for name in made:
            (got,) = conn.execute(meta.tables[name].select()).mappings().all()
            stored[name] = dict(got)
    return stored


def migrate_with_the_cli(url: str, tmp: str) -> None:
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_DATA_DIR": tmp, "HUB_SECRET_KEY": "k" * 48}
    done = subprocess.run(
        [sys.executable, "-m", "hub", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_a_database_of_the_previous_release_upgrades_without_losing_a_row(
    database_url: str, tmp_path: Any
) -> None:
    engine = create_engine(database_url)
    upgrade(engine, PREVIOUS)
    before = fill_every_table(engine)
    assert len(before) == 19  # every table the previous release had
    migrate_with_the_cli(database_url, str(tmp_path))
    assert current(engine) == head()
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name, row in before.items():
            rows = conn.execute(meta.tables[name].select()).mappings().all()
            assert len(rows) == 1, name
            after = dict(rows[0])
            assert {k: after[k] for k in row} == row, name
    engine.dispose()
