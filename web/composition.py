"""The composition root: the packages that make up sopflow, their tables and their migrations.

``engine/`` knows nothing of ``handlers/`` and ``web/``. Each of them declares its tables on the
engine's declarative base in a ``models`` module, and this module names every one of them, so
one metadata knows every table: Alembic compares it with the database (``sopflow db upgrade``,
``sopflow serve``), and the tests empty every table after each test. A new ``models`` module is
added to :data:`MODEL_MODULES` by hand (tests/web/test_composition.py fails until it is); one
that does not import fails loudly, it never becomes a missing table.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData

from engine import db

#: every module that declares tables, the engine's first
MODEL_MODULES: tuple[str, ...] = (
    "engine.models",
    "handlers.attachments.models",
    "handlers.credentials.models",
    "handlers.dns.models",
    "handlers.letters.models",
    "handlers.mail.models",
    "handlers.names.models",
    "web.auth.models",
    "web.designer.models",
    "web.rest.models",
    "web.survey.models",
)


def migrations_location() -> Path:
    """The one Alembic script directory (top-level ``migrations/``, installed as a package)."""
    import migrations

    return migrations.LOCATION


def load_models(modules: Iterable[str] | None = None) -> MetaData:
    """Import ``modules`` (all of :data:`MODEL_MODULES` by default) and return the metadata that
    now knows their tables. An import error propagates: a broken models module stops the caller."""
    from engine.models import Base

    for name in MODEL_MODULES if modules is None else modules:
        importlib.import_module(name)
    return Base.metadata


def alembic_config(url: str) -> Any:
    """The Alembic config for ``url``: every model module's tables, the one migrations dir."""
    return db.alembic_config(url, metadata=load_models(), script_location=migrations_location())


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema of ``url`` to ``revision`` (all heads by default); safe on every start."""
    db.upgrade(
        url,
        metadata=load_models(),
        script_location=migrations_location(),
        revision=revision,
    )
