"""Deploying diagrams as new process definition versions, and choosing the active version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..actors import Actor
from ..bpmn.diagram import ParsedDiagram
from ..context import Context
from ..errors import Conflict, DeployError, PermissionDenied, Problem
from ..models import Deployment, ProcessDefinition, new_id
from ..queries.definitions import find_definition


@dataclass
class DeployResult:
    deployment: Deployment
    deployed: list[ProcessDefinition] = field(default_factory=list)
    unchanged: list[ProcessDefinition] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # the diagrams', e.g. unknown topics


def _next_activation(s: Session, agency_id: int, key: str) -> int:
    top = s.scalar(
        select(func.max(ProcessDefinition.activation)).where(
            ProcessDefinition.agency_id == agency_id, ProcessDefinition.key == key
        )
    )
    return (top or 0) + 1


def _parse_all(parse: Any, files: Sequence[tuple[str, bytes]]) -> list[ParsedDiagram]:
    """Every file parsed, or a DeployError with the problems of all of them."""
    if not files:
        raise DeployError([Problem("No BPMN file given", "Tidak ada berkas BPMN")])
    parsed: list[ParsedDiagram] = []
    problems: list[Problem] = []
    for filename, data in files:
        try:
            parsed.append(parse(filename, data))
        except DeployError as e:
            problems.extend(e.problems)
    if problems:
        raise DeployError(problems, files[0][0] if len(files) == 1 else None)
    keys = [p.key for d in parsed for p in d.processes]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise DeployError(
            [
                Problem(
                    f"Process '{k}' appears in more than one file",
                    f"Proses '{k}' muncul di lebih dari satu berkas",
                )
                for k in dupes
            ]
        )
    return parsed


def deploy(
    ctx: Context,
    parse: Any,
    actor: Actor,
    files: Sequence[tuple[str, bytes]],
    *,
    name: str | None = None,
    source: str | None = None,
    version_tag: str | None = None,
    note: str | None = None,
    duplicate_filtering: bool = True,
) -> DeployResult:
    """Deploy every process of every file, or nothing: a bad file refuses the whole batch."""
    if not actor.is_admin:
        raise PermissionDenied(
            "Only administrators deploy", "Hanya administrator yang dapat deploy"
        )
    parsed = _parse_all(parse, files)
    warnings = [w for d in parsed for w in d.warnings]
    now = ctx.now()
    try:
        with ctx.sessions.begin() as s:
            agency = ctx.agency(s, actor.agency)
            result_rows: list[tuple[ParsedDiagram, Any, ProcessDefinition | None]] = []
            for diagram in parsed:
                for proc in diagram.processes:
                    latest = s.scalar(
                        select(ProcessDefinition)
                        .where(
                            ProcessDefinition.agency_id == agency.id,
                            ProcessDefinition.key == proc.key,
                        )
                        .order_by(ProcessDefinition.version.desc())
                        .limit(1)
                    )
                    result_rows.append((diagram, proc, latest))
            changed = [
                r
                for r in result_rows
                if not (
                    duplicate_filtering
                    and r[2] is not None
                    and r[2].sha256 == r[0].sha256
                    and (version_tag is None or r[2].version_tag == version_tag)
                )
            ]
            if not changed:
                unchanged = [r[2] for r in result_rows if r[2] is not None]
                dep = s.get(Deployment, unchanged[0].deployment_id)
                assert dep is not None
                return DeployResult(deployment=dep, unchanged=unchanged, warnings=warnings)
            dep = Deployment(
                agency_id=agency.id,
                name=name or parsed[0].filename,
                source=source,
                note=note,
                deployed_by=actor.username,
                deployed_at=now,
            )
            s.add(dep)
            s.flush()
            result = DeployResult(deployment=dep, warnings=warnings)
            for diagram, proc, latest in result_rows:
                if (diagram, proc, latest) not in changed:
                    assert latest is not None
                    result.unchanged.append(latest)
                    continue
                version = (latest.version if latest else 0) + 1
                d = ProcessDefinition(
                    id=f"{proc.key}:{version}:{new_id()}",
                    agency_id=agency.id,
                    deployment_id=dep.id,
                    key=proc.key,
                    name=proc.name,
                    version=version,
                    version_tag=version_tag or proc.version_tag,
                    resource_name=diagram.filename,
                    sha256=diagram.sha256,
                    xml=diagram.xml.decode("utf-8"),
                    spec_json=ctx.serializer.dump_spec(proc.spec, proc.subprocess_specs),
                    forms={k: f.as_dict() for k, f in proc.forms.items()},
                    start_form=proc.start_form.as_dict(),
                    topics=sorted(proc.topics),
                    properties=proc.properties,
                    history_ttl=proc.history_ttl,
                    activation=_next_activation(s, agency.id, proc.key),
                    activated_at=now,
                    created_at=now,
                )
                s.add(d)
                result.deployed.append(d)
                ctx.history(
                    s,
                    agency.id,
                    "definition_deployed",
                    actor.username,
                    data={
                        "definition_id": d.id,
                        "key": d.key,
                        "version": version,
                        "version_tag": d.version_tag,
                        "note": note,
                    },
                )
            s.flush()
            return result
    except IntegrityError:
        raise Conflict(
            "Another deployment of the same process happened at the same time; retry",
            "Deployment lain untuk proses yang sama terjadi bersamaan; ulangi",
        )


def activate(ctx: Context, actor: Actor, definition_id: str) -> ProcessDefinition:
    """Make a version the one new instances start on (rollback); running ones keep theirs."""
    if not actor.is_admin:
        raise PermissionDenied(
            "Only administrators change the active version",
            "Hanya administrator yang dapat mengganti versi aktif",
        )
    with ctx.sessions.begin() as s:
        agency = ctx.agency(s, actor.agency)
        d = find_definition(s, agency.id, definition_id)
        d.activation = _next_activation(s, agency.id, d.key)
        d.activated_at = ctx.now()
        d.suspended = False
        ctx.history(
            s,
            agency.id,
            "definition_activated",
            actor.username,
            data={"definition_id": d.id, "key": d.key, "version": d.version},
        )
        return d
