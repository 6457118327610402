"""One-time-viewable website credentials (``credentials.issue``) and the API the web uses."""

from .errors import CredentialsError, CredentialsUnavailable
from .vault import (
    CredentialVault,
    RevealedCredentials,
    generate_password,
)

__all__ = [
    "CredentialVault",
    "CredentialsError",
    "CredentialsUnavailable",
    "RevealedCredentials",
    "generate_password",
]
