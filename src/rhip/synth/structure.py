"""Stage "structure": divisions, organizations, medical communities, practitioners, family-doctor teams."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import Connection

from rhip.kit.dialect import bulk_insert, reset_sequence
from rhip.kit.idcard import make_id_number
from rhip.registry.models import (
    Division, MedicalCommunity, Organization, Practitioner, PractitionerOrg, Team, TeamMember, TeamVillage,
)
from rhip.synth.names import NameSampler
from rhip.synth.layout import CountyLayout
from rhip.synth.profiles import Profile


ORG_COLS = ("id", "code", "name", "kind", "tier", "division_code", "parent_id", "medical_community_id", "phone",
            "active")


def _landline(rng: random.Random) -> str:
    return f"0376-{rng.randrange(2000000, 8999999)}"


def write_structure(conn: Connection, profile: Profile, layout: CountyLayout, rng: random.Random) -> int:
    """Insert the structure; returns the number of rows written."""
    c12 = layout.county_code12
    rows = 0
    divisions = [(c12, profile.county_name, "county", "county", None)]
    divisions += [(code, name, "township", kind, c12) for code, name, kind in layout.townships]
    divisions += [(v.code, v.name, "village", v.kind, v.code[:9] + "000") for v in layout.villages]
    rows += bulk_insert(conn, Division.__table__, ("code", "name", "level", "kind", "parent_code"), divisions)

    short = profile.county_name.removesuffix("县")
    mcs = [(1, f"{short}县人民医院医共体", 1), (2, f"{short}县中医院医共体", 2)]
    rows += bulk_insert(conn, MedicalCommunity.__table__, ("id", "name", "lead_org_id"), mcs)

    orgs: list[tuple] = []
    oid = 0

    def org(code, name, kind, tier, division, parent=None, mc=None) -> int:
        nonlocal oid
        oid += 1
        orgs.append((oid, code, name, kind, tier, division, parent, mc, _landline(rng), True))
        return oid

    county_hospital = org(f"CH{profile.county_code}", f"{profile.county_name}人民医院", "county_hospital", "county", c12, mc=1)
    tcm = org(f"TCM{profile.county_code}", f"{profile.county_name}中医院", "tcm_hospital", "county", c12, mc=2)
    mch = org(f"MCH{profile.county_code}", f"{profile.county_name}妇幼保健计划生育服务中心", "mch_centre", "county", c12, mc=1)
    cdc = org(f"CDC{profile.county_code}", f"{profile.county_name}疾病预防控制中心", "cdc", "public_health", c12)
    sup = org(f"SUP{profile.county_code}", f"{profile.county_name}卫生健康监督所", "supervision", "public_health", c12)
    org(f"HC{profile.county_code}", f"{profile.county_name}卫生健康委员会", "commission", "administration", c12)
    centres: list[int] = []
    community_centre = None
    for ti, (tcode, tname, _kind) in enumerate(layout.townships):
        mc = 1 if ti % 2 == 0 else 2
        centres.append(org(f"TH{tcode[:9]}", f"{tname}卫生院", "township_centre", "township", tcode, county_hospital
                           if mc == 1 else tcm, mc))
        if ti == 0:
            community_centre = org(f"CC{tcode[:9]}", f"{tname}社区卫生服务中心", "community_centre", "township", tcode,
                                   county_hospital, 1)
    for v in layout.villages:
        if v.kind == "village":
            v.clinic_org_id = org(f"VC{v.code}", f"{v.name}卫生室", "village_clinic", "village", v.code,
                                  centres[v.township_index], 1 if v.township_index % 2 == 0 else 2)
    rows += bulk_insert(conn, Organization.__table__, ORG_COLS, orgs)
    reset_sequence(conn, Organization.__table__)

    # Practitioners, in plausible numbers for the population (≈ 2.6 physicians and 3 nurses per 1,000 people).
    scale = profile.usual_residents / 280_000
    names = NameSampler(rng)
    practitioners: list[tuple] = []
    links: list[tuple] = []
    pid = 0
    seq_used: set[tuple] = set()

    def person(org_id: int, profession: str, qualification: str | None, dept: str | None, age_lo=24, age_hi=60) -> int:
        nonlocal pid
        pid += 1
        sex = "2" if profession == "nurse" and rng.random() < 0.95 else rng.choice("12")
        birth = date(profile.as_of_year - rng.randint(age_lo, age_hi), rng.randint(1, 12), rng.randint(1, 28))
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if sex == "1" else 0)
            if (birth, seq) not in seq_used:
                seq_used.add((birth, seq))
                break
        idn = make_id_number(profile.county_code, birth, seq)
        practitioners.append((pid, names.full_name(sex, birth.year), idn, sex, birth,
                              f"1{rng.choice('35789')}{rng.randrange(10**9):09d}", profession, qualification, True))
        links.append((pid, org_id, True, dept))
        return pid

    def staff(org_id: int, n: int, profession: str, qualification: str, dept: str | None = None) -> list[int]:
        return [person(org_id, profession, qualification, dept) for _ in range(max(1, round(n * scale)))]

    hospital_depts = ["内科", "外科", "妇产科", "儿科", "急诊科", "心血管内科", "内分泌科", "神经内科", "骨科", "感染科"]
    specialists: list[int] = []
    for o, docs, nurses in ((county_hospital, 260, 320), (tcm, 110, 130), (mch, 45, 60)):
        for i in range(max(1, round(docs * scale))):
            p = person(o, "physician", "licensed_physician", hospital_depts[i % len(hospital_depts)])
            if o == county_hospital and hospital_depts[i % len(hospital_depts)] in ("内科", "心血管内科", "内分泌科"):
                specialists.append(p)
        staff(o, nurses, "nurse", "registered_nurse", "护理部")
        staff(o, docs // 8, "technician", "technician_cert", "检验科")
        staff(o, docs // 10, "pharmacist", "licensed_pharmacist", "药剂科")
    staff(cdc, 45, "public_health", "licensed_physician", "疾病控制科")
    staff(sup, 22, "inspector", "inspector_cert", "监督科")
    township_staff: list[dict[str, list[int]]] = []
    for ti, centre in enumerate(centres):
        pop_share = 1 / len(centres)
        n_doc = max(2, round(profile.usual_residents * pop_share / 2_600))
        township_staff.append({
            "gp": [person(centre, "physician" if k % 3 else "assistant_physician",
                          "licensed_physician" if k % 3 else "licensed_assistant", "全科") for k in range(n_doc)],
            "nurse": staff(centre, 8, "nurse", "registered_nurse", "护理"),
            "public_health": staff(centre, 3, "public_health", "licensed_assistant", "公共卫生科"),
        })
        staff(centre, 2, "pharmacist", "licensed_pharmacist", "药房")
    if community_centre is not None:
        staff(community_centre, 6, "physician", "licensed_physician", "全科")
        staff(community_centre, 5, "nurse", "registered_nurse", "护理")
    village_doctors: dict[str, list[int]] = {}
    for v in layout.villages:
        if v.clinic_org_id is None:
            continue
        n = 1 if rng.random() < 0.55 else 2
        village_doctors[v.code] = [person(v.clinic_org_id, "village_doctor", "rural_doctor_cert", None, 30, 68)
                                   for _ in range(n)]
    rows += bulk_insert(conn, Practitioner.__table__, ("id", "name", "id_number", "sex", "birth_date", "phone",
                                                        "profession", "qualification", "active"), practitioners)
    rows += bulk_insert(conn, PractitionerOrg.__table__, ("practitioner_id", "org_id", "is_primary", "department"),
                        links)
    reset_sequence(conn, Practitioner.__table__)

    # One family-doctor team per township ("1+1+1+X": township GP + village doctor + nurse/public health + county
    # specialist), serving all the township's villages and communities.
    teams, members, served = [], [], []
    for ti, (tcode, tname, _kind) in enumerate(layout.townships):
        tid = ti + 1
        teams.append((tid, f"FDT{tcode[:9]}01", f"{tname}家庭医生团队", centres[ti], True))
        st = township_staff[ti]
        members.append((tid, st["gp"][0], "leader"))
        members += [(tid, p, "gp") for p in st["gp"][1:3]]
        members.append((tid, st["nurse"][0], "nurse"))
        members.append((tid, st["public_health"][0], "public_health"))
        if specialists:
            members.append((tid, specialists[ti % len(specialists)], "specialist"))
        for v in layout.villages:
            if v.township_index == ti:
                served.append((tid, v.code))
                members += [(tid, p, "village_doctor") for p in village_doctors.get(v.code, [])]
    rows += bulk_insert(conn, Team.__table__, ("id", "code", "name", "org_id", "active"), teams)
    rows += bulk_insert(conn, TeamMember.__table__, ("team_id", "practitioner_id", "role"), members)
    rows += bulk_insert(conn, TeamVillage.__table__, ("team_id", "division_code"), served)
    reset_sequence(conn, Team.__table__)
    reset_sequence(conn, MedicalCommunity.__table__)
    return rows
