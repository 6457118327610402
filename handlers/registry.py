"""Topic -> handler, assembled from configuration so an agency can add or swap handlers."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine.errors import ConfigurationError

from .base import Handler

# Built-in handlers, by dotted path. One shape for all: ``handlers.<area>.handler`` holds the
# area's handlers, each named after its topic in CamelCase plus ``Handler`` (``dns.create`` ->
# ``DnsCreateHandler``).
BUILTIN: tuple[str, ...] = (
    "handlers.names.handler:SubdomainCheckHandler",
    "handlers.names.handler:SubdomainReserveHandler",
    "handlers.dns.handler:DnsCreateHandler",
    "handlers.dns.handler:DnsChangeHandler",
    "handlers.dns.handler:DnsDeleteHandler",
    "handlers.mail.handler:MailSendHandler",
    "handlers.letters.handler:LetterGenerateHandler",
    "handlers.credentials.handler:CredentialsIssueHandler",
    "handlers.hosting.handler:HostingCreateHandler",
    "handlers.website.handler:WebsiteVerifyHandler",
)


class HandlerRegistry:
    def __init__(self, handlers: Iterable[Handler] = ()) -> None:
        self._by_topic: dict[str, Handler] = {}
        for h in handlers:
            self.register(h)

    def register(self, handler: Handler) -> None:
        topic = getattr(handler, "topic", None)
        if not topic:
            raise ConfigurationError(
                f"Handler {handler!r} declares no topic",
                f"Handler {handler!r} tidak menyatakan topic",
            )
        if topic in self._by_topic:
            raise ConfigurationError(
                f"Two handlers for topic '{topic}'", f"Dua handler untuk topic '{topic}'"
            )
        self._by_topic[topic] = handler

    def get(self, topic: str) -> Handler | None:
        return self._by_topic.get(topic)

    def topics(self) -> list[str]:
        return sorted(self._by_topic)

    def __contains__(self, topic: object) -> bool:
        return topic in self._by_topic

    def __iter__(self) -> Iterator[Handler]:
        return iter(self._by_topic.values())

    def describe(self) -> list[dict[str, Any]]:
        """Declarations for analysts' docs and for deploy validation."""
        return [
            {
                "topic": h.topic,
                "description": h.description,
                "inputs": dict(h.inputs),
                "outputs": dict(h.outputs),
            }
            for h in self
        ]


def load_handler(path: str) -> Handler:
    """``package.module:ClassName`` -> an instance; a typo fails at start-up, not at 3 a.m."""
    module_name, _, attr = path.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ConfigurationError(
            f"Cannot load handler '{path}': {e}", f"Handler '{path}' tidak dapat dimuat: {e}"
        )
    return obj() if isinstance(obj, type) else obj


def default_registry(settings: Mapping[str, Any] | None = None) -> HandlerRegistry:
    """Built-ins plus ``SOPFLOW_HANDLERS`` (comma-separated ``module:Class``); topics listed in
    ``SOPFLOW_DISABLED_TOPICS`` are left to external workers."""
    settings = settings or {}
    disabled = {t.strip() for t in str(settings.get("DISABLED_TOPICS", "")).split(",") if t.strip()}
    extra = [p.strip() for p in str(settings.get("HANDLERS", "")).split(",") if p.strip()]
    registry = HandlerRegistry()
    for path in (*BUILTIN, *extra):
        handler = load_handler(path)
        if handler.topic not in disabled:
            registry.register(handler)
    return registry
