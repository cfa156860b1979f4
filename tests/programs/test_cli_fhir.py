"""`rhip programs due` as a real process, and the programmes' FHIR resources, on both engines."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from rhip.programs.models import Enrollment
from rhip.registry.models import Team
from tests.cli.test_cli import rhip
from tests.factories import V11, auth
from tests.programs.support import post_followup


def test_cli_due_json_and_csv(db, enrolled, tmp_path):
    c = enrolled
    proc = rhip("programs", "due", "--org", V11, "--as-of", "2026-05-20", "--format", "json", url=db.url, tmp=tmp_path)
    rows = json.loads(proc.stdout)
    assert rows and {"resident_id", "program", "visit_kind", "due_date", "window_end", "days_overdue"} <= set(rows[0])
    assert rows[0]["status"] == "overdue" and rows[0]["days_overdue"] == max(r["days_overdue"] for r in rows)
    assert {r["resident_id"] for r in rows} <= {c.residents[k] for k in ("zhang", "wang", "child")}
    proc = rhip("programs", "due", "--org", "411530101", "--as-of", "2026-05-20", "--format", "csv", url=db.url,
                tmp=tmp_path)
    table = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(table) > len(rows) and table[0]["visit_kind"] and "window_end" in table[0]
    bad = rhip("programs", "due", "--org", "nowhere", url=db.url, tmp=tmp_path, check=False)
    assert bad.returncode == 1 and "nowhere" in bad.stderr


def test_cli_refresh_is_idempotent(db, enrolled, tmp_path):
    first = rhip("programs", "refresh", "--as-of", "2026-03-01", url=db.url, tmp=tmp_path)
    assert "created 0" in first.stderr and "facts_2026" in first.stderr


def test_episode_of_care_and_care_plan(client, db, enrolled):
    c = enrolled
    post_followup(client, c, "zhang", "hypertension", "2026-03-10", {"sbp": 150, "dbp": 85})
    with db.read_only() as s:
        e = s.scalar(select(Enrollment).where(Enrollment.resident_id == c.residents["zhang"],
                                              Enrollment.program == "hypertension"))
        team = s.scalar(select(Team.id))
    h = auth(c, "village_doctor")
    ep = client.get(f"/fhir/EpisodeOfCare/{e.id}", headers=h).json()
    assert ep["status"] == "active" and ep["type"][0]["coding"][0]["code"] == "hypertension"
    assert ep["patient"] == {"reference": f"Patient/{c.residents['zhang']}"}
    assert ep["team"] == [{"reference": f"CareTeam/{team}"}] and ep["diagnosis"][0]["condition"]["reference"]
    plan = client.get(f"/fhir/CarePlan/{e.id}", headers=h).json()
    acts = {a["detail"]["code"]["coding"][0]["code"]: a for a in plan["activity"]}
    q1 = acts["hypertension.2026q1"]
    assert q1["detail"]["status"] == "completed" and q1["outcomeReference"][0]["reference"].startswith("Encounter/")
    assert acts["hypertension.recheck"]["detail"]["scheduledPeriod"] == {"start": "2026-03-11", "end": "2026-03-24"}
    by_team = client.get(f"/fhir/CarePlan?care-team=CareTeam/{team}&category=hypertension", headers=h).json()
    assert [x["resource"]["id"] for x in by_team["entry"]] == [str(e.id)]
    by_patient = client.get(f"/fhir/EpisodeOfCare?patient=Patient/{c.residents['zhang']}&date=ge2026-01-01",
                            headers=h).json()
    assert {x["resource"]["type"][0]["coding"][0]["code"] for x in by_patient["entry"]} == {"hypertension", "elderly"}
    assert client.get("/fhir/EpisodeOfCare?status=finished", headers=h).json()["total"] == 0
    assert client.get("/fhir/CarePlan?bogus=1", headers=h).status_code == 400
    outsider = client.get(f"/fhir/CarePlan/{e.id}", headers=auth(c, "township"))
    assert outsider.status_code == 404
    caps = client.get("/fhir/metadata").json()["rest"][0]["resource"]
    listed = {r["type"]: {p["name"] for p in r["searchParam"]} for r in caps}
    assert {"patient", "care-team", "date"} <= listed["EpisodeOfCare"] and "activity-date" in listed["CarePlan"]
