"""The ``website.verify`` failures: :class:`handlers.base.HandlerError` (retried, then an
incident), bilingual, with context (``record``: the site's name, ``agency``, ``element``).
What the people who run the site can fix is not an error but a report (``website_ok`` false).

::

    WebsiteError
    ├── WebsiteConfigError      the agency's ``website`` settings are not usable (a bad number)
    └── WebsiteDnsUnanswered    the DNS server did not answer and the agency asked for a retry
                                (``website.dns_unreachable = "retry"``)
"""

from __future__ import annotations

from handlers.base import HandlerError


class WebsiteError(HandlerError):
    """Base of every website.verify failure."""


class WebsiteConfigError(WebsiteError):
    """A website setting of the agency is not usable."""


class WebsiteDnsUnanswered(WebsiteError):
    """The agency's DNS server did not answer; retried because the agency said so."""
