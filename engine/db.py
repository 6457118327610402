"""Database connections and schema migration (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


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


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def load_all_models() -> None:
    """Import every ``models`` module of the application so one metadata knows every table.

    Handlers own their tables (``handlers/<area>/models.py``) on the engine's declarative base;
    migrations and maintenance need all of them without the engine importing handler code."""
    import contextlib
    import importlib
    import pkgutil

    try:
        import handlers
    except ImportError:  # the engine alone, without the application around it
        return
    for mod in pkgutil.walk_packages(handlers.__path__, "handlers."):
        if mod.name.endswith(".models"):
            importlib.import_module(mod.name)
    try:
        import web
    except ImportError:
        return
    # web features own tables too (API tokens, diagram drafts, survey answers)
    for mod in pkgutil.walk_packages(web.__path__, "web."):
        if mod.name.endswith(".models"):
            with contextlib.suppress(ImportError):
                importlib.import_module(mod.name)


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema to ``revision``; safe to run on every start."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def database_url(instance_dir: str | os.PathLike[str] = "instance") -> str:
    return (
        os.environ.get("SOPFLOW_DATABASE_URL")
        or f"sqlite:///{Path(instance_dir).resolve()}/sopflow.db"
    )
