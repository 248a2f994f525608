"""Alembic environment: uses the engine the hub hands over (never builds one at import)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text

from hub.storage.models import Base

MIGRATION_LOCK = 0x6479_6875_624D  # "dyhubM"
config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through `hub migrate`, which provides the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # hub workers starting together: one migrates, the others wait, then find the
            # schema current (the lock goes with the transaction)
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()
    connection.commit()
