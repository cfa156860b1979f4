"""rhip fhir export / import: NDJSON per type, rejected resources reported with their reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select

from rhip.fhir.bulk import export, import_files
from rhip.records.models import Encounter, Observation
from rhip.registry.models import Resident
from rhip.security.service import system_principal
from tests.factories import auth
from tests.fhir.test_records import bp, encounter

FHIR = "application/fhir+json"


def _seed(client, county):
    h = {**auth(county, "admin"), "Content-Type": FHIR}
    enc = client.post("/fhir/Encounter", json=encounter(county), headers=h).json()
    for i in range(3):
        assert client.post("/fhir/Observation", json=bp(county, enc["id"], 140 + i, 90, f"BULK{i}"),
                           headers=h).status_code == 201


def _count(db, model):
    with db.read_only() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_export_county_and_patient(client, county, db, tmp_path):
    _seed(client, county)
    counts = export(db, system_principal("test"), tmp_path / "all")
    assert counts == {"Patient": 5, "Encounter": 1, "Condition": 0, "Observation": 3, "Immunization": 0,
                      "AllergyIntolerance": 0, "MedicationRequest": 0, "MedicationStatement": 0,
                      "DiagnosticReport": 0, "DocumentReference": 0}
    lines = (tmp_path / "all" / "Observation.ndjson").read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(x)["resourceType"] == "Observation" for x in lines)
    one = export(db, system_principal("test"), tmp_path / "one", patient_id=county.residents["li"])
    assert one == {"Patient": 1, "Encounter": 0, "Condition": 0, "Observation": 0, "Immunization": 0,
                   "AllergyIntolerance": 0, "MedicationRequest": 0, "MedicationStatement": 0,
                   "DiagnosticReport": 0, "DocumentReference": 0}


def test_import_remaps_references_reports_rejects_and_does_not_duplicate(client, county, db, tmp_path):
    _seed(client, county)
    out = tmp_path / "x"
    export(db, system_principal("test"), out)
    obs = (out / "Observation.ndjson").read_text().splitlines()
    bad = json.loads(obs[0])
    bad["identifier"][0]["value"] = "BULK-NEW"
    bad["component"][0]["valueQuantity"]["value"] = 400
    extra = out / "extra.ndjson"
    extra.write_text("\n".join([json.dumps(bad), "{not json", json.dumps({"resourceType": "Medication", "id": "m1"})])
                     + "\n")
    files = [out / f"{t}.ndjson" for t in ("Observation", "Encounter", "Patient")] + [extra]  # any order
    before = (_count(db, Resident), _count(db, Encounter), _count(db, Observation))
    report = import_files(db, system_principal("test"), files)
    assert report.matched == {"Patient": 4}  # the child has no ID number: registered again (the MPI's work)
    assert report.created == {"Patient": 1}
    assert report.updated == {"Encounter": 1, "Observation": 3}
    reasons = {(r["file"], r["line"]): r["reason"] for r in report.rejected}
    assert len(reasons) == 3
    assert "8480-6 value 400" in reasons[("extra.ndjson", 1)]
    assert "malformed JSON" in reasons[("extra.ndjson", 2)]
    assert "'Medication' is not imported" in reasons[("extra.ndjson", 3)]
    assert (_count(db, Resident), _count(db, Encounter), _count(db, Observation)) == \
        (before[0] + 1, before[1], before[2])


def test_cli_export_then_import_into_an_empty_county(db_url, tmp_path):
    env = {**os.environ, "RHIP_DATABASE_URL": db_url, "RHIP_DATA_DIR": str(tmp_path)}

    def rhip(*args):
        return subprocess.run([sys.executable, "-m", "rhip.cli", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    assert rhip("synth", "--profile", "tiny", "--seed", "5").returncode == 0
    exp = rhip("fhir", "export", "--output", str(tmp_path / "out"))
    assert exp.returncode == 0, exp.stderr
    n_patients = len((tmp_path / "out" / "Patient.ndjson").read_text().splitlines())
    assert n_patients > 1000
    again = rhip("fhir", "import", str(tmp_path / "out" / "Patient.ndjson"), "--rejects", str(tmp_path / "rej.jsonl"))
    # Re-importing the county's own export: Patients with an ID number are matched, not duplicated; those
    # without one cannot be matched by the import and are registered again; a number held by two
    # registrations (a synthetic duplicate) makes the conditional create ambiguous and is refused with its
    # reason. The MPI issue resolves the last two. Every exported Patient is accounted for.
    import re

    def number(label):
        m = re.search(label + r": Patient ([\d,]+)", again.stdout)
        return int(m.group(1).replace(",", "")) if m else 0

    matched, created = number("matched"), number("created")
    rejected = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()] \
        if (tmp_path / "rej.jsonl").exists() else []
    assert matched > 0.8 * n_patients
    assert matched + created + len(rejected) == n_patients, again.stdout
    assert all("If-None-Exist matched" in r["reason"] or "already registered" in r["reason"] for r in rejected)
    assert again.returncode == (1 if rejected else 0)
