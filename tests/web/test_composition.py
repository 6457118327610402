"""The composition root names every models module; the engine discovers nothing by itself.

``web.composition.MODEL_MODULES`` is the one list of modules that declare tables. These tests
hold it to the tree (every ``models.py`` is listed, every table comes from a listed module),
check that a module that does not import stops the caller instead of becoming a missing table,
and that neither the engine nor the migrations import handler or web code.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import pytest
from alembic import command

from engine.models import Base
from web import composition
from web.composition import MODEL_MODULES, alembic_config, load_models

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _tables_declared_in(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    return {
        cls.__table__.name
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Base) and cls is not Base and cls.__module__ == module_name
    }


def test_every_models_module_of_the_tree_is_listed() -> None:
    on_disk = {
        _module_name(p)
        for package in ("engine", "handlers", "web")
        for p in (ROOT / package).rglob("models.py")
    }
    assert on_disk - set(MODEL_MODULES) == set(), "add them to web.composition.MODEL_MODULES"
    assert len(MODEL_MODULES) == len(set(MODEL_MODULES))
    assert MODEL_MODULES[0] == "engine.models"


def test_every_listed_module_has_its_tables_in_the_metadata() -> None:
    metadata = load_models()
    by_module = {name: _tables_declared_in(name) for name in MODEL_MODULES}
    for name, tables in by_module.items():
        assert tables, f"{name} declares no table"
        assert tables <= set(metadata.tables), (name, tables - set(metadata.tables))
    # and no table of the metadata comes from a module the composition root does not name
    assert set(metadata.tables) == set().union(*by_module.values())


def test_the_handler_and_web_tables_are_there() -> None:
    tables = set(load_models().tables)
    assert {"process_instance", "human_task", "external_task"} <= tables  # engine
    assert {"mail_outbox", "dns_change", "subdomain", "letter", "attachment"} <= tables  # handlers
    assert {"api_token", "user_session", "diagram_draft", "survey_response"} <= tables  # web


@pytest.fixture
def broken_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pkg = tmp_path / "brokenfeature"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "models.py").write_text("import no_such_dependency_of_sopflow  # noqa: F401\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "brokenfeature.models"
    for name in ("brokenfeature.models", "brokenfeature"):
        sys.modules.pop(name, None)


def test_a_broken_models_module_raises(broken_package: str) -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_of_sopflow"):
        load_models([*MODEL_MODULES, broken_package])


def test_a_missing_models_module_raises() -> None:
    with pytest.raises(ModuleNotFoundError, match="handlers.no_such_area"):
        load_models([*MODEL_MODULES, "handlers.no_such_area.models"])


def test_a_broken_models_module_stops_the_migrations(
    broken_package: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(composition, "MODEL_MODULES", (*MODEL_MODULES, broken_package))
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ModuleNotFoundError):
        composition.upgrade(url)
    assert not (tmp_path / "x.db").exists()  # refused before the database was touched


def test_migrations_refuse_to_run_without_the_metadata(tmp_path: Path) -> None:
    cfg = alembic_config(f"sqlite:///{tmp_path / 'x.db'}")
    del cfg.attributes["target_metadata"]
    with pytest.raises(RuntimeError, match="target_metadata"):
        command.upgrade(cfg, "heads")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["engine", "migrations"])
def test_engine_and_migrations_import_no_handler_or_web_code(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(
            n for n in _imports(p) if n.split(".")[0] in ("handlers", "web")
        )
        for p in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_migrations_live_in_one_top_level_directory() -> None:
    location = composition.migrations_location()
    assert location == ROOT / "migrations"
    assert (location / "env.py").is_file() and (location / "alembic.ini").is_file()
    assert not (ROOT / "engine" / "migrations").exists()


def test_an_installed_package_carries_every_migration() -> None:
    """pyproject.toml installs ``migrations`` with its script files, so `sopflow db upgrade`
    works from a wheel as from a clone (an editable install maps the directory itself)."""
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "migrations" in setuptools["packages"]["find"]["include"]
    globs = setuptools["package-data"]["migrations"]
    location = composition.migrations_location()
    files = {
        str(p.relative_to(location))
        for p in location.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {"env.py", "alembic.ini", "script.py.mako"} <= files
    assert any(f.startswith("versions/") for f in files)
    modules = {f for f in files if "/" not in f and f.endswith(".py")}  # installed as modules
    data = files - modules
    assert {f for f in data if not any(fnmatch.fnmatch(f, g) for g in globs)} == set()
