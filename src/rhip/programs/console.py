"""Console pages of the programmes (a village doctor's phone first): the worklist as of a date, and the
follow-up form a worklist row links to. Routes only adapt HTTP to the services (``programs.worklist``,
``programs.service``), which check scope and permissions and audit; plumbing from ``web.support``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from rhip.kit import clock
from rhip.kit.errors import FieldError, NotFound, ValidationFailed
from rhip.kit.http import DbSession
from rhip.kit.pagination import PageRequest
from rhip.programs import repository as repo
from rhip.programs import service
from rhip.programs import worklist as wl
from rhip.programs.forms import fields_of
from rhip.programs.models import PROGRAM_LABELS, PROGRAMS
from rhip.programs.rules_common import load_schedule
from rhip.programs.rules_maternal import load_risk_scheme
from rhip.registry import repository as reg_repo
from rhip.registry import service as reg_service
from rhip.registry.rules import age_on
from rhip.web.support import (
    Console, FormUser, blank_to_none, error_message, field_errors, guarded, render, request_lang, to_int,
)

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE = 30
STATUS_LABELS = {"overdue": ("逾期", "overdue"), "due": ("到期", "due"), "upcoming": ("即将到期", "coming up")}
NEXT_STEP_LABELS = {"routine": ("常规随访", "routine follow-up"),
                    "adjust_recheck": ("调整治疗，2周内复诊", "adjust, revisit within 2 weeks"),
                    "refer": ("建议转诊，2周内随访", "refer, check back within 2 weeks"),
                    "emergency_referral": ("紧急转诊", "urgent referral")}
CONTROL_LABELS = {"controlled": ("控制满意", "controlled"), "uncontrolled": ("控制不满意", "uncontrolled")}
TEXT = {
    "zh": {"worklist": "随访工作清单", "as_of": "截至日期", "org": "范围", "org.placeholder": "村/乡镇代码或 team:团队ID",
           "program": "项目", "status": "状态", "all": "全部", "show": "查看", "record": "录入随访",
           "days_overdue": "逾期{n}天", "days_left": "剩{n}天", "opens": "{d}起", "window": "时间窗",
           "none": "没有需要随访的居民。", "followup": "录入随访", "visit_date": "随访日期", "save": "保存随访",
           "saved": "随访已保存", "decision": "评估与下一步", "next_due": "下次随访截止", "back": "返回工作清单",
           "resident": "居民", "age": "岁", "visit": "计划随访", "yes": "是", "control": "控制情况",
           "colour": "妊娠风险", "grade": "危险性等级", "another": "继续录入"},
    "en": {"worklist": "Worklist", "as_of": "As of", "org": "Scope", "org.placeholder": "village/township code or "
                                                                                      "team:<id>",
           "program": "Programme", "status": "Status", "all": "All", "show": "Show", "record": "Record follow-up",
           "days_overdue": "{n} days overdue", "days_left": "{n} days left", "opens": "opens {d}",
           "window": "window", "none": "Nobody to follow up.", "followup": "Record a follow-up",
           "visit_date": "Visit date", "save": "Save follow-up", "saved": "Follow-up saved",
           "decision": "Assessment and next step", "next_due": "Next visit by", "back": "Back to the worklist",
           "resident": "Resident", "age": "y", "visit": "Scheduled visit", "yes": "yes", "control": "Control",
           "colour": "Pregnancy risk", "grade": "Risk grade", "another": "Record another"},
}


def _text(lang: str):
    table = TEXT.get(lang, TEXT["zh"])

    def pt(key: str, **kw: Any) -> str:
        msg = table.get(key, key)
        return msg.format(**kw) if kw else msg
    return pt


def _label(table: dict, code: str | None, lang: str) -> str:
    if code is None:
        return ""
    pair = table.get(code)
    return (pair[0] if lang == "zh" else pair[1]) if pair else code


def _ctx(request: Request) -> dict:
    lang = request_lang(request)
    return {"pt": _text(lang), "PL": lambda c: _label(PROGRAM_LABELS, c, lang),
            "SL": lambda c: _label(STATUS_LABELS, c, lang), "NL": lambda c: _label(NEXT_STEP_LABELS, c, lang),
            "CL": lambda c: _label(CONTROL_LABELS, c, lang), "PROGRAMS": PROGRAMS, "STATUSES": wl.STATUSES}


def _as_date(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        raise ValidationFailed([FieldError("as_of", "date", f"“{text}”不是日期（YYYY-MM-DD）",
                                           f"{text!r} is not a date (YYYY-MM-DD)")]) from None


@router.get("/worklist")
@guarded
def worklist(request: Request, s: DbSession, who: Console, org: str | None = None, as_of: str | None = None,
             program: str | None = None, status: str | None = None, page: str | None = None):
    today = clock.now().date()
    form = {"org": blank_to_none(org), "as_of": blank_to_none(as_of) or today.isoformat(),
            "program": blank_to_none(program), "status": blank_to_none(status)}
    on = _as_date(form["as_of"], today)
    q = wl.build_query(s, org=form["org"], as_of=on, programs=[form["program"]] if form["program"] else None,
                       statuses=[form["status"]] if form["status"] else None)
    result = wl.page(s, who, q, PageRequest(to_int(page, 1, minimum=1), PAGE_SIZE))
    names = reg_repo.division_names(s, {r["village_code"] for r in result.items})
    for r in result.items:
        r["village"] = names.get(r["village_code"], r["village_code"])
        r["record_url"] = "/console/followup/new?" + urlencode({"resident": r["resident_id"], "program": r["program"],
                                                                "kind": r["visit_kind"]})
    return render(request, "programs/worklist.html", {**_ctx(request), "form": form, "result": result,
                                                      "rows": result.items})


def _choices(program: str, name: str, choices, on: date) -> list[tuple[str, str]]:
    if isinstance(choices, tuple):
        return list(choices)
    if choices == "danger_signs":
        sch = load_schedule(program if program in ("hypertension", "diabetes") else "hypertension", on)
        return [(d["code"], d["zh"]) for d in sch.params.get("danger_signs", [])]
    if choices == "risk_factors":
        return [(f["code"], f["zh"]) for f in load_risk_scheme()["factors"]]
    return []


def _form_page(request: Request, s, who, resident_id: int, program: str, kind: str | None, values: dict,
               errors: dict | None = None, message: str | None = None, status_code: int = 200):
    r = reg_service.get_resident(s, who, resident_id)  # scope check + audited read
    if program not in PROGRAMS:
        raise NotFound("项目", "programme", program)
    today = clock.now().date()
    enrollment = repo.active_enrollment(s, resident_id, program, today)
    fields = [{"name": n, "kind": k, "zh": zh, "en": en, "required": req,
               "choices": _choices(program, n, ch, today)} for n, k, zh, en, req, ch in fields_of(program)]
    item = None
    if enrollment is not None and kind:
        item = next((i for i in repo.open_items(s, enrollment.id) if i.kind == kind), None)
    return render(request, "programs/followup_form.html", {
        **_ctx(request), "r": r, "age": age_on(r.birth_date, today), "program": program, "kind": kind, "item": item,
        "enrollment": enrollment, "fields": fields, "values": values, "errors": errors or {}, "message": message,
        "today": today.isoformat()}, status_code=status_code)


@router.get("/followup/new")
@guarded
def followup_form(request: Request, s: DbSession, who: Console, resident: str | None = None,
                  program: str | None = None, kind: str | None = None):
    who.require("program.write")
    rid = to_int(resident, minimum=1)
    if rid is None:
        raise NotFound("居民", "resident", resident)
    return _form_page(request, s, who, rid, program or "", blank_to_none(kind),
                      {"visit_date": clock.now().date().isoformat(), "way": "clinic"})


async def _form_data(request: Request) -> FormData:
    return await request.form()  # already parsed (and cached) by the CSRF check


def _answers(program: str, form: FormData) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind, *_ in fields_of(program):
        if kind == "multi":
            out[name] = [v for v in form.getlist(name) if isinstance(v, str) and v]
        elif kind == "bool":
            out[name] = form.get(name) in ("1", "on", "true")
        else:
            v = form.get(name)
            out[name] = v.strip() if isinstance(v, str) and v.strip() else None
    return out


@router.post("/followup")
@guarded
def followup_save(request: Request, s: DbSession, who: FormUser,
                  form: Annotated[FormData, Depends(_form_data)]):
    lang = request_lang(request)
    rid = to_int(form.get("resident_id"), minimum=1)
    program = str(form.get("program") or "")
    kind = blank_to_none(str(form.get("kind") or "")) if form.get("kind") else None
    if rid is None:
        raise NotFound("居民", "resident", form.get("resident_id"))
    answers = _answers(program, form) if program in PROGRAMS else {}
    values = {k: v for k, v in answers.items()} | {"visit_date": form.get("visit_date")}
    try:
        visit = _as_date(str(form.get("visit_date") or ""), None) if form.get("visit_date") else None
        if visit is None:
            raise ValidationFailed([FieldError("visit_date", "required", "请填写随访日期", "the visit date is required")])
        with s.begin_nested():  # a refused form leaves nothing behind; the page (and its audit) goes on
            row, decision = service.record_followup(s, who, rid, program, visit, answers, kind=kind)
    except ValidationFailed as err:
        return _form_page(request, s, who, rid, program, kind, values, errors=field_errors(err, lang),
                          message=error_message(err, lang), status_code=422)
    r = reg_repo.get_resident(s, rid)
    return render(request, "programs/followup_done.html", {
        **_ctx(request), "r": r, "row": row, "decision": decision, "reasons": service.reasons_of(row),
        "program": program}, status_code=201)


@router.get("/followup")
def followup_get():
    return RedirectResponse("/console/worklist", status_code=303)
