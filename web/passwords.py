"""Password hashing (werkzeug's scrypt), shared by seeding, ``sopflow user add`` and login."""

from __future__ import annotations

import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from engine.errors import SopflowError

# werkzeug's scrypt: n=2**15, r=8, p=1; the parameters are stored in each hash, so raising
# them later keeps old hashes valid.
METHOD = "scrypt"
MIN_LENGTH = 10
MAX_LENGTH = 1024

_dummy_hash: str | None = None


class WeakPassword(SopflowError):
    """A password that is too short (or absurdly long) to accept."""


def check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"The password needs at least {MIN_LENGTH} characters",
            f"Kata sandi minimal {MIN_LENGTH} karakter",
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            f"The password may have at most {MAX_LENGTH} characters",
            f"Kata sandi maksimal {MAX_LENGTH} karakter",
        )


def hash_password(password: str) -> str:
    check_password(password)
    return generate_password_hash(password, method=METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. With no hash (unknown user) a dummy hash is still
    checked, so the answer takes as long as for a real user."""
    global _dummy_hash
    if not password_hash:
        if _dummy_hash is None:
            _dummy_hash = generate_password_hash(secrets.token_urlsafe(16), method=METHOD)
        check_password_hash(_dummy_hash, password)
        return False
    return check_password_hash(password_hash, password)


def random_password() -> str:
    """16 URL-safe characters (96 random bits) for demo and first-time accounts."""
    return secrets.token_urlsafe(12)
