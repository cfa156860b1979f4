"""Contracts JSON API under /api/contracts. Routes only adapt HTTP to the services."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from rhip.contracts import fulfilment as ful
from rhip.contracts import populations as pop
from rhip.contracts import rules
from rhip.contracts import schemas as sc
from rhip.contracts import service
from rhip.kit.http import DbSession
from rhip.kit.pagination import PageRequest
from rhip.registry.schemas import PageOut
from rhip.security.deps import Who

router = APIRouter(prefix="/api", tags=["contracts 家庭医生签约"])


def _version(if_match: str | None, body_version: int | None) -> int | None:
    if if_match:
        tag = if_match.strip().removeprefix("W/").strip('"')
        if tag.isdigit():
            return int(tag)
    return body_version


def _one(s, who, contract_id: int, response: Response) -> sc.ContractOut:
    v = service.get(s, who, contract_id)
    response.headers["ETag"] = f'W/"{v.contract.version}"'
    return sc.contract_out(v)


def _written(s, c, response: Response) -> sc.ContractOut:
    response.headers["ETag"] = f'W/"{c.version}"'
    return sc.contract_out(service.view(s, c))


@router.get("/contracts/packages", summary="服务包目录 Package catalogue (versioned configuration)")
def packages(who: Who, on: date | None = None):
    cat = rules.catalogue_on(on or service.today())
    return {"version": cat.version, "effective_from": cat.effective_from, "status": cat.status, "source": cat.source,
            "params": dict(cat.params),
            "service_types": {k: {"name_zh": t.name_zh, "name_en": t.name_en, "encounter_kinds": list(t.encounter_kinds)}
                              for k, t in cat.service_types.items()},
            "packages": [{"code": p.code, "kind": p.kind, "name_zh": p.name_zh, "name_en": p.name_en, "price": p.price,
                          "payers": dict(p.payers), "for_populations": list(p.for_populations),
                          "services": dict(p.services)} for p in cat.packages.values()]}


@router.get("/contracts/facts", summary="签约率、重点人群签约率、履约率的分子分母（按乡镇或团队）")
def facts(s: DbSession, who: Who, as_of: date | None = None,
          by: Annotated[str, Query(pattern="^(township|team)$")] = "township"):
    on = as_of or service.today()
    return {"as_of": on, "by": by, "rows": [a.as_dict() for a in ful.facts(s, who, on, by=by)]}


@router.get("/contracts", response_model=PageOut[sc.ContractOut], summary="搜索签约 Search contracts")
def search(s: DbSession, who: Who, team: int | None = None, doctor: int | None = None,
           status: Annotated[str | None, Query(description="active | renewed | transferred | terminated | expired")] = None,
           resident: int | None = None,
           village: Annotated[str | None, Query(description="村（12位）或乡镇（9位）区划代码")] = None,
           population: Annotated[str | None, Query(description="重点人群 elderly65 | hypertension | diabetes | smi | tb | "
                                                               "pregnant | child0_6 | disabled | poor | fp_special")] = None,
           in_force_on: date | None = None,
           page: Annotated[int, Query(ge=1)] = 1, page_size: Annotated[int, Query(ge=1, le=200)] = 20):
    q = service.ContractQuery(team_id=team, doctor_id=doctor, status=status, resident_id=resident,
                              village_code=village, population=population, in_force_on=in_force_on)
    result = service.search(s, who, q, PageRequest(page, page_size))
    return {"items": [sc.contract_out(v) for v in result.items], "total": result.total, "page": result.page,
            "page_size": result.page_size, "pages": result.pages}


@router.post("/contracts", response_model=sc.ContractOut, status_code=201, summary="签约 Sign a contract")
def sign(body: sc.ContractIn, s: DbSession, who: Who, response: Response):
    c = service.sign(s, who, body.model_dump())
    response.headers["Location"] = f"/api/contracts/{c.id}"
    return _written(s, c, response)


@router.get("/contracts/{contract_id}", response_model=sc.ContractOut, summary="签约详情（含履约）")
def read(contract_id: int, s: DbSession, who: Who, response: Response):
    return _one(s, who, contract_id, response)


@router.post("/contracts/{contract_id}/renew", response_model=sc.ContractOut, status_code=201, summary="续约")
def renew(contract_id: int, body: sc.RenewIn, s: DbSession, who: Who, response: Response,
          if_match: Annotated[str | None, Header()] = None):
    data = body.model_dump()
    c = service.renew(s, who, contract_id, data, expected_version=_version(if_match, data.pop("version")))
    response.headers["Location"] = f"/api/contracts/{c.id}"
    return _written(s, c, response)


@router.post("/contracts/{contract_id}/transfer", response_model=sc.ContractOut, status_code=201,
             summary="转签到其他团队")
def transfer(contract_id: int, body: sc.TransferIn, s: DbSession, who: Who, response: Response,
             if_match: Annotated[str | None, Header()] = None):
    data = body.model_dump()
    c = service.transfer(s, who, contract_id, data, expected_version=_version(if_match, data.pop("version")))
    response.headers["Location"] = f"/api/contracts/{c.id}"
    return _written(s, c, response)


@router.post("/contracts/{contract_id}/terminate", response_model=sc.ContractOut, summary="解约")
def terminate(contract_id: int, body: sc.TerminateIn, s: DbSession, who: Who, response: Response,
              if_match: Annotated[str | None, Header()] = None):
    data = body.model_dump()
    c = service.terminate(s, who, contract_id, data, expected_version=_version(if_match, data.pop("version")))
    return _written(s, c, response)


@router.get("/residents/{resident_id}/key-populations", response_model=sc.KeyPopulationsOut,
            summary="居民重点人群分类（含依据，按当前事实计算）")
def key_populations(resident_id: int, s: DbSession, who: Who, as_of: date | None = None):
    on = as_of or service.today()
    r, members = pop.of_resident(s, who, resident_id, on=on)
    return sc.KeyPopulationsOut(resident_id=r.id, as_of=on, populations=[
        sc.MembershipOut(population=m.population, name=rules.population_label(m.population), since=m.since,
                         reason_zh=m.reason_zh, reason_en=m.reason_en) for m in members])


@router.get("/residents/{resident_id}/contracts", response_model=list[sc.ContractOut], summary="居民的签约记录")
def of_resident(resident_id: int, s: DbSession, who: Who):
    return [sc.contract_out(v) for v in service.of_resident(s, who, resident_id)]
