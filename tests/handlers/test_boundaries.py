"""Handlers use the engine's public API only: no handler module touches an engine table.

The engine's tables (``engine.models``: Agency, User, ProcessInstance, HistoryEvent,
ExternalTask, ...) are read through ``engine.queries`` and written through ``engine.audit``;
from ``engine.models`` a handler package may take only the declarative base and the id
factory, for its own tables in ``handlers/<area>/models.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "handlers"
ALLOWED_FROM_MODELS = {"Base", "new_id"}
MODULES = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _engine_model_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "engine.models":
            found += [a.name for a in node.names if a.name not in ALLOWED_FROM_MODELS]
        elif isinstance(node, ast.ImportFrom) and node.module == "engine":
            found += [f"engine.{a.name}" for a in node.names if a.name == "models"]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "engine.models"]
    return found


def test_there_are_handler_modules_to_check() -> None:
    assert len(MODULES) > 20


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_no_handler_module_uses_an_engine_table(path: Path) -> None:
    assert _engine_model_imports(path) == [], (
        f"{path.relative_to(ROOT.parent)} imports engine tables; read them through "
        "engine.queries (e.g. engine.queries.recipients) and write through engine.audit"
    )


def test_every_area_has_the_one_shape() -> None:
    """handlers/<area>/handler.py and errors.py for every area with a topic; the class of each
    built-in topic is <Topic in CamelCase>Handler in that module."""
    from handlers.registry import BUILTIN, load_handler

    for path in BUILTIN:
        module, _, cls = path.partition(":")
        area = module.split(".")[1]
        assert module == f"handlers.{area}.handler", path
        assert (ROOT / area / "errors.py").is_file(), area
        topic = load_handler(path).topic
        expected = "".join(p.capitalize() for p in topic.replace("_", ".").split(".")) + "Handler"
        assert cls == expected, (path, topic)
