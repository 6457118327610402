"""The one Alembic script directory of sopflow: the engine's, the handlers' and web's tables.

Every revision since 0001 lives in ``versions/`` (they moved here from ``engine/migrations``
with their ids unchanged, so existing databases upgrade as before). ``env.py`` imports no
application code: the tables to compare with come from whoever runs the migrations, as
``config.attributes["target_metadata"]`` (``web.composition.alembic_config`` sets it).
"""

from __future__ import annotations

from pathlib import Path

LOCATION = Path(__file__).resolve().parent
