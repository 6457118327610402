"""Database connections and schema migration (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.orm import Session, sessionmaker


def make_db(url: str, **kwargs: Any) -> SAEngine:
    """An SQLAlchemy engine tuned per backend: SQLite gets WAL, foreign keys and a busy timeout
    so in-process worker threads wait for the single writer instead of failing."""
    if url.startswith("sqlite"):
        if url not in ("sqlite://", "sqlite:///:memory:"):
            path = url.split("///", 1)[-1]
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # pysqlite's own transaction handling defers BEGIN; make it explicit and immediate
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def make_sessions(db: SAEngine) -> sessionmaker[Session]:
    return sessionmaker(db, expire_on_commit=False)


def alembic_config(url: str, *, metadata: MetaData, script_location: str | os.PathLike[str]) -> Any:
    """An Alembic config for ``url``: the migrations in ``script_location`` compared with
    ``metadata``. The engine names neither: the composition root (``web.composition``) knows
    which packages own tables and where their migrations live."""
    from alembic.config import Config

    location = Path(script_location)
    cfg = Config(str(location / "alembic.ini"))
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["url"] = url
    cfg.attributes["target_metadata"] = metadata
    return cfg


def upgrade(
    url: str,
    *,
    metadata: MetaData,
    script_location: str | os.PathLike[str],
    revision: str = "heads",
) -> None:
    """Bring the schema to ``revision``; safe to run on every start."""
    from alembic import command

    command.upgrade(
        alembic_config(url, metadata=metadata, script_location=script_location), revision
    )


def database_url(instance_dir: str | os.PathLike[str] = "instance") -> str:
    return (
        os.environ.get("SOPFLOW_DATABASE_URL")
        or f"sqlite:///{Path(instance_dir).resolve()}/sopflow.db"
    )
