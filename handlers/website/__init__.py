"""``website.verify``: resolve a site's name at the agency's DNS server and fetch its page.

See :mod:`handlers.website.handler` for what is reported and what is retried.
"""

from .handler import WebsiteVerifyHandler

__all__ = ["WebsiteVerifyHandler"]
