"""Diagram drafts: an analyst's work in the web modeler before an administrator publishes it.

A draft belongs to one agency and carries a row version (``revision``): a save names the
revision it started from and is refused when someone saved in between, so two analysts editing
the same draft never overwrite each other silently. A published draft is kept (marked with the
definition it became) so the analyst can continue from it; publishing again makes a new version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class DiagramDraft(Base):
    __tablename__ = "diagram_draft"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    xml: Mapped[str] = mapped_column(Text)
    based_on_definition_id: Mapped[str | None] = mapped_column(String(160))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    published_definition_id: Mapped[str | None] = mapped_column(String(160))
    published_version: Mapped[int | None] = mapped_column(Integer)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
