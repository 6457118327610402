"""Who may do what: the one authorization model of sopflow, asked by the UI and REST alike.

Every caller is an :class:`~engine.actors.Actor` of one agency. Its groups give it roles:

- ``applicant`` — a member of a work unit (OPD): reads its unit's requests and answers the tasks
  returned to that unit (tasks of the ``applicant`` group or held by the request's initiator);
  such a task is never released to a pool of other units.
- officer groups (every group the diagrams name that is not one of the special roles below,
  e.g. ``head_of_office`` or an agency's own ``kepala_seksi_persandian``) — work the tasks of
  their groups and read the requests they have worked, hold, or that passed their groups.
- ``worker`` (machines, API tokens) — fetch, lock and complete external tasks of the topics no
  built-in handler works; nothing else.
- ``integration`` — start processes with variables as given and read what it started.
- ``analyst`` — diagrams (drafts, validation), never request data.
- ``admin`` — everything in its agency.

Reads are filtered in SQL by :func:`instance_filter` and :func:`task_filter`, never after loading;
commands check :func:`require` and :func:`may_work` inside the engine's transaction. A denial for
something the actor may not even see is a 404 (the engine's ``NotFound``), for something it sees
but may not do a 403 (``PermissionDenied``).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from .actors import Actor
from .errors import PermissionDenied
from .models import HumanTask, ProcessInstance, TaskCandidate
from .states import CandidateKind


class Role(StrEnum):
    APPLICANT = "applicant"
    ANALYST = "analyst"
    ADMIN = "admin"
    WORKER = "worker"
    INTEGRATION = "integration"


# groups that are roles of their own; every other group is an officer group
SPECIAL_ROLES = frozenset(Role)


class Permission(StrEnum):
    """What a REST route or page needs before the engine looks at any row."""

    READ_DEFINITIONS = "read_definitions"  # the catalogue, forms, diagrams of the agency
    DESIGN = "design"  # drafts and validation of diagrams
    DEPLOY = "deploy"  # publish versions, activate, suspend
    START = "start"  # file a request
    READ_REQUESTS = "read_requests"  # requests, their variables and history (filtered)
    WORK_TASKS = "work_tasks"  # claim and complete human tasks (filtered)
    WORK_JOBS = "work_jobs"  # fetch, lock, complete, fail external tasks (allowed topics)
    READ_JOBS = "read_jobs"  # the job queue
    MANAGE_JOBS = "manage_jobs"  # retries, unlock, incidents
    CORRELATE = "correlate"  # deliver messages to waiting requests
    READ_SELF = "read_self"  # one's own user record
    ADMINISTER = "administer"  # users, units, settings, every request of the agency


_PEOPLE = frozenset(
    {
        Permission.READ_DEFINITIONS,
        Permission.READ_REQUESTS,
        Permission.WORK_TASKS,
        Permission.READ_SELF,
    }
)
GRANTS: dict[str, frozenset[Permission]] = {
    Role.APPLICANT: _PEOPLE | {Permission.START},
    Role.ANALYST: frozenset({Permission.READ_DEFINITIONS, Permission.DESIGN, Permission.READ_SELF}),
    Role.WORKER: frozenset({Permission.WORK_JOBS, Permission.READ_JOBS}),
    Role.INTEGRATION: frozenset(
        {
            Permission.READ_DEFINITIONS,
            Permission.START,
            Permission.READ_REQUESTS,
            Permission.CORRELATE,
            Permission.READ_SELF,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}
# what any officer group grants
OFFICER_GRANTS = _PEOPLE | {Permission.START, Permission.CORRELATE}

DENIED = (
    "You do not have the permission for this ({permission})",
    "Anda tidak memiliki izin untuk ini ({permission})",
)


def officer_groups(actor: Actor) -> frozenset[str]:
    return frozenset(actor.groups - SPECIAL_ROLES)


def is_officer(actor: Actor) -> bool:
    """Works inside the office: an officer group, an administrator (or the system)."""
    return actor.is_admin or bool(officer_groups(actor))


def is_applicant(actor: Actor) -> bool:
    return Role.APPLICANT in actor.groups


def trusted_inputs(actor: Actor) -> bool:
    """Whose variables are taken as given (beyond the form's fields): machines that integrate
    the office (``integration``), administrators and the system. Everyone else answers forms."""
    return actor.is_admin or Role.INTEGRATION in actor.groups


def permissions(actor: Actor) -> frozenset[Permission]:
    if actor.is_admin:
        return frozenset(Permission)
    granted: set[Permission] = set()
    for group in actor.groups:
        granted |= GRANTS.get(group, OFFICER_GRANTS)
    return frozenset(granted)


def allowed(actor: Actor, permission: Permission) -> bool:
    return permission in permissions(actor)


def require(actor: Actor, permission: Permission) -> None:
    if not allowed(actor, permission):
        en, idn = DENIED
        raise PermissionDenied(
            en.format(permission=permission.value), idn.format(permission=permission.value)
        )


# -- requests ---------------------------------------------------------------------------------
def _unit_or_own(actor: Actor) -> ColumnElement[bool]:
    """The requests an applicant answers for: its unit's, or (without a unit) its own."""
    if actor.unit_id is not None:
        return ProcessInstance.work_unit_id == actor.unit_id
    return ProcessInstance.started_by == actor.username


def own_requests(actor: Actor) -> ColumnElement[bool]:
    """The requests ``actor`` answers for: filed by it, or by its unit for an applicant."""
    if is_applicant(actor):
        return or_(ProcessInstance.started_by == actor.username, _unit_or_own(actor))
    return ProcessInstance.started_by == actor.username


def instance_filter(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition on ``process_instance`` for the requests ``actor`` may read (the
    agency filter is the caller's: it always applies)."""
    if actor.is_admin:
        return true()
    if not allowed(actor, Permission.READ_REQUESTS):
        return false()
    conditions: list[ColumnElement[bool]] = [ProcessInstance.started_by == actor.username]
    if is_applicant(actor):
        conditions.append(_unit_or_own(actor))
    groups = sorted(officer_groups(actor))
    held = or_(
        HumanTask.assignee == actor.username,
        HumanTask.completed_by == actor.username,
        HumanTask.id.in_(
            select(TaskCandidate.task_id).where(
                TaskCandidate.kind == CandidateKind.USER, TaskCandidate.value == actor.username
            )
        ),
    )
    if groups:
        of_groups = select(TaskCandidate.task_id).where(
            TaskCandidate.kind == CandidateKind.GROUP, TaskCandidate.value.in_(groups)
        )
        held = or_(held, HumanTask.id.in_(of_groups))
    if is_applicant(actor) or groups:
        conditions.append(
            exists(select(HumanTask.id).where(HumanTask.instance_id == ProcessInstance.id, held))
        )
    return or_(*conditions)


# -- human tasks ------------------------------------------------------------------------------
def task_filter(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition on ``human_task`` (joined with its ``process_instance``) for the
    tasks ``actor`` may see: its officer groups' and its own, and for an applicant the tasks
    returned to its unit."""
    if actor.is_admin:
        return true()
    if not allowed(actor, Permission.WORK_TASKS):
        return false()
    mine = or_(
        HumanTask.assignee == actor.username,
        HumanTask.id.in_(
            select(TaskCandidate.task_id).where(
                TaskCandidate.kind == CandidateKind.USER, TaskCandidate.value == actor.username
            )
        ),
    )
    conditions: list[ColumnElement[bool]] = [mine]
    groups = sorted(officer_groups(actor))
    if groups:
        conditions.append(
            HumanTask.id.in_(
                select(TaskCandidate.task_id).where(
                    TaskCandidate.kind == CandidateKind.GROUP, TaskCandidate.value.in_(groups)
                )
            )
        )
    if is_applicant(actor):
        conditions.append(unit_task_condition(actor))
    return or_(*conditions)


def unit_task_condition(actor: Actor) -> ColumnElement[bool]:
    """Tasks returned to the applicant side of a request of the actor's unit (the ``applicant``
    group's, or held by the request's initiator): the whole unit sees and answers them."""
    if not is_applicant(actor):
        return false()
    applicant_task = or_(
        HumanTask.id.in_(
            select(TaskCandidate.task_id).where(
                TaskCandidate.kind == CandidateKind.GROUP,
                TaskCandidate.value == Role.APPLICANT.value,
            )
        ),
        HumanTask.assignee == ProcessInstance.started_by,
    )
    return and_(applicant_task, _unit_or_own(actor))


def is_unit_task(t: HumanTask, inst: ProcessInstance) -> bool:
    """A task returned to the applicant side of the request: for the ``applicant`` group or
    held by the initiator."""
    return Role.APPLICANT.value in t.candidate_groups or (
        t.assignee is not None and t.assignee == inst.started_by
    )


def answers_for(actor: Actor, inst: ProcessInstance) -> bool:
    """Whether ``actor`` is on the applicant side of ``inst``: of its unit, or its filer."""
    if not is_applicant(actor):
        return False
    if actor.unit_id is not None:
        return inst.work_unit_id == actor.unit_id or inst.started_by == actor.username
    return inst.started_by == actor.username


def may_work(actor: Actor, t: HumanTask, inst: ProcessInstance, *, held_ok: bool = False) -> bool:
    """Whether ``actor`` may complete ``t`` now: its assignee, an administrator, a candidate
    while nobody else holds it (``held_ok``: even then — a candidate asking to claim, who
    hears who holds it), or a member of the request's unit for a task returned to the unit (the
    unit answers together, whoever filed)."""
    if actor.is_admin or (t.assignee is not None and t.assignee == actor.username):
        return True
    if not allowed(actor, Permission.WORK_TASKS):
        return False
    if is_unit_task(t, inst):
        return answers_for(actor, inst)
    if t.assignee is not None and not held_ok:
        return False
    return bool(set(t.candidate_groups) & officer_groups(actor)) or (
        actor.username in t.candidate_users
    )


def may_release(actor: Actor, t: HumanTask, inst: ProcessInstance) -> bool:
    """A task goes back to its pool only by its officer assignee or an administrator; a task
    returned to an applicant's unit stays with the unit (a pool would show it to other units)."""
    if actor.is_admin:
        return True
    if is_unit_task(t, inst):
        return False
    return t.assignee is None or t.assignee == actor.username
