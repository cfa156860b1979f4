"""API input and output shapes for contracts."""

from __future__ import annotations

import datetime as _dt
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from rhip.contracts import rules
from rhip.kit.masking import mask_id_number


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resident_id: int = Field(description="居民ID")
    team_id: int = Field(description="家庭医生团队ID（须服务居民所在村）")
    doctor_id: int = Field(description="责任医生（团队成员）的医务人员ID")
    packages: list[str] = Field(description="服务包代码：一个基础包 basic，加个性化包如 hypertension、diabetes、elderly",
                                examples=[["basic", "hypertension"]])
    start_date: date | None = Field(None, description="开始日期，默认今天")
    end_date: date | None = Field(None, description="结束日期，默认一年（开始日期一年后的前一天）")
    consent_date: date = Field(description="知情同意日期")
    consent_method: str = Field(description="written 书面签字 | e_signature 电子签名 | verbal_witnessed 口头同意并有见证人")
    consent_witness: str | None = Field(None, description="见证人（口头同意时必填）")


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    packages: list[str] | None = Field(None, description="续约服务包，默认与原签约相同")
    doctor_id: int | None = Field(None, description="责任医生，默认不变")
    end_date: date | None = None
    consent_date: date
    consent_method: str
    consent_witness: str | None = None
    version: int | None = Field(None, description="原签约版本（亦可用 If-Match 头）")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: int = Field(description="新团队ID")
    doctor_id: int = Field(description="新团队的责任医生")
    reason: str = Field(description="转签原因")
    effective_date: date | None = Field(None, description="生效日期，默认今天")
    consent_date: date | None = None
    consent_method: str | None = None
    consent_witness: str | None = None
    version: int | None = None


class TerminateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description="resident_request | moved_out | deceased | team_dissolved | other")
    note: str | None = Field(None, description="说明（原因为 other 时必填）")
    date: _dt.date | None = Field(None, description="最后有效日，默认今天")
    version: int | None = None


class PackageOut(BaseModel):
    code: str
    name: str
    price: float
    personal: float


class ServiceOut(BaseModel):
    service: str
    name: str
    promised: int
    expected: int
    delivered: int
    overdue: int


class FulfilmentOut(BaseModel):
    promised: int
    expected: int
    delivered: int
    rate: float | None
    signed_not_served: bool = Field(description="签而不约：承诺服务已逾期且无任何服务记录")
    services: list[ServiceOut]


class ContractOut(BaseModel):
    id: int
    resident_id: int
    resident_name: str
    id_number_masked: str | None
    village_code: str
    team_id: int
    team_name: str | None
    doctor_id: int
    doctor_name: str | None
    packages: list[PackageOut]
    start_date: date
    end_date: date
    ended_on: date | None
    status: str = Field(description="存储状态 active | renewed | transferred | terminated | expired")
    status_as_of: str = Field(description="按今天计算的状态（过期未处理的 active 显示为 expired）")
    consent_date: date
    consent_method: str
    consent_witness: str | None
    fee: float = Field(description="个人自付费用（元）")
    previous_id: int | None
    end_reason: str | None
    end_note: str | None
    key_populations: list[str]
    fulfilment: FulfilmentOut | None
    version: int


def contract_out(v) -> ContractOut:
    c, r = v.contract, v.resident
    cat = rules.catalogue_version(c.catalogue_version)
    f = v.fulfilment
    return ContractOut(
        id=c.id, resident_id=r.id, resident_name=r.name, id_number_masked=mask_id_number(r.id_number),
        village_code=r.village_code, team_id=c.team_id, team_name=v.team.name if v.team else None,
        doctor_id=c.doctor_id, doctor_name=v.doctor.name if v.doctor else None,
        packages=[PackageOut(code=p.package_code, name=cat.packages[p.package_code].name_zh
                             if p.package_code in cat.packages else p.package_code,
                             price=p.price_fen / 100, personal=p.personal_fen / 100) for p in v.packages],
        start_date=c.start_date, end_date=c.end_date, ended_on=c.ended_on, status=c.status, status_as_of=v.status_on,
        consent_date=c.consent_date, consent_method=c.consent_method, consent_witness=c.consent_witness,
        fee=c.fee_fen / 100, previous_id=c.previous_id, end_reason=c.end_reason, end_note=c.end_note,
        key_populations=v.populations,
        fulfilment=FulfilmentOut(promised=f.promised, expected=f.expected, delivered=f.delivered, rate=f.rate,
                                 signed_not_served=f.signed_not_served,
                                 services=[ServiceOut(service=x.service, name=cat.service_types[x.service].name_zh,
                                                      promised=x.promised, expected=x.expected, delivered=x.delivered,
                                                      overdue=x.overdue) for x in f.services]) if f else None,
        version=c.version)


class MembershipOut(BaseModel):
    population: str
    name: str
    since: date | None
    reason_zh: str
    reason_en: str


class KeyPopulationsOut(BaseModel):
    resident_id: int
    as_of: date
    populations: list[MembershipOut]
