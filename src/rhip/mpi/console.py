"""Console page of the MPI review queue (疑似重复档案审核): pending pairs side by side with the
field-by-field comparison, a decision form per pair, and the pending count per township.

Routes only adapt HTTP to ``mpi.service`` (scope, permission and audit live there)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from rhip.kit.errors import RhipError
from rhip.kit.http import DbSession
from rhip.kit.pagination import PageRequest
from rhip.mpi import service
from rhip.mpi.rules_score import FIELD_LEVELS
from rhip.registry import repository as reg_repo
from rhip.web.support import Console, FormStr, FormUser, blank_to_none, error_message, guarded, render, \
    request_lang, to_int

router = APIRouter(prefix="/console/mpi", include_in_schema=False)
PAGE_SIZE = 10

FIELD_LABELS = {"name": ("姓名", "Name"), "id_number": ("身份证号", "ID number"), "sex": ("性别", "Sex"),
                "birth_date": ("出生日期", "Birth date"), "phone": ("电话", "Phone"),
                "village": ("住址（村）", "Village"), "household": ("户", "Household")}
TEXT = {
    "title": ("疑似重复档案审核", "Possible duplicates"),
    "intro": ("系统自动比对时得分介于“疑似”与“确认”阈值之间的档案对，需要人工确认是否为同一人。决定会被记住，同一对不会再次提示。",
              "Pairs whose score lies between the possible and the certain threshold need a person to decide. "
              "Decisions are remembered; a pair is not proposed again."),
    "by_township": ("各乡镇待审核", "Pending per township"), "all": ("全部", "All"),
    "none": ("没有待审核的档案对。", "Nothing waits for review."),
    "score": ("匹配概率", "Match probability"), "weight": ("权重", "Weight"),
    "record_a": ("档案甲", "Record A"), "record_b": ("档案乙", "Record B"), "field": ("项目", "Field"),
    "result": ("比对结果", "Comparison"),
    "reason": ("理由（必填）", "Reason (required)"),
    "link": ("是同一人，关联", "Same person: link"), "distinct": ("不是同一人", "Not the same person"),
    "decided": ("已处理", "Decided"), "record_no": ("档案号", "Record no."), "source": ("来源", "Source"),
    "evidence_for": ("支持同一人", "for"), "evidence_against": ("不支持", "against"),
}


def _texts(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in TEXT.items()}


def _rows(rv, a, b, params, lang: str) -> list[dict]:
    levels = json.loads(rv.levels or "{}")
    i = 0 if lang == "zh" else 1
    values = {
        "name": (a.name, b.name),
        "id_number": (a.id_number or a.id_number_raw, b.id_number or b.id_number_raw),
        "sex": (a.sex, b.sex),
        "birth_date": (a.birth_date.isoformat(), b.birth_date.isoformat()),
        "phone": (a.phone, b.phone),
        "village": (a.village_code, b.village_code),
        "household": (a.household_id, b.household_id),
    }
    out = []
    for f, enum in FIELD_LEVELS.items():
        if f not in levels:
            continue
        lv = enum(levels[f])
        out.append({"field": FIELD_LABELS[f][i], "key": f, "a": values[f][0], "b": values[f][1],
                    "level": lv.label_zh if lang == "zh" else lv.label_en,
                    "weight": round(params.weight(f, lv), 1)})
    return out


@router.get("/reviews")
@guarded
def reviews(request: Request, s: DbSession, who: Console, township: str | None = None, page: str | None = None,
            done: str | None = None, error: str | None = None):
    lang = request_lang(request)
    township = blank_to_none(township)
    counts = service.pending_counts(s, who)
    result = service.list_reviews(s, who, PageRequest(to_int(page, 1, minimum=1), PAGE_SIZE), township=township)
    params = service.params()
    names = reg_repo.division_names(s, {r.village_code for _, a, b in result.items for r in (a, b)})
    items = [{"rv": rv, "a": a, "b": b, "va": names.get(a.village_code, a.village_code),
              "vb": names.get(b.village_code, b.village_code), "rows": _rows(rv, a, b, params, lang)}
             for rv, a, b in result.items]
    return render(request, "mpi/reviews.html", {
        "m": _texts(lang), "counts": counts, "township": township, "result": result, "items": items,
        "total_pending": sum(n for _, _, n in counts), "done": done, "error": error,
    })


@router.post("/reviews/{review_id}")
@guarded
def decide(request: Request, s: DbSession, who: FormUser, review_id: int, decision: FormStr = "",
           reason: FormStr = "", township: FormStr = ""):
    back = {"township": township} if township else {}
    try:
        service.decide_review(s, who, review_id, decision, reason)
    except RhipError as err:
        if err.http_status not in (409, 422):
            raise
        s.rollback()
        return RedirectResponse("/console/mpi/reviews?" + urlencode({**back, "error": error_message(
            err, request_lang(request))}), status_code=303)
    return RedirectResponse("/console/mpi/reviews?" + urlencode({**back, "done": decision}), status_code=303)
