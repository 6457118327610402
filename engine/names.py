"""What may name a process variable: a plain identifier that does not start with ``__``.

One rule for every way a name gets in: form field ids and camunda:initiator in a diagram,
input/output mappings, values a form or a REST client sends, and variables from integrations.
``__`` is refused because it opens Python's internals (``__class__``) to an expression.
"""

from __future__ import annotations

import re

VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_variable_name(name: object) -> bool:
    """True for ``applicant_email`` or ``_x``; False for ``2x``, ``a-b``, ``__class__``."""
    return (
        isinstance(name, str) and VAR_NAME.fullmatch(name) is not None and not name.startswith("__")
    )
