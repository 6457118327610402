"""Hosting failures. All are :class:`handlers.base.HandlerError` (retriable job failures that
become an incident when retries run out) and carry a bilingual message; the refusals a retry
cannot change are raised as BPMN errors by the handler instead (see ``handler.py``)."""

from __future__ import annotations

from handlers.base import HandlerError


class HostingError(HandlerError):
    """Base of every hosting failure."""


class HostingConfigError(HostingError):
    """A hosting setting is missing or wrong (no web root, unknown server type, bad listen)."""


class HostingBusy(HostingError):
    """The sites directory's lock was not obtained in time (another hosting job is writing)."""


class WebServerError(HostingError):
    """``nginx -t`` refused the configuration, or the reload command failed."""
