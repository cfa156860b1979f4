"""Report and document tables: diagnostic reports (DiagnosticReport: lab panels, imaging and exam reports
with their conclusion) and clinical documents (DocumentReference: discharge summaries and the like, with the
document itself as an attachment).

A report's results are references to Observations of the same patient, kept in order in
``diagnostic_report_result`` (the check that they exist and belong to the report's patient runs when the
session flushes, so that every writer gets it). A document's attachment is stored as its decoded bytes
(at most :data:`MAX_ATTACHMENT_BYTES`) with its size and SHA-1, or as a URL where the document lives elsewhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rhip.kit.db import Base, one_of
from rhip.records.models import BigId, _Sourced

REPORT_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0074"  # LAB, RAD, CT, US, EC, PAT, …
DIAGNOSTIC_REPORT_STATUSES = ("registered", "partial", "preliminary", "final", "amended", "corrected", "appended",
                              "cancelled", "entered-in-error", "unknown")
DOCUMENT_STATUSES = ("current", "superseded", "entered-in-error")
DOC_STATUSES = ("preliminary", "final", "amended", "entered-in-error")
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


class DiagnosticReportResult(Base):
    """The ``seq``-th result (an Observation) of a report."""

    __tablename__ = "diagnostic_report_result"
    report_id: Mapped[int] = mapped_column(ForeignKey("diagnostic_report.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observation.id"), index=True)


class DiagnosticReport(_Sourced, Base):
    """A lab panel or an imaging/exam report (检验/检查报告). ``practitioner_id`` / ``org_id`` is the performer."""

    __tablename__ = "diagnostic_report"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(16))  # v2-0074: LAB, RAD, …
    code_system: Mapped[str] = mapped_column(String(64))  # LOINC or the source's local system
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None] = mapped_column(String(200))
    effective_at: Mapped[datetime] = mapped_column(DateTime)
    issued: Mapped[datetime | None] = mapped_column(DateTime)
    conclusion: Mapped[str | None] = mapped_column(Text)
    conclusion_system: Mapped[str | None] = mapped_column(String(64))
    conclusion_code: Mapped[str | None] = mapped_column(String(32))
    conclusion_display: Mapped[str | None] = mapped_column(String(200))
    result_rows: Mapped[list[DiagnosticReportResult]] = relationship(
        order_by=DiagnosticReportResult.seq, cascade="all, delete-orphan", lazy="selectin")
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_diagnostic_report_source"),
        Index("ix_diagnostic_report_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_diagnostic_report_resident_code_time", "resident_id", "code", "effective_at"),
        CheckConstraint(one_of("status", DIAGNOSTIC_REPORT_STATUSES), name="status"),
    )

    @property
    def result_ids(self) -> list[int]:
        """The Observation ids of the results, in order."""
        return [r.observation_id for r in self.result_rows]

    @result_ids.setter
    def result_ids(self, ids: list[int]) -> None:
        """Replace the results, reusing the existing (report, seq) rows so that no key is deleted and
        inserted again in one flush."""
        rows = self.result_rows
        for i, oid in enumerate(ids):
            if i < len(rows):
                rows[i].observation_id = oid
            else:
                rows.append(DiagnosticReportResult(seq=i + 1, observation_id=oid))
        del rows[len(ids):]


class DocumentReference(_Sourced, Base):
    """A clinical document (出院小结 …). ``practitioner_id`` / ``org_id`` is the author."""

    __tablename__ = "document_reference"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    status: Mapped[str] = mapped_column(String(16))
    doc_status: Mapped[str | None] = mapped_column(String(16))
    type_system: Mapped[str] = mapped_column(String(64))  # LOINC, e.g. 18842-5 Discharge summary
    type_code: Mapped[str] = mapped_column(String(32))
    type_display: Mapped[str | None] = mapped_column(String(200))
    category_system: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(32))
    category_display: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[datetime] = mapped_column(DateTime)
    content_type: Mapped[str] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(200))
    creation: Mapped[datetime | None] = mapped_column(DateTime)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    url: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int | None] = mapped_column(Integer)
    sha1: Mapped[str | None] = mapped_column(String(40))  # hex
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_document_reference_source"),
        Index("ix_document_reference_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_document_reference_resident_type_date", "resident_id", "type_code", "date"),
        CheckConstraint(one_of("status", DOCUMENT_STATUSES), name="status"),
        CheckConstraint(one_of("doc_status", DOC_STATUSES), name="doc_status"),
        CheckConstraint("data IS NOT NULL OR url IS NOT NULL", name="content"),
        CheckConstraint(f"size IS NULL OR size <= {MAX_ATTACHMENT_BYTES}", name="size"),
    )
