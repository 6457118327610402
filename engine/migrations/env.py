"""Alembic environment: the URL comes from the caller (engine.db.upgrade), never from a file."""

from alembic import context

from engine.db import load_all_models, make_db
from engine.models import Base

load_all_models()

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or ""
connection = config.attributes.get("connection")


def run() -> None:
    if connection is not None:
        _migrate(connection)
        return
    db = make_db(url)
    with db.connect() as conn:
        _migrate(conn)
    db.dispose()


def _migrate(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
