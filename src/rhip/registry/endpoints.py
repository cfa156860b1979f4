"""Registry JSON API under /api. Routes only adapt HTTP to the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from rhip.kit.errors import FieldError, NotFound, ValidationFailed
from rhip.kit.http import DbSession
from rhip.kit.idcard import SEX_LABELS, check_id_number
from rhip.kit.masking import mask_id_number
from rhip.kit.pagination import Page, PageRequest
from rhip.registry import repository as repo
from rhip.registry import schemas as sc
from rhip.registry import service
from rhip.registry.rules import LEVELS, ORG_KINDS, age_on
from rhip.security.deps import Who

router = APIRouter(prefix="/api", tags=["registry 注册"])

PageNo = Annotated[int, Query(ge=1, description="页码，从1开始")]
PageSize = Annotated[int, Query(ge=1, le=200, description="每页条数（最多200）")]


def _page_out(items, page: Page) -> dict:
    return {"items": items, "total": page.total, "page": page.page, "page_size": page.page_size, "pages": page.pages}


def _listing(items: list, total: int, page: int, page_size: int) -> dict:
    return _page_out(items, Page(items, total, page, page_size))


def _item(r) -> sc.ResidentListItem:
    on = service.today()
    return sc.list_item(r, service.tags_of(r, on), age_on(r.birth_date, on))


def _detail(r) -> sc.ResidentOut:
    on = service.today()
    return sc.detail(r, service.tags_of(r, on), age_on(r.birth_date, on))


@router.get("/residents", response_model=sc.PageOut[sc.ResidentListItem], summary="搜索居民 Search residents")
def search_residents(
    s: DbSession, who: Who,
    q: Annotated[str | None, Query(description="姓名（前缀）、身份证号、手机号或健康档案编号，自动识别")] = None,
    name: Annotated[str | None, Query(description="姓名；末尾加 * 表示前缀匹配")] = None,
    id_number: Annotated[str | None, Query(description="身份证号（15位旧号亦可）")] = None,
    phone: str | None = None,
    household: Annotated[int | None, Query(description="户ID")] = None,
    village: Annotated[str | None, Query(description="村（12位）或乡镇（9位）区划代码")] = None,
    record_no: str | None = None,
    status: str | None = None,
    sex: str | None = None,
    tag: Annotated[str | None, Query(description="elderly65 | child0_6 | disabled | poor | fp_special")] = None,
    sort: Annotated[str, Query(description="name, birth_date, record_no, created_at, updated_at；前加 - 为降序")] = "name",
    page: PageNo = 1, page_size: PageSize = 20,
):
    query = service.ResidentQuery(q=q, name=name, id_number=id_number, phone=phone, household_id=household,
                                  village_code=village, record_no=record_no, status=status, sex=sex, tag=tag, sort=sort)
    result = service.search_residents(s, who, query, PageRequest(page, page_size))
    return _page_out([_item(r) for r in result.items], result)


@router.get("/residents/{resident_id}", response_model=sc.ResidentOut, summary="居民详情（完整证件号，留痕）")
def get_resident(resident_id: int, s: DbSession, who: Who, response: Response):
    r = service.get_resident(s, who, resident_id)
    response.headers["ETag"] = f'W/"{r.version}"'
    return _detail(r)


@router.post("/residents", response_model=sc.ResidentOut, status_code=201, summary="登记居民 Register a resident")
def create_resident(body: sc.ResidentIn, s: DbSession, who: Who, response: Response):
    r = service.create_resident(s, who, body.model_dump(), source="api")
    response.headers["Location"] = f"/api/residents/{r.id}"
    response.headers["ETag"] = f'W/"{r.version}"'
    return _detail(r)


def _version_from(if_match: str | None, body_version: int | None) -> int | None:
    if if_match:
        tag = if_match.strip().removeprefix("W/").strip('"')
        if tag.isdigit():
            return int(tag)
    return body_version


@router.patch("/residents/{resident_id}", response_model=sc.ResidentOut, summary="修改居民信息（乐观锁）")
def update_resident(resident_id: int, body: sc.ResidentPatch, s: DbSession, who: Who, response: Response,
                    if_match: Annotated[str | None, Header()] = None):
    changes = body.model_dump(exclude_unset=True)
    version = _version_from(if_match, changes.pop("version", None))
    r = service.update_resident(s, who, resident_id, changes, expected_version=version)
    response.headers["ETag"] = f'W/"{r.version}"'
    return _detail(r)


@router.post("/households", response_model=sc.HouseholdOut, status_code=201, summary="登记一户及其成员（整体成功或整体失败）")
def create_household(body: sc.HouseholdIn, s: DbSession, who: Who):
    hh, people = service.create_household(s, who, body.model_dump())
    return sc.HouseholdOut(id=hh.id, code=hh.code, village_code=hh.village_code, address=hh.address,
                           head_resident_id=hh.head_resident_id, members=[_item(p) for p in people])


@router.get("/households/{household_id}", response_model=sc.HouseholdOut, summary="户及成员")
def get_household(household_id: int, s: DbSession, who: Who):
    hh, people = service.get_household(s, who, household_id)
    return sc.HouseholdOut(id=hh.id, code=hh.code, village_code=hh.village_code, address=hh.address,
                           head_resident_id=hh.head_resident_id, members=[_item(p) for p in people])


@router.get("/divisions", response_model=sc.PageOut[sc.DivisionOut], summary="行政区划（县→乡镇→村）")
def list_divisions(s: DbSession, who: Who, parent: str | None = None,
                   level: Annotated[str | None, Query(description="county | township | village")] = None,
                   page: PageNo = 1, page_size: PageSize = 50):
    who.require("registry.read")
    if level is not None and level not in LEVELS:
        raise ValidationFailed([FieldError("level", "level.unknown", f"层级“{level}”无效",
                                           f"level '{level}' is not one of {', '.join(LEVELS)}")])
    pr = PageRequest(page, page_size)
    rows, total = repo.list_divisions(s, parent=parent, level=level, offset=pr.offset, limit=page_size)
    return _listing([sc.DivisionOut.model_validate(d) for d in rows], total, page, page_size)


@router.get("/divisions/{code}", response_model=sc.DivisionOut)
def get_division(code: str, s: DbSession, who: Who):
    who.require("registry.read")
    d = repo.get_division(s, code)
    if d is None:
        raise NotFound("区划", "division", code)
    return sc.DivisionOut.model_validate(d)


def _org_out(s, o) -> sc.OrganizationOut:
    mc = repo.get_medical_community(s, o.medical_community_id) if o.medical_community_id else None
    return sc.OrganizationOut(id=o.id, code=o.code, name=o.name, kind=o.kind, kind_label=ORG_KINDS[o.kind][1],
                              tier=o.tier, division_code=o.division_code, parent_id=o.parent_id,
                              medical_community_id=o.medical_community_id,
                              medical_community=mc.name if mc else None, phone=o.phone, active=o.active)


@router.get("/organizations", response_model=sc.PageOut[sc.OrganizationOut], summary="医疗卫生机构")
def list_organizations(s: DbSession, who: Who,
                       kind: Annotated[str | None, Query(description=", ".join(ORG_KINDS))] = None,
                       tier: Annotated[str | None, Query(description="county | township | village | public_health")] = None,
                       division: str | None = None, medical_community: int | None = None,
                       page: PageNo = 1, page_size: PageSize = 50):
    who.require("registry.read")
    pr = PageRequest(page, page_size)
    rows, total = repo.list_organizations(s, kind=kind, tier=tier, division=division,
                                          medical_community_id=medical_community, offset=pr.offset, limit=page_size)
    return _listing([_org_out(s, o) for o in rows], total, page, page_size)


@router.get("/organizations/{org_id}", response_model=sc.OrganizationOut)
def get_organization(org_id: int, s: DbSession, who: Who):
    who.require("registry.read")
    o = repo.get_organization(s, org_id)
    if o is None:
        raise NotFound("机构", "organization", org_id)
    return _org_out(s, o)


def _practitioners_out(s, rows) -> list[sc.PractitionerOut]:
    orgs = repo.practitioner_orgs(s, [p.id for p in rows])
    return [sc.PractitionerOut(id=p.id, name=p.name, sex=p.sex, id_number_masked=mask_id_number(p.id_number),
                               profession=p.profession, qualification=p.qualification, active=p.active,
                               organizations=[sc.PractitionerOrgOut(org_id=o, primary=pri, department=d)
                                              for o, pri, d in orgs.get(p.id, [])]) for p in rows]


@router.get("/practitioners", response_model=sc.PageOut[sc.PractitionerOut], summary="医务人员")
def list_practitioners(s: DbSession, who: Who, org: int | None = None, profession: str | None = None,
                       name: str | None = None, page: PageNo = 1, page_size: PageSize = 50):
    who.require("registry.read")
    pr = PageRequest(page, page_size)
    rows, total = repo.list_practitioners(s, org_id=org, profession=profession, name=name, offset=pr.offset,
                                          limit=page_size)
    return _listing(_practitioners_out(s, rows), total, page, page_size)


@router.get("/practitioners/{pid}", response_model=sc.PractitionerOut)
def get_practitioner(pid: int, s: DbSession, who: Who):
    who.require("registry.read")
    p = repo.get_practitioner(s, pid)
    if p is None:
        raise NotFound("医务人员", "practitioner", pid)
    return _practitioners_out(s, [p])[0]


def _teams_out(s, rows) -> list[sc.TeamOut]:
    ids = [t.id for t in rows]
    members = repo.team_members(s, ids)
    villages = repo.team_villages(s, ids)
    return [sc.TeamOut(id=t.id, code=t.code, name=t.name, org_id=t.org_id, villages=villages.get(t.id, []),
                       members=[sc.TeamMemberOut(practitioner_id=p.id, name=p.name, role=tm.role,
                                                 profession=p.profession) for tm, p in members.get(t.id, [])])
            for t in rows]


@router.get("/teams", response_model=sc.PageOut[sc.TeamOut], summary="家庭医生团队")
def list_teams(s: DbSession, who: Who, org: int | None = None, village: str | None = None,
               page: PageNo = 1, page_size: PageSize = 50):
    who.require("registry.read")
    pr = PageRequest(page, page_size)
    rows, total = repo.list_teams(s, org_id=org, village_code=village, offset=pr.offset, limit=page_size)
    return _listing(_teams_out(s, rows), total, page, page_size)


@router.get("/teams/{team_id}", response_model=sc.TeamOut)
def get_team(team_id: int, s: DbSession, who: Who):
    who.require("registry.read")
    t = repo.get_team(s, team_id)
    if t is None:
        raise NotFound("团队", "team", team_id)
    return _teams_out(s, [t])[0]


@router.get("/id-numbers/{number}", summary="校验身份证号 Check an ID number (GB 11643)")
def check_id(number: str, who: Who):
    chk = check_id_number(number)
    return {
        "input": number, "valid": chk.valid, "normalized": chk.normalized, "legacy15": chk.legacy15,
        "birth_date": chk.birth_date, "sex": chk.sex, "sex_label": SEX_LABELS[chk.sex][0] if chk.sex else None,
        "division_code": chk.division_code,
        "problems": [{"code": p.code, "message_zh": p.message_zh, "message_en": p.message_en} for p in chk.problems],
    }
