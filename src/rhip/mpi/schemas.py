"""MPI API input and output. ID numbers and phones are masked in every MPI listing and comparison."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from rhip.kit.masking import mask_id_number, mask_phone
from rhip.mpi.rules_score import FIELD_LEVELS, ScoringParams


class RecordBrief(BaseModel):
    id: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    id_number_masked: str | None
    id_number_status: str
    phone_masked: str | None
    village_code: str
    source: str


class FieldComparison(BaseModel):
    field: str
    level: str
    label_zh: str
    label_en: str
    weight: float  # log2(m/u): positive is evidence for the same person


class ReviewOut(BaseModel):
    id: int
    status: str
    score: float = Field(description="match probability 0–1")
    weight: float = Field(description="Fellegi–Sunter match weight (log2 odds)")
    a: RecordBrief
    b: RecordBrief
    comparison: list[FieldComparison]
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class ReviewPage(BaseModel):
    items: list[ReviewOut]
    total: int
    page: int
    page_size: int
    pages: int


class DecisionIn(BaseModel):
    decision: Literal["link", "distinct"] = Field(description="link: 同一人; distinct: 不是同一人")
    reason: str = Field(description="理由（必填）")


class TownshipCount(BaseModel):
    township: str
    name: str
    pending: int


class MergeIn(BaseModel):
    survivor: int = Field(description="保留的档案（居民ID）")
    merged: int = Field(description="被合并的档案（居民ID）：保留其记录，标记为被替代")
    reason: str


class UndoIn(BaseModel):
    reason: str


class MergeOut(BaseModel):
    id: int
    survivor: int
    merged: int
    reason: str
    merged_by: str
    merged_at: datetime
    undone_by: str | None
    undone_at: datetime | None
    undo_reason: str | None


class MatchIn(BaseModel):
    name: str | None = None
    id_number: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    phones: list[str] = Field(default_factory=list)
    village_code: str | None = None
    count: int | None = None
    only_certain: bool = False


class MatchOut(BaseModel):
    resident: RecordBrief
    probability: float
    weight: float
    grade: str
    comparison: list[FieldComparison]


def brief(r) -> RecordBrief:
    return RecordBrief(id=r.id, record_no=r.record_no, name=r.name, sex=r.sex, birth_date=r.birth_date,
                       id_number_masked=mask_id_number(r.id_number or r.id_number_raw),
                       id_number_status=r.id_number_status, phone_masked=mask_phone(r.phone),
                       village_code=r.village_code, source=r.source)


def comparison(levels: dict, params: ScoringParams) -> list[FieldComparison]:
    """``levels``: field → Level, or field → level value (as stored with a review pair)."""
    out = []
    for f, enum in FIELD_LEVELS.items():
        lv = levels.get(f)
        if lv is None:
            continue
        if isinstance(lv, str):
            lv = enum(lv)
        out.append(FieldComparison(field=f, level=lv.value, label_zh=lv.label_zh, label_en=lv.label_en,
                                   weight=round(params.weight(f, lv), 2)))
    return out


def review_out(rv, a, b, params: ScoringParams) -> ReviewOut:
    return ReviewOut(id=rv.id, status=rv.status, score=round(rv.score, 6), weight=round(rv.weight, 2),
                     a=brief(a), b=brief(b), comparison=comparison(json.loads(rv.levels or "{}"), params),
                     reason=rv.reason, decided_by=rv.decided_by, decided_at=rv.decided_at, created_at=rv.created_at)


def merge_out(m) -> MergeOut:
    return MergeOut(id=m.id, survivor=m.survivor_resident_id, merged=m.merged_resident_id, reason=m.reason,
                    merged_by=m.merged_by, merged_at=m.merged_at, undone_by=m.undone_by, undone_at=m.undone_at,
                    undo_reason=m.undo_reason)
