"""Letter numbers: a counter per agency, series and year, and the letters issued with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class LetterSequence(Base):
    """The last number given per agency, series (``surat`` outgoing letters, ``agenda`` the
    incoming-mail register) and year, in the agency's time zone. Incremented with one UPDATE in
    the transaction that stores the letter, so numbers have neither duplicates nor gaps."""

    __tablename__ = "letter_sequence"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Letter(Base):
    __tablename__ = "letter"
    __table_args__ = (
        UniqueConstraint("agency_id", "series", "year", "seq", name="uq_letter_number"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    job_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # idempotent generate
    template: Mapped[str] = mapped_column(String(64))
    series: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120))
    attachment_id: Mapped[str] = mapped_column(ForeignKey("attachment.id"))
    created_at: Mapped[datetime]
