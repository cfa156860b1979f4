"""Bookkeeping of generator stages, and the ground truth that identity work is measured against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class SynthStage(Base):
    """One row per generator stage that completed (a stage is one transaction: all or nothing)."""

    __tablename__ = "synth_stage"
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    profile: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text)  # JSON
    rows: Mapped[int] = mapped_column(BigId)
    seconds: Mapped[float] = mapped_column()
    completed_at: Mapped[datetime] = mapped_column(DateTime)


class SynthTruth(Base):
    """For every synthetic registration: which real (synthetic) person it is, and which faults it carries.

    Identity matching (MPI) is scored against this. ``person_id`` is the resident id of the person's
    first (clean) registration.
    """

    __tablename__ = "synth_truth"
    resident_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    faults: Mapped[str | None] = mapped_column(String(64))  # comma-separated: name_typo, id_typo, id_missing, …
