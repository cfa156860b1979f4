"""MPI JSON API under /api/mpi. Routes only adapt HTTP to ``mpi.service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rhip.kit.http import DbSession
from rhip.kit.pagination import PageRequest
from rhip.mpi import schemas as sc
from rhip.mpi import service
from rhip.security.deps import Who

router = APIRouter(prefix="/api/mpi", tags=["MPI 主索引"])


@router.get("/reviews", response_model=sc.ReviewPage, summary="待审核的疑似重复 Possible matches to review")
def list_reviews(s: DbSession, who: Who, status: str = "pending",
                 township: Annotated[str | None, Query(description="9位乡镇区划代码")] = None,
                 page: Annotated[int, Query(ge=1)] = 1, page_size: Annotated[int, Query(ge=1, le=200)] = 20):
    result = service.list_reviews(s, who, PageRequest(page, page_size), status=status, township=township)
    P = service.params()
    return sc.ReviewPage(items=[sc.review_out(rv, a, b, P) for rv, a, b in result.items], total=result.total,
                         page=result.page, page_size=result.page_size, pages=result.pages)


@router.get("/reviews/counts", response_model=list[sc.TownshipCount], summary="各乡镇待审核数 Pending per township")
def review_counts(s: DbSession, who: Who):
    return [sc.TownshipCount(township=t, name=n, pending=c) for t, n, c in service.pending_counts(s, who)]


@router.get("/reviews/{review_id}", response_model=sc.ReviewOut, summary="配对详情 One pair, field by field")
def get_review(review_id: int, s: DbSession, who: Who):
    rv, a, b = service.get_review(s, who, review_id)
    return sc.review_out(rv, a, b, service.params())


@router.post("/reviews/{review_id}/decision", response_model=sc.ReviewOut,
             summary="审核决定：同一人 / 不是同一人 Decide: link or distinct")
def decide(review_id: int, body: sc.DecisionIn, s: DbSession, who: Who):
    service.decide_review(s, who, review_id, body.decision, body.reason)
    rv, a, b = service.get_review(s, who, review_id)
    return sc.review_out(rv, a, b, service.params())


@router.get("/residents/{resident_id}/identity", summary="主索引身份及关联档案 Golden identity and links")
def identity(resident_id: int, s: DbSession, who: Who):
    return service.identity(s, who, resident_id)


@router.post("/merges", response_model=sc.MergeOut, status_code=201, summary="合并档案 Merge two records")
def merge(body: sc.MergeIn, s: DbSession, who: Who):
    return sc.merge_out(service.merge(s, who, body.survivor, body.merged, body.reason))


@router.post("/merges/{merge_id}/undo", response_model=sc.MergeOut, summary="撤销合并 Undo a merge")
def unmerge(merge_id: int, body: sc.UndoIn, s: DbSession, who: Who):
    return sc.merge_out(service.unmerge(s, who, merge_id, body.reason))


@router.post("/match", response_model=list[sc.MatchOut], summary="查找可能是同一人的档案 Find matching records")
def match(body: sc.MatchIn, s: DbSession, who: Who):
    data = body.model_dump(exclude={"count", "only_certain"})
    found = service.match_query(s, who, data, count=body.count, only_certain=body.only_certain)
    P = service.params()
    return [sc.MatchOut(resident=sc.brief(m.resident), probability=round(m.probability, 6),
                        weight=round(m.weight, 2), grade=m.grade, comparison=sc.comparison(m.levels, P))
            for m in found]
