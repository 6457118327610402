"""Alembic environment. The caller hands over what to migrate through ``config.attributes``:
``url`` (or an open ``connection``) and ``target_metadata``, the tables of every model module
the composition root names (``web.composition``). Nothing here imports handlers or web."""

from __future__ import annotations

from typing import Any

from alembic import context

from engine.db import make_db

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or ""
connection = config.attributes.get("connection")
target_metadata = config.attributes.get("target_metadata")
if target_metadata is None:
    raise RuntimeError(
        "migrations/env.py needs config.attributes['target_metadata']: run the migrations "
        "with `sopflow db upgrade` or web.composition.alembic_config(url)"
    )


def run() -> None:
    if connection is not None:
        _migrate(connection)
        return
    db = make_db(url)
    with db.connect() as conn:
        _migrate(conn)
    db.dispose()


def _migrate(conn: Any) -> None:
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
