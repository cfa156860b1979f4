"""API input/output of the programmes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rhip.programs.models import END_REASONS, PROGRAM_LABELS, Enrollment, FollowUp


class EnrollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident_id: int
    program: str = Field(description="hypertension | diabetes | elderly | child | pregnancy | smi | tb")
    start_date: date
    reason: str = Field(description="纳入管理的原因（人工纳入必填）")
    anchor_date: date | None = Field(None, description="孕产妇：末次月经；肺结核：疾控通知日期")


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    end_date: date
    reason: str = Field(description=", ".join(END_REASONS))
    note: str | None = None


class EnrollmentOut(BaseModel):
    id: int
    resident_id: int
    program: str
    program_name: str
    status: str
    start_date: date
    basis: str
    reason_code: str
    reason_text: str
    source_ref: str | None
    anchor_date: date | None
    schedule_version: str
    end_date: date | None
    end_reason: str | None
    end_note: str | None
    linked: bool = False  # held by another registration of the same person (MPI), not the one asked for


def enrollment_out(e: Enrollment, asked_for: int | None = None) -> EnrollmentOut:
    return EnrollmentOut(id=e.id, resident_id=e.resident_id, program=e.program, program_name=PROGRAM_LABELS[e.program][0],
                         status=e.status, start_date=e.start_date, basis=e.basis, reason_code=e.reason_code,
                         reason_text=e.reason_text, source_ref=e.source_ref, anchor_date=e.anchor_date,
                         schedule_version=e.schedule_version, end_date=e.end_date, end_reason=e.end_reason,
                         end_note=e.end_note, linked=asked_for is not None and e.resident_id != asked_for)


class FollowUpIn(BaseModel):
    """One follow-up. ``answers`` holds the programme's form fields (see GET /api/programs/forms)."""

    model_config = ConfigDict(extra="forbid")
    resident_id: int
    program: str
    visit_date: date
    kind: str | None = Field(None, description="所完成的计划随访（如 child.m6），缺省按日期匹配")
    org_id: int | None = None
    practitioner_id: int | None = None
    answers: dict[str, Any] = Field(default_factory=dict)


class Reason(BaseModel):
    code: str
    zh: str
    en: str


class FollowUpOut(BaseModel):
    id: int
    enrollment_id: int
    resident_id: int
    program: str
    encounter_id: int | None
    visit_date: date
    item_kind: str | None
    face_to_face: bool
    control_status: str | None
    next_step: str | None
    next_visit_due: date | None
    risk_grade: int | None
    risk_colour: str | None
    reasons: list[Reason]
    answers: dict[str, Any]


def followup_out(f: FollowUp) -> FollowUpOut:
    return FollowUpOut(id=f.id, enrollment_id=f.enrollment_id, resident_id=f.resident_id, program=f.program,
                       encounter_id=f.encounter_id, visit_date=f.visit_date, item_kind=f.item_kind,
                       face_to_face=f.face_to_face, control_status=f.control_status, next_step=f.next_step,
                       next_visit_due=f.next_visit_due, risk_grade=f.risk_grade, risk_colour=f.risk_colour,
                       reasons=[Reason(**r) for r in json.loads(f.reasons or "[]")],
                       answers=json.loads(f.form or "{}"))


class WorklistRow(BaseModel):
    item_id: int
    resident_id: int
    enrollment_id: int
    name: str
    sex: str
    age: int
    village_code: str
    phone: str | None
    program: str
    visit_kind: str
    visit_name: str
    service: str
    status: str
    due_date: date
    window_start: date
    window_end: date
    days_overdue: int
    days_left: int


class WorklistOut(BaseModel):
    as_of: date
    org: str | None
    items: list[WorklistRow]
    total: int
    page: int
    page_size: int
    pages: int


class FactOut(BaseModel):
    resident_id: int
    program: str
    year: int
    village_code: str
    managed: bool
    followups: int
    managed_per_spec: bool
    latest_control_status: str | None
    latest_visit_date: date | None
