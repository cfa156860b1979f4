"""FHIR DiagnosticReport and DocumentReference over the shared health record."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from rhip.fhir.bulk import export
from rhip.fhir.validation import validate
from rhip.records.models_reports import (
    MAX_ATTACHMENT_BYTES,
    DiagnosticReport,
    DiagnosticReportResult,
    DocumentReference,
)
from rhip.security.models import AuditEvent
from rhip.security.service import system_principal
from tests.fhir.test_records import bp, encounter
from tests.fhir.support import fh

FHIR = "application/fhir+json"
LOINC = "http://loinc.org"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
LIS = "urn:rhip:sid:lis:CH411530:report"
EMR = "urn:rhip:sid:emr:CH411530:document"
SUMMARY = "出院小结\n患者张丽，因高血压3级入院，经治疗好转出院。\n出院医嘱：氨氯地平5mg qd。\n".encode()


def _post(client, county, rtype, body, status=201):
    r = client.post(f"/fhir/{rtype}", json=body, headers=fh(county))
    assert r.status_code == status, r.text
    return r.json()


def _obs(client, county, source, rid_key="zhang"):
    return _post(client, county, "Observation", bp(county, None, source=source, rid_key=rid_key))["id"]


def report(county, results, source="LAB0001", rid_key="zhang", **over):
    d = {"resourceType": "DiagnosticReport", "identifier": [{"system": LIS, "value": source}], "status": "final",
         "category": [{"coding": [{"system": V2_0074, "code": "LAB"}]}],
         "code": {"coding": [{"system": LOINC, "code": "24331-1", "display": "Lipid panel"}]},
         "subject": {"reference": f"Patient/{county.residents[rid_key]}"},
         "effectiveDateTime": "2026-03-02T08:10:00+08:00", "issued": "2026-03-02T11:30:00+08:00",
         "performer": [{"reference": f"Organization/{county.org['county_hospital']}"}],
         "result": [{"reference": f"Observation/{oid}"} for oid in results],
         "conclusion": "血脂偏高，建议复查", "conclusionCode": [{"coding": [{"system": "http://snomed.info/sct",
                                                                      "code": "55822004",
                                                                      "display": "Hyperlipidemia"}]}]}
    d.update(over)
    return d


def document(county, data=SUMMARY, source="DS0001", rid_key="zhang", enc_id=None, **over):
    att = {"contentType": "text/plain; charset=utf-8", "language": "zh-CN", "title": "出院小结",
           "creation": "2026-03-09T16:00:00+08:00"}
    if data is not None:
        att["data"] = base64.b64encode(data).decode()
    d = {"resourceType": "DocumentReference", "identifier": [{"system": EMR, "value": source}], "status": "current",
         "docStatus": "final",
         "type": {"coding": [{"system": LOINC, "code": "18842-5", "display": "Discharge summary"}]},
         "category": [{"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                                   "code": "clinical-note"}]}],
         "subject": {"reference": f"Patient/{county.residents[rid_key]}"}, "date": "2026-03-09T17:00:00+08:00",
         "author": [{"reference": "Practitioner/2"}], "content": [{"attachment": att}]}
    if enc_id:
        d["context"] = {"encounter": [{"reference": f"Encounter/{enc_id}"}]}
    d.update(over)
    return d


def test_diagnostic_report_round_trip_and_stored_rows(client, county, db):
    enc = _post(client, county, "Encounter", encounter(county))["id"]
    o1, o2 = _obs(client, county, "O1"), _obs(client, county, "O2")
    out = _post(client, county, "DiagnosticReport", report(county, [o2, o1], encounter={"reference":
                                                                                        f"Encounter/{enc}"}))
    assert out["result"] == [{"reference": f"Observation/{o2}"}, {"reference": f"Observation/{o1}"}]
    assert (out["status"], out["effectiveDateTime"], out["issued"]) == ("final", "2026-03-02T08:10:00+08:00",
                                                                        "2026-03-02T11:30:00+08:00")
    assert out["category"][0]["coding"][0] == {"system": V2_0074, "code": "LAB"}
    assert out["conclusionCode"][0]["coding"][0]["code"] == "55822004" and out["conclusion"] == "血脂偏高，建议复查"
    assert out["performer"] == [{"reference": f"Organization/{county.org['county_hospital']}"}]
    assert out["encounter"] == {"reference": f"Encounter/{enc}"}
    assert validate(out, "DiagnosticReport")["id"] == out["id"]
    with db.read_only() as s:
        row = s.get(DiagnosticReport, int(out["id"]))
        assert (row.resident_id, row.encounter_id, row.org_id, row.category, row.code, row.effective_at,
                row.issued, row.source_system, row.source_id) == \
            (county.residents["zhang"], int(enc), county.org["county_hospital"], "LAB", "24331-1",
             datetime(2026, 3, 2, 8, 10), datetime(2026, 3, 2, 11, 30), LIS, "LAB0001")
        links = s.execute(select(DiagnosticReportResult.seq, DiagnosticReportResult.observation_id)
                          .where(DiagnosticReportResult.report_id == row.id)
                          .order_by(DiagnosticReportResult.seq)).all()
        assert [tuple(x) for x in links] == [(1, int(o2)), (2, int(o1))]
    got = client.get(f"/fhir/DiagnosticReport/{out['id']}", headers=fh(county))
    assert got.status_code == 200 and got.json() == out


def test_re_sending_a_report_updates_it_and_replaces_its_results(client, county, db):
    o1, o2, o3 = (_obs(client, county, f"O{i}") for i in (1, 2, 3))
    first = _post(client, county, "DiagnosticReport", report(county, [o1, o2, o3], status="preliminary"))
    again = _post(client, county, "DiagnosticReport", report(county, [o3]), status=200)
    assert again["id"] == first["id"] and again["meta"]["versionId"] == "2" and again["status"] == "final"
    assert again["result"] == [{"reference": f"Observation/{o3}"}]
    with db.read_only() as s:
        assert len(s.scalars(select(DiagnosticReport.id)).all()) == 1
        assert s.scalars(select(DiagnosticReportResult.observation_id)).all() == [int(o3)]
    third = _post(client, county, "DiagnosticReport", report(county, [o2, o1]), status=200)
    assert [r["reference"] for r in third["result"]] == [f"Observation/{o2}", f"Observation/{o1}"]


def test_search_reports(client, county):
    o1 = _obs(client, county, "O1")
    _post(client, county, "DiagnosticReport", report(county, [o1]))
    _post(client, county, "DiagnosticReport", report(county, [], source="RAD1", effectiveDateTime="2026-04-01",
                                                     issued=None, category=[{"coding": [{"system": V2_0074,
                                                                                         "code": "RAD"}]}],
                                                     code={"coding": [{"system": LOINC, "code": "36643-5"}]}))
    pid = county.residents["zhang"]
    h = fh(county)

    def total(**params):
        r = client.get("/fhir/DiagnosticReport", params=params, headers=h)
        assert r.status_code == 200, r.text
        return r.json()["total"]

    assert total(patient=pid) == 2 and total(patient=pid, category="RAD") == 1
    assert total(code=f"{LOINC}|24331-1") == 1 and total(date="2026-04-01") == 1 and total(status="final") == 2


def test_report_citing_another_patients_observation_is_refused(client, county, db):
    mine, theirs = _obs(client, county, "O1"), _obs(client, county, "O-LI", rid_key="li")
    r = client.post("/fhir/DiagnosticReport", json=report(county, [mine, theirs]), headers=fh(county))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["DiagnosticReport.result[1]"] and "another patient" in issue["diagnostics"]
    r = client.post("/fhir/DiagnosticReport", json=report(county, [99999]), headers=fh(county))
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["DiagnosticReport.result[0]"]
    with db.read_only() as s:
        assert s.scalars(select(DiagnosticReport.id)).all() == []
        assert s.scalars(select(DiagnosticReportResult.seq)).all() == []


def test_discharge_summary_round_trips_byte_exactly(client, county, db):
    enc = _post(client, county, "Encounter", encounter(county))["id"]
    out = _post(client, county, "DocumentReference", document(county, enc_id=enc))
    att = out["content"][0]["attachment"]
    assert base64.b64decode(att["data"]) == SUMMARY
    assert att["size"] == len(SUMMARY)
    assert att["hash"] == base64.b64encode(hashlib.sha1(SUMMARY).digest()).decode()
    assert (att["title"], att["language"], att["creation"]) == ("出院小结", "zh-CN", "2026-03-09T16:00:00+08:00")
    assert out["type"]["coding"][0]["code"] == "18842-5" and out["docStatus"] == "final"
    assert out["context"] == {"encounter": [{"reference": f"Encounter/{enc}"}]}
    assert out["author"] == [{"reference": "Practitioner/2"}] and out["date"] == "2026-03-09T17:00:00+08:00"
    assert validate(out, "DocumentReference")["id"] == out["id"]
    with db.read_only() as s:
        row = s.get(DocumentReference, int(out["id"]))
        assert (row.data, row.size, row.sha1, row.type_code, row.encounter_id, row.practitioner_id) == \
            (SUMMARY, len(SUMMARY), hashlib.sha1(SUMMARY).hexdigest(), "18842-5", int(enc), 2)
    got = client.get(f"/fhir/DocumentReference/{out['id']}", headers=fh(county))
    assert got.status_code == 200 and got.json() == out
    again = _post(client, county, "DocumentReference", document(county, data=b"v2"), status=200)
    assert again["id"] == out["id"] and base64.b64decode(again["content"][0]["attachment"]["data"]) == b"v2"


def test_document_by_url(client, county):
    body = document(county, data=None)
    body["content"][0]["attachment"]["url"] = "https://emr.example.cn/docs/DS0001.pdf"
    out = _post(client, county, "DocumentReference", body)
    att = out["content"][0]["attachment"]
    assert att["url"] == "https://emr.example.cn/docs/DS0001.pdf" and "data" not in att
    assert validate(out, "DocumentReference")["id"] == out["id"]


def test_oversized_attachment_is_refused_and_nothing_stored(client, county, db):
    r = client.post("/fhir/DocumentReference", json=document(county, data=b"x" * (MAX_ATTACHMENT_BYTES + 1)),
                    headers=fh(county))
    assert r.status_code == 422, r.text[:500]
    issue = r.json()["issue"][0]
    assert issue["expression"] == ["DocumentReference.content[0].attachment.data"]
    assert "too large" in issue["diagnostics"] and "5,242,880" in issue["diagnostics"]
    with db.read_only() as s:
        assert s.scalars(select(DocumentReference.id)).all() == []


@pytest.mark.parametrize("rtype,change,expression", [
    ("DiagnosticReport", {"status": "done"}, "DiagnosticReport.status"),
    ("DocumentReference", {"status": "active"}, "DocumentReference.status"),
    ("DocumentReference", {"docStatus": "signed"}, "DocumentReference.docStatus"),
])
def test_required_value_sets(client, county, db, rtype, change, expression):
    body = report(county, [], **change) if rtype == "DiagnosticReport" else document(county, **change)
    r = client.post(f"/fhir/{rtype}", json=body, headers=fh(county))
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["code"] == "code-invalid" and issue["expression"] == [expression], issue
    assert "required value set" in issue["diagnostics"]
    with db.read_only() as s:
        assert s.scalars(select(DiagnosticReport.id)).all() == []
        assert s.scalars(select(DocumentReference.id)).all() == []


def test_report_issued_before_it_was_done_is_refused(client, county):
    r = client.post("/fhir/DiagnosticReport", json=report(county, [], issued="2026-03-01T08:00:00+08:00"),
                    headers=fh(county))
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["DiagnosticReport.issued"]


def test_document_with_another_patients_encounter_is_refused(client, county):
    other = _post(client, county, "Encounter", encounter(county, "li", "V-LI"))["id"]
    r = client.post("/fhir/DocumentReference", json=document(county, enc_id=other), headers=fh(county))
    assert r.status_code == 422 and r.json()["issue"][0]["expression"] == ["DocumentReference.context.encounter"]


@pytest.mark.parametrize("rtype", ["DiagnosticReport", "DocumentReference"])
def test_reports_and_documents_follow_the_patients_scope(client, county, db, rtype):
    body = report(county, [], rid_key="out", source="OUT1") if rtype == "DiagnosticReport" else \
        document(county, rid_key="out", source="OUT1")
    rid = _post(client, county, rtype, body)["id"]
    assert client.get(f"/fhir/{rtype}/{rid}", headers=fh(county, "village_doctor")).status_code == 404
    assert client.get(f"/fhir/{rtype}", headers=fh(county, "village_doctor")).json()["total"] == 0
    assert client.get(f"/fhir/{rtype}/{rid}", headers=fh(county)).status_code == 200
    with db.read_only() as s:
        denied = s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied",
                                                    AuditEvent.action == f"{rtype.lower()}.read")).all()
        assert len(denied) == 1


def test_bulk_export_and_everything_include_reports_and_documents(client, county, db, tmp_path):
    o1 = _obs(client, county, "O1")
    _post(client, county, "DiagnosticReport", report(county, [o1]))
    _post(client, county, "DocumentReference", document(county))
    counts = export(db, system_principal("test"), tmp_path / "all")
    assert (counts["DiagnosticReport"], counts["DocumentReference"]) == (1, 1)
    for rtype in ("DiagnosticReport", "DocumentReference"):
        lines = (tmp_path / "all" / f"{rtype}.ndjson").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1
        res = json.loads(lines[0])
        assert res["resourceType"] == rtype and validate(res, rtype)["id"] == res["id"]
    res = json.loads((tmp_path / "all" / "DiagnosticReport.ndjson").read_text(encoding="utf-8"))
    assert res["result"] == [{"reference": f"Observation/{o1}"}]
    everything = client.get(f"/fhir/Patient/{county.residents['zhang']}/$everything", headers=fh(county)).json()
    types = [e["resource"]["resourceType"] for e in everything["entry"]]
    assert "DiagnosticReport" in types and "DocumentReference" in types
