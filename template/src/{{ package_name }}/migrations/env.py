"""Alembic environment, driven by Flask-Migrate inside the app context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from flask import current_app
from sqlalchemy import Connection

config = context.config
database = current_app.extensions["migrate"].db
target_metadata = database.metadata


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`flask db upgrade --sql`)."""
    context.configure(
        url=str(database.engine.url.render_as_string(hide_password=False)),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while migrations run, checked once they are done.

    SQLite cannot ALTER most things, so batch mode copies a table, drops it and
    renames the copy: with foreign keys on, dropping ``users`` would delete every
    post. The pragma only works outside a transaction, so it goes to the driver.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the SQLite connection is closed")
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migrations left rows that break foreign keys: {broken}")
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def run_migrations_online() -> None:
    with database.engine.connect() as connection, foreign_keys_deferred(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
