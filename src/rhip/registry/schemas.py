"""API input and output shapes for the registry."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from rhip.kit.masking import mask_id_number, mask_phone

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    pages: int


class ResidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="姓名 (WS 364 DE02.01.039.00)", examples=["张丽"])
    sex: str = Field(description="性别代码 GB/T 2261.1: 0 未知, 1 男, 2 女, 9 未说明", examples=["2"])
    birth_date: date = Field(description="出生日期", examples=["1958-03-14"])
    id_number: str | None = Field(None, description="居民身份证号 (18位；15位旧号自动升位)；儿童、部分老人可为空")
    ethnicity: str | None = Field(None, description="民族代码 GB/T 3304, 01 汉族")
    phone: str | None = None
    phone2: str | None = None
    village_code: str = Field(description="居住村（社区）12位区划代码")
    address: str | None = None
    household_id: int | None = None
    relation_to_head: str | None = Field(None, description="与户主关系 GB/T 4761: 02 户主, 10 配偶, 20 子, 30 女 …")
    hukou_local: bool = True
    usual_local: bool = True
    status: str = Field("alive", description="alive | deceased | moved_out")
    status_date: date | None = Field(None, description="死亡或迁出日期")
    disability: str | None = Field(None, description="残疾类别 GB/T 26341: 1–7")
    disability_grade: int | None = None
    poverty_registered: bool = False
    fp_special_family: bool = False


class ResidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    sex: str | None = None
    birth_date: date | None = None
    id_number: str | None = None
    ethnicity: str | None = None
    phone: str | None = None
    phone2: str | None = None
    village_code: str | None = None
    address: str | None = None
    relation_to_head: str | None = None
    hukou_local: bool | None = None
    usual_local: bool | None = None
    status: str | None = None
    status_date: date | None = None
    disability: str | None = None
    disability_grade: int | None = None
    poverty_registered: bool | None = None
    fp_special_family: bool | None = None
    version: int | None = Field(None, description="乐观锁：读取时的版本号（或用 If-Match 头）")


class ResidentListItem(BaseModel):
    """A row of a search result: ID number and phone masked."""

    id: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    age: int
    id_number_masked: str | None
    id_number_status: str
    phone_masked: str | None
    village_code: str
    household_id: int | None
    status: str
    tags: list[str]


class ResidentOut(BaseModel):
    """The detail view (audited): ID number and phones shown whole."""

    id: int
    record_no: str
    name: str
    sex: str
    birth_date: date
    age: int
    id_number: str | None
    id_number_raw: str | None
    id_number_status: str
    ethnicity: str
    phone: str | None
    phone2: str | None
    household_id: int | None
    relation_to_head: str | None
    village_code: str
    address: str | None
    hukou_local: bool
    usual_local: bool
    status: str
    status_date: date | None
    disability: str | None
    disability_grade: int | None
    poverty_registered: bool
    fp_special_family: bool
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class HouseholdMemberIn(ResidentIn):
    village_code: str | None = None  # taken from the household


class HouseholdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    village_code: str
    address: str | None = None
    members: list[HouseholdMemberIn]


class HouseholdOut(BaseModel):
    id: int
    code: str
    village_code: str
    address: str | None
    head_resident_id: int | None
    members: list[ResidentListItem]


class DivisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    level: str
    kind: str | None
    parent_code: str | None


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    tier: str
    division_code: str
    parent_id: int | None
    medical_community_id: int | None
    medical_community: str | None = None
    phone: str | None
    active: bool


class PractitionerOrgOut(BaseModel):
    org_id: int
    primary: bool
    department: str | None


class PractitionerOut(BaseModel):
    id: int
    name: str
    sex: str
    id_number_masked: str | None
    profession: str
    qualification: str | None
    organizations: list[PractitionerOrgOut]
    active: bool


class TeamMemberOut(BaseModel):
    practitioner_id: int
    name: str
    role: str
    profession: str


class TeamOut(BaseModel):
    id: int
    code: str
    name: str
    org_id: int
    members: list[TeamMemberOut]
    villages: list[str]


def list_item(r, tags: list[str], age: int) -> ResidentListItem:
    return ResidentListItem(id=r.id, record_no=r.record_no, name=r.name, sex=r.sex, birth_date=r.birth_date, age=age,
                            id_number_masked=mask_id_number(r.id_number or r.id_number_raw),
                            id_number_status=r.id_number_status, phone_masked=mask_phone(r.phone),
                            village_code=r.village_code, household_id=r.household_id, status=r.status, tags=tags)


def detail(r, tags: list[str], age: int) -> ResidentOut:
    return ResidentOut(
        id=r.id, record_no=r.record_no, name=r.name, sex=r.sex, birth_date=r.birth_date, age=age,
        id_number=r.id_number, id_number_raw=r.id_number_raw, id_number_status=r.id_number_status,
        ethnicity=r.ethnicity, phone=r.phone, phone2=r.phone2, household_id=r.household_id,
        relation_to_head=r.relation_to_head, village_code=r.village_code, address=r.address,
        hukou_local=r.hukou_local, usual_local=r.usual_local, status=r.status, status_date=r.status_date,
        disability=r.disability, disability_grade=r.disability_grade, poverty_registered=r.poverty_registered,
        fp_special_family=r.fp_special_family, tags=tags, version=r.version, created_at=r.created_at,
        updated_at=r.updated_at)
