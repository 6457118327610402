"""One-time-viewable website credentials (``credentials.issue``) and the API the web uses."""

from .vault import (
    CredentialsUnavailable,
    CredentialVault,
    RevealedCredentials,
    generate_password,
)

__all__ = ["CredentialVault", "CredentialsUnavailable", "RevealedCredentials", "generate_password"]
