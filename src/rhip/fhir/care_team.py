"""FHIR CareTeam over the registry's family-doctor teams (家庭医生团队), read and search.

A team → CareTeam: identifier (team code), status (active | inactive), category (LOINC LA28865-6,
longitudinal care-coordination focused care team), name, participant (each member: role from the
registry's team roles, member → Practitioner), managingOrganization (the team's organization), and a note
naming the villages it serves. Search: ``_id``, ``participant`` (a Practitioner), ``patient`` (the teams a
resident has an active contract with — a read of the resident's data: scope-checked and audited).

Security: ``registry.read`` for teams; ``patient`` also needs ``contract.read`` and the resident in scope.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rhip.contracts.models import Contract
from rhip.contracts.service import _resident
from rhip.fhir.errors import FhirError, Issue, not_found
from rhip.fhir.registry_resources import _int_ids, _page, _reference_ids
from rhip.fhir.search import count_and_page, searchset
from rhip.registry import repository as repo
from rhip.registry.models import Team, TeamMember
from rhip.registry.rules import TEAM_ROLES
from rhip.security.service import Principal, audit

TEAM_CODE_SYSTEM = "urn:rhip:sid:team-code"
TEAM_ROLE_SYSTEM = "urn:rhip:cs:team-role"
LOINC = "http://loinc.org"


class CareTeamMapper:
    resource_type = "CareTeam"
    search_params = {"_id": "token", "participant": "reference", "patient": "reference"}

    @staticmethod
    def to_fhir(t: Team, members: list, villages: list[str], org_name: str | None) -> dict:
        r: dict = {"resourceType": "CareTeam", "id": str(t.id),
                   "identifier": [{"system": TEAM_CODE_SYSTEM, "value": t.code}],
                   "status": "active" if t.active else "inactive",
                   "category": [{"coding": [{"system": LOINC, "code": "LA28865-6",
                                             "display": "Longitudinal care-coordination focused care team"}],
                                 "text": "家庭医生团队"}],
                   "name": t.name}
        participants = []
        for tm, p in members:
            label = TEAM_ROLES.get(tm.role)
            coding = {"system": TEAM_ROLE_SYSTEM, "code": tm.role}
            if label:
                coding["display"] = label[0]
            participants.append({"role": [{"coding": [coding], **({"text": label[0]} if label else {})}],
                                 "member": {"reference": f"Practitioner/{p.id}", "display": p.name}})
        if participants:
            r["participant"] = participants
        org = {"reference": f"Organization/{t.org_id}"}
        if org_name:
            org["display"] = org_name
        r["managingOrganization"] = [org]
        if villages:
            r["note"] = [{"text": "服务村（社区）：" + "、".join(villages)}]
        return r


CAPABILITY = [{"type": "CareTeam", "interaction": [{"code": "read"}, {"code": "search-type"}],
               "searchParam": [{"name": n, "type": t} for n, t in CareTeamMapper.search_params.items()]}]


def _out(s: Session, teams: list[Team]) -> list[dict]:
    ids = [t.id for t in teams]
    members = repo.team_members(s, ids)
    villages = repo.team_villages(s, ids)
    names = repo.division_names(s, {v for vs in villages.values() for v in vs})
    orgs = {o: repo.get_organization(s, o) for o in {t.org_id for t in teams}}
    return [CareTeamMapper.to_fhir(t, members.get(t.id, []), [names.get(v, v) for v in villages.get(t.id, [])],
                                   orgs[t.org_id].name if orgs.get(t.org_id) else None) for t in teams]


def read_care_team(s: Session, who: Principal, rid: str) -> dict:
    who.require("registry.read")
    t = repo.get_team(s, int(rid)) if rid.isdigit() else None
    if t is None:
        raise not_found("CareTeam", rid)
    return _out(s, [t])[0]


def search_care_teams(s: Session, who: Principal, params: dict[str, list[str]], base: str) -> dict:
    who.require("registry.read")
    _check_params_care(params)
    count, page = count_and_page(params)
    c = []
    for name, values in params.items():
        for value in values:
            if name == "_id":
                c.append(Team.id.in_(_int_ids("_id", value, "a CareTeam id")))
            elif name == "participant":
                pids = [int(r) for r in _reference_ids(name, value, "Practitioner")]
                c.append(Team.id.in_(select(TeamMember.team_id).where(TeamMember.practitioner_id.in_(pids))))
            elif name == "patient":
                refs = _reference_ids(name, value, "Patient")
                if len(refs) != 1:
                    raise FhirError(400, [Issue("value", "patient takes one Patient reference", name)])
                who.require("contract.read")
                r = _resident(s, who, int(refs[0]), "careteam.search")
                audit(s, who, "careteam.search", resident_ids=[r.id], detail={"patient": r.id})
                c.append(Team.id.in_(select(Contract.team_id).where(Contract.resident_id == r.id,
                                                                      Contract.status == "active")))
    rows, total = _page(s, Team, [Team.id], c, count, page)
    return searchset("CareTeam", params, base, _out(s, rows), total, count, page)


def _check_params_care(params: dict[str, list[str]]) -> None:
    from rhip.fhir.registry_resources import CONTROL

    unknown = sorted(k for k in params if k not in CareTeamMapper.search_params and k not in CONTROL)
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"search parameter {k!r} is not supported for CareTeam "
                                                     f"(supported: {', '.join(CareTeamMapper.search_params)})", k)
                              for k in unknown])
