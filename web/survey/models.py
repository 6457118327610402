"""The ``survey_response`` table: one IKM answer sheet per completed request.

``instance_id`` is unique, so a request is answered once even when two submissions race; the
process key is copied in so reports group answers by SOP without joining old definitions.
Answers are nine integer columns (1-4) rather than JSON: reports average them in SQL-free Python
today, but the columns keep the data checkable and exportable as it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, new_id


class SurveyResponse(Base):
    __tablename__ = "survey_response"
    __table_args__ = (Index("ix_survey_response_agency_submitted", "agency_id", "submitted_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    process_key: Mapped[str] = mapped_column(String(100))
    u1: Mapped[int] = mapped_column(Integer)
    u2: Mapped[int] = mapped_column(Integer)
    u3: Mapped[int] = mapped_column(Integer)
    u4: Mapped[int] = mapped_column(Integer)
    u5: Mapped[int] = mapped_column(Integer)
    u6: Mapped[int] = mapped_column(Integer)
    u7: Mapped[int] = mapped_column(Integer)
    u8: Mapped[int] = mapped_column(Integer)
    u9: Mapped[int] = mapped_column(Integer)
    suggestion: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime]

    def answers(self) -> list[int]:
        return [self.u1, self.u2, self.u3, self.u4, self.u5, self.u6, self.u7, self.u8, self.u9]
