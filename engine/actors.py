"""Who is acting: every engine call names an actor, and the actor's agency scopes every query."""

from __future__ import annotations

from dataclasses import dataclass, field

ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class Actor:
    username: str
    agency: str  # agency code
    groups: frozenset[str] = field(default_factory=frozenset)
    system: bool = False  # workers, the timer poller, the seeding command
    unit_id: int | None = None  # the work unit (OPD) of an applicant: its requests are theirs

    @property
    def is_admin(self) -> bool:
        return self.system or ADMIN_GROUP in self.groups

    @classmethod
    def system_actor(cls, agency: str, name: str = "system") -> Actor:
        return cls(username=name, agency=agency, groups=frozenset({ADMIN_GROUP}), system=True)
