"""`sopflow token create|list|revoke` end to end (subprocesses on a temp SQLite database): the
token is printed once, works as Bearer credentials, is never listed, and stops when revoked."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from test_cli import Cli, assert_clean_failure

from engine.models import Agency, User, UserGroup
from web.rest.models import ApiToken
from web.rest.tokens import digest, token_user
from web.seed import ensure_agencies


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    c = Cli(tmp_path_factory.mktemp("cli_tokens"))
    assert c("db", "upgrade").returncode == 0
    engine = c.engine()
    ensure_agencies(engine, c.root / "instance")
    with engine.sessions.begin() as s:
        kudus = s.scalar(select(Agency.id).where(Agency.code == "kudus"))
        s.add(
            User(
                username="kudus.worker",
                agency_id=kudus,
                password_hash="!",
                active=True,
                created_at=datetime.now(UTC),
                groups=[UserGroup(group="technical_officer")],
            )
        )
    return c


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_create_list_revoke(cli: Cli) -> None:
    out = _ok(cli("token", "create", "--user", "kudus.worker", "--name", "dns worker"))
    token = out.strip()
    assert token.startswith("sft_") and len(out.splitlines()) == 1
    engine = cli.engine()
    user = token_user(engine, token)
    assert user is not None and user.username == "kudus.worker"
    with engine.sessions() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest(token)))
        assert row is not None and row.name == "dns worker" and row.revoked_at is None
        token_id = row.id

    listing = _ok(cli("token", "list"))
    assert token_id in listing and "kudus.worker" in listing and "dns worker" in listing
    assert token not in listing and digest(token) not in listing
    assert token_id not in _ok(cli("token", "list", "--agency", "tapin"))

    assert token_id in _ok(cli("token", "revoke", token_id))
    assert token_user(engine, token) is None
    listing = _ok(cli("token", "list"))
    line = next(x for x in listing.splitlines() if token_id in x)
    assert not line.rstrip().endswith("-")  # a revocation date, not "-"


def test_refusals_are_one_clean_line(cli: Cli, tmp_path: Path) -> None:
    assert_clean_failure(cli("token", "create", "--user", "nobody.here"), "nobody.here")
    assert_clean_failure(cli("token", "revoke", "no-such-id"), "no-such-id")
    usage = cli("token")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
