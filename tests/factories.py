"""Plain factory functions: a small fixed county for API, security and console tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from rhip.kit.db import Database
from rhip.kit.idcard import make_id_number
from rhip.registry.models import (
    Division, Household, MedicalCommunity, Organization, Practitioner, PractitionerOrg, Resident, Team, TeamMember,
    TeamVillage,
)
from rhip.registry.rules import record_number
from rhip.security import service as sec

COUNTY = "411530000000"
T1, T2 = "411530101000", "411530201000"
V11, V12, V21 = "411530101201", "411530101202", "411530201201"
PASSWORD = "Test-Passw0rd!"


@dataclass
class County:
    county: str = COUNTY
    townships: tuple = (T1, T2)
    villages: tuple = (V11, V12, V21)
    org: dict = field(default_factory=dict)
    residents: dict = field(default_factory=dict)  # key → id
    tokens: dict = field(default_factory=dict)  # role key → bearer token
    users: dict = field(default_factory=dict)


def resident_row(name: str, sex: str, birth: date, village: str, seq: int, *, id_seq: int | None = None,
                 phone: str | None = None, household_id: int | None = None, relation: str | None = None) -> Resident:
    now = datetime(2026, 1, 1)
    idn = make_id_number("411530", birth, id_seq) if id_seq is not None else None
    return Resident(record_no=record_number(village, seq), name=name, sex=sex, birth_date=birth, id_number=idn,
                    id_number_status="valid" if idn else "missing", ethnicity="01", phone=phone,
                    household_id=household_id, relation_to_head=relation, village_code=village, hukou_local=True,
                    usual_local=True, status="alive", poverty_registered=False, fp_special_family=False,
                    source="test", version=1, created_at=now, updated_at=now)


def build_county(db: Database) -> County:
    c = County()
    with db.unit_of_work() as s:
        s.add(Division(code=COUNTY, name="青岚县", level="county", kind="county"))
        s.flush()
        s.add_all([Division(code=T1, name="城关镇", level="township", kind="town", parent_code=COUNTY),
                   Division(code=T2, name="白塔乡", level="township", kind="township", parent_code=COUNTY)])
        s.flush()
        s.add_all([Division(code=V11, name="王庄村", level="village", kind="village", parent_code=T1),
                   Division(code=V12, name="李家湾村", level="village", kind="village", parent_code=T1),
                   Division(code=V21, name="红星村", level="village", kind="village", parent_code=T2)])
        s.flush()
        mc = MedicalCommunity(name="青岚县医共体")
        s.add(mc)
        s.flush()
        orgs = {
            "county_hospital": Organization(code="CH411530", name="青岚县人民医院", kind="county_hospital", tier="county",
                                            division_code=COUNTY, medical_community_id=mc.id),
            "thc1": Organization(code="TH411530101", name="城关镇卫生院", kind="township_centre", tier="township",
                                 division_code=T1, medical_community_id=mc.id),
            "thc2": Organization(code="TH411530201", name="白塔乡卫生院", kind="township_centre", tier="township",
                                 division_code=T2, medical_community_id=mc.id),
            "vc11": Organization(code="VC411530101201", name="王庄村卫生室", kind="village_clinic", tier="village",
                                 division_code=V11),
        }
        s.add_all(orgs.values())
        s.flush()
        mc.lead_org_id = orgs["county_hospital"].id
        c.org = {k: o.id for k, o in orgs.items()}
        doc = Practitioner(name="赵村医", sex="1", birth_date=date(1975, 5, 1), profession="village_doctor",
                           qualification="rural_doctor_cert", id_number=make_id_number("411530", date(1975, 5, 1), 11))
        gp = Practitioner(name="钱全科", sex="2", birth_date=date(1985, 6, 2), profession="physician",
                          qualification="licensed_physician")
        s.add_all([doc, gp])
        s.flush()
        s.add_all([PractitionerOrg(practitioner_id=doc.id, org_id=orgs["vc11"].id, is_primary=True),
                   PractitionerOrg(practitioner_id=gp.id, org_id=orgs["thc1"].id, is_primary=True)])
        team = Team(code="T01", name="城关镇家庭医生一队", org_id=orgs["thc1"].id)
        s.add(team)
        s.flush()
        s.add_all([TeamMember(team_id=team.id, practitioner_id=gp.id, role="leader"),
                   TeamMember(team_id=team.id, practitioner_id=doc.id, role="village_doctor"),
                   TeamVillage(team_id=team.id, division_code=V11)])
        hh = Household(code=f"{V11}00001", village_code=V11, address="王庄村1组1号", created_at=datetime(2026, 1, 1))
        s.add(hh)
        s.flush()
        people = {
            "zhang": resident_row("张丽", "2", date(1958, 3, 14), V11, 1, id_seq=22, phone="13812345678",
                                  household_id=hh.id, relation="02"),
            "wang": resident_row("王建国", "1", date(1955, 8, 1), V11, 2, id_seq=31, household_id=hh.id, relation="10"),
            "child": resident_row("王小宇", "1", date(2022, 2, 3), V11, 3, household_id=hh.id, relation="40"),
            "li": resident_row("李秀英", "2", date(1949, 12, 31), V12, 1, id_seq=42, phone="13900001111"),
            "out": resident_row("刘强", "1", date(1980, 7, 7), V21, 1, id_seq=51, phone="13700002222"),
        }
        s.add_all(people.values())
        s.flush()
        hh.head_resident_id = people["zhang"].id
        c.residents = {k: r.id for k, r in people.items()}
        specs = {
            "admin": dict(role="administrator"),
            "manager": dict(role="commission_manager", division_codes=[COUNTY]),
            "village_doctor": dict(role="village_doctor", practitioner_id=doc.id, org_id=orgs["vc11"].id),
            "township": dict(role="township_staff", org_ids=[orgs["thc2"].id]),
            "supervision": dict(role="supervision_staff", division_codes=[COUNTY]),
        }
        for key, kw in specs.items():
            u = sec.create_user(s, username=key, display_name=key, password=PASSWORD, **kw)
            c.users[key] = u.id
            c.tokens[key], _ = sec.create_token(s, key, "test")
    return c


def auth(c: County, key: str) -> dict:
    return {"Authorization": f"Bearer {c.tokens[key]}"}
