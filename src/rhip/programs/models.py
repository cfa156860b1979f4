"""Programme tables: enrolments, their materialised schedules (care-plan activities), follow-ups and the
per-year facts the indicator layer reads.

* ``program_enrollment`` — a resident in a programme: start, why (automatic fact or manual reason), end and
  why, the schedule version used, the anchor facts (birth, last menstrual period, CDC notice …).
* ``program_item`` — one scheduled visit of an enrolment with its window (inclusive) and, once done, the
  date and the follow-up that did it. Worklists are a set-based query over this table.
* ``program_followup`` — one follow-up form: the encounter it is stored as (records), the classification and
  the next step decided by the rules, the form's answers.
* ``program_fact`` — per resident, programme and year: managed, managed per spec, latest control status.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of

BigId = BigInteger().with_variant(Integer(), "sqlite")

PROGRAMS = ("hypertension", "diabetes", "elderly", "child", "pregnancy", "smi", "tb")
PROGRAM_LABELS = {"hypertension": ("高血压", "hypertension"), "diabetes": ("2型糖尿病", "type 2 diabetes"),
                  "elderly": ("65岁及以上老年人", "elderly 65+"), "child": ("0～6岁儿童", "children 0-6"),
                  "pregnancy": ("孕产妇", "pregnancy and postpartum"), "smi": ("严重精神障碍", "severe mental illness"),
                  "tb": ("肺结核", "tuberculosis")}
END_REASONS = {"death": ("死亡", "death"), "moved_out": ("迁出", "moved out"),
               "pregnancy_ended": ("妊娠结束（产后管理完成）", "end of pregnancy (postpartum care done)"),
               "age_limit": ("超出年龄范围", "age limit reached"),
               "treatment_completed": ("疗程结束", "treatment completed"),
               "condition_resolved": ("诊断不再成立", "diagnosis no longer active"),
               "manual": ("人工结案", "closed by a user")}
ITEM_STATUSES = ("scheduled", "done", "cancelled")


class Enrollment(Base):
    __tablename__ = "program_enrollment"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    program: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))  # active | ended
    start_date: Mapped[date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(8))  # auto | manual
    reason_code: Mapped[str] = mapped_column(String(32))  # e.g. condition, age, birth, pregnancy, tb_notice, manual
    reason_text: Mapped[str] = mapped_column(String(200))
    source_ref: Mapped[str | None] = mapped_column(String(64))  # the fact: "Condition/12", "Patient/3#birth" …
    anchor_date: Mapped[date | None] = mapped_column(Date)  # birth, lmp, CDC notice … (per programme)
    facts: Mapped[str | None] = mapped_column(Text)  # JSON: further anchor facts (delivery, discharge, treatment)
    schedule_version: Mapped[str] = mapped_column(String(16))
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(24))
    end_note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("ix_program_enrollment_resident_program", "resident_id", "program"),
        # at most one active enrolment per resident and programme
        Index("uq_program_enrollment_active", "resident_id", "program", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
        CheckConstraint(one_of("program", PROGRAMS), name="program"),
        CheckConstraint(one_of("status", ("active", "ended")), name="status"),
        CheckConstraint(one_of("basis", ("auto", "manual")), name="basis"),
    )


class ProgramItem(Base):
    """A scheduled visit (CarePlan.activity). ``window_end`` is inclusive: a visit on that day is on time."""

    __tablename__ = "program_item"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("program_enrollment.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    program: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(40))  # schedule item code: child.m3, hypertension.2026q1, …recheck
    name_zh: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(8))  # visit | hb | tcm | recheck
    due_date: Mapped[date] = mapped_column(Date)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="scheduled")  # scheduled | done | cancelled
    done_on: Mapped[date | None] = mapped_column(Date)
    followup_id: Mapped[int | None] = mapped_column(BigId)  # no FK: item and follow-up are written together
    # The first day on which the item is no longer work (done, superseded by a later item of the same service,
    # enrolment ended); OPEN_UNTIL_CLOSED while nothing has closed it; CANCELLED_CLOSES for cancelled items.
    # Derived from the other columns by programs.repository.refresh_closes_on (decision 0010).
    closes_on: Mapped[date] = mapped_column(Date, default=date(9999, 12, 31), server_default="9999-12-31")
    __table_args__ = (
        Index("uq_program_item_kind", "enrollment_id", "kind", "window_start", unique=True),
        Index("ix_program_item_closes", "closes_on", "window_start"),
        Index("ix_program_item_enrollment_service", "enrollment_id", "service", "window_start"),
        Index("ix_program_item_resident_window", "resident_id", "window_start"),
        Index("ix_program_item_window", "window_start", "window_end"),
        CheckConstraint(one_of("status", ITEM_STATUSES), name="status"),
    )


class FollowUp(Base):
    __tablename__ = "program_followup"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("program_enrollment.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    program: Mapped[str] = mapped_column(String(16))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounter.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    item_kind: Mapped[str | None] = mapped_column(String(40))  # the scheduled visit it fulfilled
    face_to_face: Mapped[bool] = mapped_column(Boolean, default=True)
    control_status: Mapped[str | None] = mapped_column(String(12))  # controlled | uncontrolled
    next_step: Mapped[str | None] = mapped_column(String(20))  # routine | adjust_recheck | refer | emergency_referral
    next_visit_due: Mapped[date | None] = mapped_column(Date)
    risk_grade: Mapped[int | None] = mapped_column(SmallInteger)  # severe mental illness 0–5
    risk_colour: Mapped[str | None] = mapped_column(String(8))  # pregnancy five-colour
    reasons: Mapped[str | None] = mapped_column(Text)  # JSON [{code, zh, en}]
    form: Mapped[str | None] = mapped_column(Text)  # JSON: the form's answers
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioner.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (
        Index("ix_program_followup_enrollment_date", "enrollment_id", "visit_date"),
        Index("ix_program_followup_resident_date", "resident_id", "visit_date"),
    )


class ProgramFact(Base):
    """Per resident, programme and year, for indicators (规范管理率, 控制率 …) without re-deriving the rules."""

    __tablename__ = "program_fact"
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), primary_key=True)
    program: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(BigId)
    village_code: Mapped[str] = mapped_column(String(12))
    managed: Mapped[bool] = mapped_column(Boolean)
    followups: Mapped[int] = mapped_column(Integer)
    managed_per_spec: Mapped[bool] = mapped_column(Boolean)
    latest_control_status: Mapped[str | None] = mapped_column(String(12))
    latest_visit_date: Mapped[date | None] = mapped_column(Date)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_program_fact_year_program_village", "year", "program", "village_code"),)
