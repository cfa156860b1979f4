"""Programme JSON API under /api. Routes only adapt HTTP to the services."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from rhip.kit import clock
from rhip.kit.http import DbSession
from rhip.kit.pagination import PageRequest
from rhip.programs import enrollment as enrol
from rhip.programs import repository as repo
from rhip.programs import schemas as sc
from rhip.programs import service
from rhip.programs import worklist as wl
from rhip.programs.forms import FORMS, fields_of
from rhip.programs.models import END_REASONS, PROGRAM_LABELS
from rhip.security.deps import Who

router = APIRouter(prefix="/api", tags=["programs 公共卫生项目"])


@router.get("/worklists", response_model=sc.WorklistOut, summary="随访工作清单 Worklist (due, overdue, coming up)")
def worklists(
    s: DbSession, who: Who,
    org: Annotated[str | None, Query(description="村（12位）、乡镇（9位）或县（6位）区划代码，或 team:<团队ID>；"
                                                 "缺省为本人服务范围")] = None,
    as_of: Annotated[date | None, Query(description="截至日期，缺省为今天")] = None,
    program: Annotated[list[str] | None, Query(description="项目，可多个")] = None,
    status: Annotated[list[str] | None, Query(description="overdue | due | upcoming，可多个")] = None,
    horizon: Annotated[int, Query(ge=0, le=366, description="即将到期：多少天内开始的随访")] = 30,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
):
    on = as_of or clock.now().date()
    q = wl.build_query(s, org=org, as_of=on, programs=program, statuses=status, horizon_days=horizon)
    result = wl.page(s, who, q, PageRequest(page, page_size))
    return {"as_of": on, "org": org, "items": result.items, "total": result.total, "page": result.page,
            "page_size": result.page_size, "pages": result.pages}


@router.get("/programs/forms", summary="各项目随访表单字段 Follow-up form fields per programme")
def forms(who: Who):
    return {p: {"name": PROGRAM_LABELS[p][0], "fields": [
        {"name": n, "kind": k, "label_zh": zh, "label_en": en, "required": req,
         "choices": [c for c, _ in ch] if isinstance(ch, tuple) else ch}
        for n, k, zh, en, req, ch in fields_of(p)]} for p in FORMS}


@router.get("/programs/enrollments", response_model=list[sc.EnrollmentOut], summary="居民的项目管理记录")
def list_enrollments(s: DbSession, who: Who, resident_id: int):
    return [sc.enrollment_out(e, resident_id) for e in enrol.enrollments_for(s, who, resident_id)]


@router.post("/programs/enrollments", response_model=sc.EnrollmentOut, status_code=201, summary="人工纳入管理")
def create_enrollment(body: sc.EnrollIn, s: DbSession, who: Who):
    e = enrol.enroll_manually(s, who, body.resident_id, body.program, body.start_date, body.reason, body.anchor_date)
    return sc.enrollment_out(e)


@router.post("/programs/enrollments/{enrollment_id}/end", response_model=sc.EnrollmentOut,
             summary=f"结案 End an enrolment ({', '.join(END_REASONS)})")
def end_enrollment(enrollment_id: int, body: sc.EndIn, s: DbSession, who: Who):
    return sc.enrollment_out(enrol.end_enrollment(s, who, enrollment_id, body.end_date, body.reason, body.note))


@router.post("/programs/recompute/{resident_id}", response_model=list[sc.EnrollmentOut],
             summary="按事实重算该居民的自动纳入 Recompute automatic enrolments")
def recompute(resident_id: int, s: DbSession, who: Who):
    who.require("program.write")
    enrol.enrollments_for(s, who, resident_id)  # scope check
    enrol.recompute(s, who, [resident_id])
    return [sc.enrollment_out(e) for e in repo.enrollments_of(s, [resident_id])]


@router.post("/programs/followups", response_model=sc.FollowUpOut, status_code=201, summary="录入随访 Record a "
                                                                                            "follow-up")
def create_followup(body: sc.FollowUpIn, s: DbSession, who: Who):
    row, _ = service.record_followup(s, who, body.resident_id, body.program, body.visit_date, body.answers,
                                     kind=body.kind, org_id=body.org_id, practitioner_id=body.practitioner_id)
    return sc.followup_out(row)


@router.get("/programs/followups", response_model=list[sc.FollowUpOut], summary="居民的随访记录")
def list_followups(s: DbSession, who: Who, resident_id: int,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50):
    return [sc.followup_out(f) for f in service.followups_for(s, who, resident_id, limit)]


@router.get("/programs/facts/summary", summary="管理指标事实汇总（本人范围）Managed / per spec / controlled counts")
def facts_summary(s: DbSession, who: Who, year: int):
    who.require("program.read")
    return [{"program": p, "managed": n, "managed_per_spec": int(spec or 0), "controlled": int(ctl or 0)}
            for p, n, spec, ctl in repo.fact_summary(s, who.scope, year)]
