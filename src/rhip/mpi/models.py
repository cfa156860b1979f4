"""Master patient index tables: golden identities, links of source records, blocking keys, the review
queue and the merge log.

* ``mpi_person`` — one row per person (the golden identity) with a stable master identifier (EMPI).
* ``mpi_link`` — every source record (source system + local id) points to one person. A registration in
  this platform's registry is the source system ``rhip.registry`` with the resident id as local id; other
  systems' patient numbers (a hospital's MRN) link the same way. A record merged into another keeps its
  row and its link: ``status='replaced'`` and ``replaced_by_resident_id`` say by which record.
* ``mpi_block`` — blocking keys of every registration as 64-bit hashes (the keys contain ID numbers and
  phones; the table is never exposed through an API).
* ``mpi_review`` — possible matches waiting for (or holding) a person's decision; one row per pair, so a
  decision is remembered and the pair is not proposed again.
* ``mpi_merge`` — merges with their reason and whether (and why) they were undone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of

BigId = BigInteger().with_variant(Integer(), "sqlite")

REGISTRY_SYSTEM = "rhip.registry"  # source system of registrations made in this platform's registry
LINK_HOW = ("new", "auto", "review", "manual", "index")
REVIEW_STATUSES = ("pending", "linked", "distinct")


class MpiPerson(Base):
    __tablename__ = "mpi_person"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    empi: Mapped[str] = mapped_column(String(32))  # master identifier: UUID4 hex, never reused
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | retired (no record left)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("uq_mpi_person_empi", "empi", unique=True),
        CheckConstraint(one_of("status", ("active", "retired")), name="status"),
    )


class MpiLink(Base):
    __tablename__ = "mpi_link"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("mpi_person.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | replaced
    replaced_by_resident_id: Mapped[int | None] = mapped_column(BigId)
    how: Mapped[str] = mapped_column(String(8))  # see LINK_HOW
    score: Mapped[float | None] = mapped_column(Float)  # match probability when linked by matching
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("uq_mpi_link_source", "source_system", "source_id", unique=True),
        Index("ix_mpi_link_person_id", "person_id"),
        Index("ix_mpi_link_resident_id", "resident_id"),
        CheckConstraint(one_of("status", ("active", "replaced")), name="status"),
        CheckConstraint(one_of("how", LINK_HOW), name="how"),
    )


class MpiBlock(Base):
    __tablename__ = "mpi_block"
    key: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    __table_args__ = (Index("ix_mpi_block_resident_id", "resident_id"),)


class MpiReview(Base):
    __tablename__ = "mpi_review"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_a: Mapped[int] = mapped_column(ForeignKey("resident.id"))  # the lower id of the pair
    resident_b: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    village_a: Mapped[str] = mapped_column(String(12))  # for scope filters and per-township counts
    village_b: Mapped[str] = mapped_column(String(12))
    score: Mapped[float] = mapped_column(Float)  # match probability
    weight: Mapped[float] = mapped_column(Float)  # Fellegi–Sunter match weight (log2)
    levels: Mapped[str] = mapped_column(Text)  # JSON: field → comparison level value
    status: Mapped[str] = mapped_column(String(8), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("uq_mpi_review_pair", "resident_a", "resident_b", unique=True),
        Index("ix_mpi_review_resident_b", "resident_b"),
        Index("ix_mpi_review_status_village_b", "status", "village_b"),
        Index("ix_mpi_review_status_village_a", "status", "village_a"),
        CheckConstraint(one_of("status", REVIEW_STATUSES), name="status"),
        CheckConstraint("resident_a < resident_b", name="pair_order"),
    )


class MpiMerge(Base):
    __tablename__ = "mpi_merge"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survivor_resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    merged_resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    previous_person_id: Mapped[int] = mapped_column(ForeignKey("mpi_person.id"))  # merged record's person before
    reason: Mapped[str] = mapped_column(Text)
    merged_by: Mapped[str] = mapped_column(String(64))
    merged_at: Mapped[datetime] = mapped_column(DateTime)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undo_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_mpi_merge_merged_resident_id", "merged_resident_id"),
                      Index("ix_mpi_merge_survivor_resident_id", "survivor_resident_id"))
