"""Immunization and allergy tables.

Vaccines are coded with the national immunization programme's short codes (system ``urn:rhip:cs:vaccine``,
:data:`VACCINES`); CVX (``http://hl7.org/fhir/sid/cvx``) is accepted too, e.g. from imported records.
Statuses and allergy codes follow FHIR R4's required value sets.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rhip.kit.db import Base, one_of
from rhip.records.models import BigId, _Sourced

VACCINE_SYSTEM = "urn:rhip:cs:vaccine"
CVX = "http://hl7.org/fhir/sid/cvx"
VACCINE_SYSTEMS = (VACCINE_SYSTEM, CVX)
# The national immunization programme's vaccines (国家免疫规划疫苗): code → Chinese name. The schedule (which
# dose at which age) is versioned data elsewhere, not part of the code list.
VACCINES = {
    "HepB": "乙肝疫苗", "BCG": "卡介苗", "IPV": "脊灰灭活疫苗", "bOPV": "二价脊灰减毒活疫苗",
    "DTaP": "百白破疫苗", "DT": "白破疫苗", "MMR": "麻腮风疫苗", "JE-L": "乙脑减毒活疫苗",
    "MPSV-A": "A群流脑多糖疫苗", "MPSV-AC": "A群C群流脑多糖疫苗", "HepA-L": "甲肝减毒活疫苗",
}
IMMUNIZATION_STATUSES = ("completed", "entered-in-error", "not-done")
ALLERGY_CLINICAL = ("active", "inactive", "resolved")
ALLERGY_VERIFICATION = ("unconfirmed", "confirmed", "refuted", "entered-in-error")
ALLERGY_TYPES = ("allergy", "intolerance")
ALLERGY_CATEGORIES = ("food", "medication", "environment", "biologic")
ALLERGY_CRITICALITY = ("low", "high", "unable-to-assess")


class Immunization(_Sourced, Base):
    """One vaccine dose given (or recorded as not given). ``org_id`` is the administering unit (接种单位),
    ``practitioner_id`` the vaccinator."""

    __tablename__ = "immunization"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    vaccine_system: Mapped[str] = mapped_column(String(64))  # urn:rhip:cs:vaccine | CVX
    vaccine_code: Mapped[str] = mapped_column(String(16))
    vaccine_display: Mapped[str | None] = mapped_column(String(200))
    dose_number: Mapped[int | None] = mapped_column(Integer)  # 剂次
    occurrence_date: Mapped[date] = mapped_column(Date)
    lot_number: Mapped[str | None] = mapped_column(String(32))  # 疫苗批号
    site: Mapped[str | None] = mapped_column(String(64))  # v3-ActSite code (LA, RD, …) or free text
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_immunization_source"),
        Index("ix_immunization_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_immunization_resident_vaccine_date", "resident_id", "vaccine_code", "occurrence_date"),
        CheckConstraint(one_of("status", IMMUNIZATION_STATUSES), name="status"),
        CheckConstraint("dose_number >= 1", name="dose_number"),
    )


class AllergyIntolerance(_Sourced, Base):
    """An allergy or intolerance (过敏史). ``practitioner_id`` is who recorded it."""

    __tablename__ = "allergy_intolerance"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_system: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    display: Mapped[str | None] = mapped_column(String(200))
    clinical_status: Mapped[str | None] = mapped_column(String(16))
    verification_status: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(16))
    criticality: Mapped[str | None] = mapped_column(String(20))
    recorded_date: Mapped[date | None] = mapped_column(Date)
    reaction: Mapped[str | None] = mapped_column(String(500))  # reaction as text (e.g. 皮疹, 呼吸困难)
    __table_args__ = (
        UniqueConstraint("source_system", "source_id", name="uq_allergy_intolerance_source"),
        Index("ix_allergy_intolerance_updated", "updated_at", "id", "resident_id"),  # type history, _since (0011)
        Index("ix_allergy_intolerance_resident_code", "resident_id", "code"),
        CheckConstraint(one_of("clinical_status", ALLERGY_CLINICAL), name="clinical_status"),
        CheckConstraint(one_of("verification_status", ALLERGY_VERIFICATION), name="verification_status"),
        CheckConstraint(one_of("type", ALLERGY_TYPES), name="type"),
        CheckConstraint(one_of("category", ALLERGY_CATEGORIES), name="category"),
        CheckConstraint(one_of("criticality", ALLERGY_CRITICALITY), name="criticality"),
    )
