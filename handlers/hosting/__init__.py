"""``hosting.create``: a site's web root with a placeholder page and an nginx server block.

See :mod:`handlers.hosting.handler` for the behaviour and docs/handlers.md for the settings.
"""

from .handler import HostingCreateHandler

__all__ = ["HostingCreateHandler"]
