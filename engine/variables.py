"""Process variables as sopflow stores and hands them out: plain identifiers, JSON-safe values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .errors import SopflowError
from .names import is_variable_name


def check_names(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Variables from integrations become process variables: plain identifiers only."""
    for name in variables:
        if not is_variable_name(name):
            raise SopflowError(
                f"Invalid variable name '{name}'", f"Nama variabel '{name}' tidak sah"
            )
    return dict(variables)


def plain(value: Any) -> Any:
    """JSON-safe copy of task data for projections and history (dates become ISO strings)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
