"""Background services the handlers need besides the job queue (started by serve and worker)."""

from __future__ import annotations

from typing import Any

from .base import HandlerContext


def background_services(ctx: HandlerContext) -> list[Any]:
    """Objects with ``start()``/``stop()``: today the mail outbox delivery."""
    from .mail.delivery import MailDelivery

    return [MailDelivery.from_context(ctx)]
