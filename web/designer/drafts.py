"""Storage rules of diagram drafts: agency-scoped lookups, optimistic saves, and reading an
uploaded or saved diagram safely (engine.bpmn's parser: no DTD, no entities, no network).
No Flask request handling here, so the rules can be read and tested on their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.bpmn.namespaces import BPMN, BPMN_NS
from engine.bpmn.xml import safe_parse
from engine.errors import DeployError
from engine.models import ProcessDefinition

from .models import DiagramDraft

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024


class NotADiagram(Exception):
    """The bytes are not a BPMN diagram (not XML, a DTD, or XML of another kind)."""

    def __init__(self, en: str, id: str) -> None:
        super().__init__(en)
        self.message_en = en
        self.message_id = id


class StaleDraft(Exception):
    """Someone saved the draft after the revision the caller started from."""

    def __init__(self, current: DiagramDraft) -> None:
        super().__init__(current.id)
        self.current = current


@dataclass(frozen=True)
class DiagramInfo:
    process_key: str
    name: str | None


def sniff(data: bytes) -> DiagramInfo:
    """The first process of a BPMN file, or NotADiagram: a PDF renamed ``.bpmn``, a DTD or any
    XML that is not ``bpmn:definitions`` is refused before it becomes a draft."""
    if not data.strip():
        raise NotADiagram("The file is empty", "Berkas kosong")
    if len(data) > MAX_DIAGRAM_BYTES:
        raise NotADiagram(
            f"The diagram is larger than {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
            f"Diagram lebih besar dari {MAX_DIAGRAM_BYTES // 1024 // 1024} MB",
        )
    try:
        tree = safe_parse(data)
    except DeployError as e:
        first = e.problems[0]
        raise NotADiagram(
            f"Not a BPMN diagram: {first.message_en}", f"Bukan diagram BPMN: {first.message_id}"
        ) from None
    root = tree.getroot()
    if etree.QName(root).localname != "definitions" or etree.QName(root).namespace != BPMN_NS:
        raise NotADiagram(
            "Not a BPMN diagram: the root element is not bpmn:definitions",
            "Bukan diagram BPMN: elemen akarnya bukan bpmn:definitions",
        )
    proc = root.find(f"{BPMN}process")
    if proc is None or not proc.get("id"):
        raise NotADiagram(
            "The diagram has no process with an id", "Diagram tidak memiliki proses dengan id"
        )
    return DiagramInfo(process_key=str(proc.get("id"))[:100], name=proc.get("name"))


def as_text(data: bytes) -> str:
    """Drafts are stored and edited as UTF-8 text (what Camunda Modeler and bpmn-js write)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotADiagram(
            "The diagram must be saved as UTF-8", "Diagram harus disimpan dalam UTF-8"
        ) from None


def get_draft(s: Session, agency_id: int, draft_id: str) -> DiagramDraft | None:
    d = s.get(DiagramDraft, draft_id)
    return d if d is not None and d.agency_id == agency_id else None


def drafts_of(s: Session, agency_id: int) -> list[DiagramDraft]:
    q = select(DiagramDraft).where(DiagramDraft.agency_id == agency_id)
    return list(s.scalars(q.order_by(DiagramDraft.updated_at.desc())))


def definition_with_xml(s: Session, agency_id: int, definition_id: str) -> ProcessDefinition | None:
    d = s.get(ProcessDefinition, definition_id)
    if d is None or d.agency_id != agency_id:
        return None
    _ = d.xml  # deferred: load it while the session is open
    return d


def open_from_definition(
    s: Session, definition: ProcessDefinition, username: str, now: Any
) -> DiagramDraft:
    """The draft already based on this version that was not published yet, or a new one, so
    opening the same version twice continues the same work."""
    existing = s.scalar(
        select(DiagramDraft)
        .where(
            DiagramDraft.agency_id == definition.agency_id,
            DiagramDraft.based_on_definition_id == definition.id,
            DiagramDraft.published_definition_id.is_(None),
        )
        .order_by(DiagramDraft.updated_at.desc())
        .limit(1)
    )
    if existing is not None:
        return existing
    draft = DiagramDraft(
        agency_id=definition.agency_id,
        process_key=definition.key,
        name=definition.name,
        filename=definition.resource_name or f"{definition.key}.bpmn",
        xml=definition.xml,
        based_on_definition_id=definition.id,
        revision=1,
        created_by=username,
        created_at=now,
        updated_by=username,
        updated_at=now,
    )
    s.add(draft)
    s.flush()
    return draft


def save(s: Session, draft: DiagramDraft, xml: str, revision: int, username: str, now: Any) -> int:
    """Write ``xml`` if the draft is still at ``revision``; the new revision, or StaleDraft.

    One conditional UPDATE, so two concurrent saves cannot both win on either database."""
    info = sniff(xml.encode("utf-8"))
    done = s.execute(
        update(DiagramDraft)
        .where(DiagramDraft.id == draft.id, DiagramDraft.revision == revision)
        .values(
            xml=xml,
            revision=revision + 1,
            process_key=info.process_key,
            name=info.name,
            updated_by=username,
            updated_at=now,
            # edited after publishing: no longer the published version
            published_definition_id=None,
            published_version=None,
            published_by=None,
            published_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        s.refresh(draft)
        raise StaleDraft(draft)
    return revision + 1
