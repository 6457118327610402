"""Background services the handlers need besides the job queue (started by serve and worker)."""

from __future__ import annotations

from typing import Any

from .base import HandlerContext


def background_services(ctx: HandlerContext) -> list[Any]:
    """Objects with ``start()``/``stop()``: the mail outbox delivery and the sweep that frees
    names abandoned by ended requests."""
    from .mail.delivery import MailDelivery
    from .names.sweep import ReservationSweep

    return [MailDelivery.from_context(ctx), ReservationSweep.from_context(ctx)]
