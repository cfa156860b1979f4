"""Registry tables. Codes follow the national standards named in each column's comment."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String,
)
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Division(Base):
    """Administrative division, GB/T 2260 + statistical extension: 12 digits (county → township → village)."""

    __tablename__ = "division"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(12))  # county | township | village
    kind: Mapped[str | None] = mapped_column(String(16))  # town 镇 / township 乡 / street 街道; village 村 / community 社区
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("division.code"), index=True)
    __table_args__ = (CheckConstraint(one_of("level", ("county", "township", "village")), name="level"),)


class MedicalCommunity(Base):
    """医共体 / 医疗集团: one county hospital leading township centres."""

    __tablename__ = "medical_community"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # The leading county hospital. No FK: organization.medical_community_id already points here (no cycle).
    lead_org_id: Mapped[int | None] = mapped_column(Integer)


class Organization(Base):
    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # see rules.ORG_KINDS
    tier: Mapped[str] = mapped_column(String(16))  # county | township | village | public_health | administration
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    medical_community_id: Mapped[int | None] = mapped_column(ForeignKey("medical_community.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Practitioner(Base):
    __tablename__ = "practitioner"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    sex: Mapped[str] = mapped_column(String(1))  # GB/T 2261.1
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    profession: Mapped[str] = mapped_column(String(32))  # see rules.PROFESSIONS
    qualification: Mapped[str | None] = mapped_column(String(32))  # see rules.QUALIFICATIONS
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PractitionerOrg(Base):
    __tablename__ = "practitioner_org"
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True, index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)
    department: Mapped[str | None] = mapped_column(String(64))


class Team(Base):
    """家庭医生团队."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    org_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TeamMember(Base):
    __tablename__ = "team_member"
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioner.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32))  # see rules.TEAM_ROLES


class TeamVillage(Base):
    __tablename__ = "team_village"
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), primary_key=True, index=True)


class Household(Base):
    __tablename__ = "household"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(24))  # 户号: village code + 5-digit sequence (unique index below)
    village_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    head_resident_id: Mapped[int | None] = mapped_column(BigId)  # no FK: head and members are written together
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Uniqueness as named indexes (not table constraints) so that bulk loads can build them once at the end.
    __table_args__ = (Index("uq_household_code", "code", unique=True),)


class Resident(Base):
    """One registration of a person (居民). Identity resolution across registrations is the MPI's job.

    ``id_number`` holds only a *valid* 18-character number (15-digit legacy numbers are stored upgraded,
    with the original in ``id_number_raw`` and ``id_number_status='legacy15'``). A number that fails the
    GB 11643 check is never stored as if valid: it stays in ``id_number_raw`` with status ``invalid``.
    """

    __tablename__ = "resident"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_no: Mapped[str] = mapped_column(String(17))  # 健康档案编号: 12-digit village + 5-digit seq (unique)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(String(18))
    id_number_raw: Mapped[str | None] = mapped_column(String(32))
    id_number_status: Mapped[str] = mapped_column(String(10))  # valid | legacy15 | invalid | missing
    sex: Mapped[str] = mapped_column(String(1))  # GB/T 2261.1: 0 unknown, 1 male, 2 female, 9 unspecified
    birth_date: Mapped[date] = mapped_column(Date)
    ethnicity: Mapped[str] = mapped_column(String(2), default="01")  # GB/T 3304, 01 = 汉族
    phone: Mapped[str | None] = mapped_column(String(20))
    phone2: Mapped[str | None] = mapped_column(String(20))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    relation_to_head: Mapped[str | None] = mapped_column(String(2))  # GB/T 4761 家庭关系代码 (rules.RELATIONS)
    village_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    address: Mapped[str | None] = mapped_column(String(200))
    hukou_local: Mapped[bool] = mapped_column(Boolean, default=True)  # 户籍在本县
    usual_local: Mapped[bool] = mapped_column(Boolean, default=True)  # 常住本县 (≥ 6 months a year)
    status: Mapped[str] = mapped_column(String(10), default="alive")  # alive | deceased | moved_out
    status_date: Mapped[date | None] = mapped_column(Date)  # date of death or of moving out
    disability: Mapped[str | None] = mapped_column(String(1))  # GB/T 26341 category 1–7
    disability_grade: Mapped[int | None] = mapped_column(SmallInteger)  # 1–4
    poverty_registered: Mapped[bool] = mapped_column(Boolean, default=False)  # 建档立卡贫困人口
    fp_special_family: Mapped[bool] = mapped_column(Boolean, default=False)  # 计生特殊家庭
    source: Mapped[str] = mapped_column(String(32), default="console")  # console | api | synth | import
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("uq_resident_record_no", "record_no", unique=True),
        Index("ix_resident_id_number", "id_number"),
        Index("ix_resident_id_number_raw", "id_number_raw"),
        Index("ix_resident_name", "name"),
        Index("ix_resident_phone", "phone"),
        Index("ix_resident_phone2", "phone2"),
        Index("ix_resident_household_id", "household_id"),
        Index("ix_resident_village_code_name", "village_code", "name"),
        Index("ix_resident_updated", "updated_at", "id"),  # Patient type history, _since (0011)
        CheckConstraint(one_of("status", ("alive", "deceased", "moved_out")), name="status"),
        CheckConstraint(one_of("sex", ("0", "1", "2", "9")), name="sex"),
        CheckConstraint(one_of("id_number_status", ("valid", "legacy15", "invalid", "missing")),
                        name="id_number_status"),
    )


class VillageCounter(Base):
    """Next numbers per village: health-record sequence (5 digits after the 12-digit village code) and
    household number. Taken under a row lock, so concurrent registrations never share a number."""

    __tablename__ = "village_counter"
    village_code: Mapped[str] = mapped_column(ForeignKey("division.code"), primary_key=True)
    next_record: Mapped[int] = mapped_column(Integer, default=1)
    next_household: Mapped[int] = mapped_column(Integer, default=1)
