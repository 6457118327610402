"""The background sweep that frees names held by requests which ended without using them."""

from __future__ import annotations

import logging
from typing import Any

from engine.workers import PeriodicThread

from .store import release_abandoned

log = logging.getLogger(__name__)


class ReservationSweep(PeriodicThread):
    name = "sopflow-name-sweep"
    batch = 200

    def __init__(self, sessions: Any, clock: Any, interval: float = 300.0) -> None:
        super().__init__(interval)
        self.sessions = sessions
        self.clock = clock

    @classmethod
    def from_context(cls, ctx: Any) -> ReservationSweep:
        return cls(ctx.sessions, ctx.clock)

    def tick(self) -> bool:
        freed = release_abandoned(self.sessions, now=self.clock.now(), limit=self.batch)
        for row in freed:
            log.info(
                "name %s released: request %s ended without using it",
                row.fqdn,
                row.business_key or row.instance_id,
            )
        return len(freed) == self.batch
