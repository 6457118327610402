"""Handlers in one shape: handlers/<area>/{handler,errors}.py, classes <Topic>Handler."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "handlers"


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
