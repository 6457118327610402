"""Subdomain names: normalization and rules, the registry, ``subdomain.check`` and
``subdomain.reserve``."""
