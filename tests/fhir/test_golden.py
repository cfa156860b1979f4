"""Golden files for every mapper: input resource → stored rows → output resource, on both engines.

For each case ``NAME`` under ``tests/fhir/golden/``:
- ``NAME_in.json``  the resource a client sends (written by hand; record types only),
- ``NAME_rows.json`` the rows stored for it (record columns, observation components, report results),
- ``NAME_out.json`` what the server returns on read (and on create).
The registry types (Organization, Practitioner, PractitionerRole, Location) are read only: their rows come from
the test county and their golden files are ``NAME_rows.json`` and ``NAME_out.json``.

Ids differ between databases and runs, so the files use placeholders: ``{{zhang}}`` (a resident of the test
county), ``{{thc1}}`` (an organization), ``{{practitioner:gp}}``, ``{{encounter}}``, ``{{observation_lab}}`` (a
resource created earlier in the case), ``{{self}}`` (the resource's own id) and ``{{lastUpdated}}``.

Any difference fails. After an intended change, regenerate the rows and output files with
``RHIP_UPDATE_GOLDEN=1 make test PYTEST_ARGS=tests/fhir/test_golden.py``, review the
diff, then run the test again without the variable: both engines must agree with the files.
"""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from rhip.fhir.validation import validate
from rhip.records.models import ObservationComponent
from rhip.records.models_reports import DiagnosticReportResult
from rhip.records.repository import MODELS
from rhip.registry.models import Division, Organization, Practitioner, PractitionerOrg
from tests.factories import V11
from tests.fhir.support import fh

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("RHIP_UPDATE_GOLDEN") == "1"

# (resource type, golden name), in the order they are created: later cases refer to earlier ones
RECORD_CASES = [
    ("Encounter", "encounter"), ("Condition", "condition"), ("Observation", "observation_bp"),
    ("Observation", "observation_lab"), ("MedicationRequest", "medication_request"),
    ("MedicationStatement", "medication_statement"), ("AllergyIntolerance", "allergy_intolerance"),
    ("Immunization", "immunization"), ("DiagnosticReport", "diagnostic_report"),
    ("DocumentReference", "document_reference"),
]
DEPENDS = {"diagnostic_report": ["observation_lab"]}
REGISTRY_CASES = ["organization", "practitioner", "practitioner_role", "location"]
PLACEHOLDER = re.compile(r"\{\{([a-z_:0-9]+)\}\}")
# row column → the kind of id it holds (for placeholders in the rows files)
ID_COLUMNS = {"resident_id": "Patient", "org_id": "Organization", "practitioner_id": "Practitioner",
              "encounter_id": "Encounter", "observation_id": "Observation", "parent_id": "Organization"}


class Ids:
    """Placeholder ↔ id of the test county and of the resources created so far."""

    def __init__(self, county, db):
        self.by_key: dict[str, tuple[str, str]] = {}
        for k, rid in county.residents.items():
            self.by_key[k] = ("Patient", str(rid))
        for k, oid in county.org.items():
            self.by_key[k] = ("Organization", str(oid))
        with db.read_only() as s:
            people = dict(s.execute(select(Practitioner.name, Practitioner.id)).all())
        self.by_key["practitioner:doc"] = ("Practitioner", str(people["赵村医"]))
        self.by_key["practitioner:gp"] = ("Practitioner", str(people["钱全科"]))

    def add(self, key: str, rtype: str, rid: str) -> None:
        self.by_key[key] = (rtype, rid)

    def fill(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.by_key[m.group(1)][1], text)

    def key_of(self, rtype: str, rid) -> str | None:
        return next((k for k, v in self.by_key.items() if v == (rtype, str(rid))), None)

    def placeholders(self, node, self_id: str | None = None, top: bool = True):
        """Ids in an output resource → placeholders (references, the resource's own id, meta.lastUpdated)."""
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if top and k == "id" and self_id is not None:
                    out[k] = "{{self}}"
                elif k == "lastUpdated":
                    out[k] = "{{lastUpdated}}"
                else:
                    out[k] = self.placeholders(v, self_id, False)
            return out
        if isinstance(node, list):
            return [self.placeholders(v, self_id, False) for v in node]
        if isinstance(node, str) and re.fullmatch(r"[A-Za-z]+/\d+", node):
            rtype, rid = node.split("/")
            key = self.key_of(rtype, rid)
            return f"{rtype}/{{{{{key}}}}}" if key else node
        return node


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode("ascii")}
    return value


def _row(obj, ids: Ids, skip=("id", "created_at", "updated_at")) -> dict:
    out = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in skip:
            continue
        value = getattr(obj, attr.key)
        if attr.key in ID_COLUMNS and value is not None:
            key = ids.key_of(ID_COLUMNS[attr.key], value)
            value = f"{{{{{key}}}}}" if key else value
        out[attr.key] = _plain(value)
    return out


def _stored(s, rtype: str, rid: int, ids: Ids) -> dict:
    row = s.get(MODELS[rtype], rid)
    out = {"table": row.__tablename__, "row": _row(row, ids)}
    if rtype == "Observation":
        comps = s.scalars(select(ObservationComponent).where(ObservationComponent.observation_id == rid)
                          .order_by(ObservationComponent.seq))
        out["components"] = [_row(c, ids, skip=("observation_id",)) for c in comps]
    if rtype == "DiagnosticReport":
        results = s.scalars(select(DiagnosticReportResult).where(DiagnosticReportResult.report_id == rid)
                            .order_by(DiagnosticReportResult.seq))
        out["results"] = [_row(r, ids, skip=("report_id",)) for r in results]
    return out


def _check(name: str, kind: str, actual) -> None:
    path = GOLDEN / f"{name}_{kind}.json"
    if UPDATE:
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"{path.name} is missing: run with RHIP_UPDATE_GOLDEN=1 to write it"
    assert actual == json.loads(path.read_text(encoding="utf-8")), f"{path.name} differs"


def _create(client, county, ids: Ids, rtype: str, name: str) -> dict:
    body = json.loads(ids.fill((GOLDEN / f"{name}_in.json").read_text(encoding="utf-8")))
    r = client.post(f"/fhir/{rtype}", json=body, headers=fh(county))
    assert r.status_code == 201, r.text
    out = r.json()
    ids.add(name, rtype, out["id"])
    return out


@pytest.mark.parametrize("rtype,name", RECORD_CASES, ids=[n for _, n in RECORD_CASES])
def test_record_mapper_golden(client, county, db, rtype, name):
    ids = Ids(county, db)
    for dep in ["encounter", *DEPENDS.get(name, [])]:
        if dep != name:
            _create(client, county, ids, {n: t for t, n in RECORD_CASES}[dep], dep)
    created = _create(client, county, ids, rtype, name)
    with db.read_only() as s:
        _check(name, "rows", _stored(s, rtype, int(created["id"]), ids))
    read = client.get(f"/fhir/{rtype}/{created['id']}", headers=fh(county)).json()
    assert read == created  # create answers with what a read returns
    assert validate(read, rtype)["id"] == read["id"]  # and it is valid FHIR R4
    _check(name, "out", ids.placeholders(read, read["id"]))


@pytest.mark.parametrize("name", REGISTRY_CASES)
def test_registry_mapper_golden(client, county, db, name):
    ids = Ids(county, db)
    doc = ids.by_key["practitioner:doc"][1]
    with db.read_only() as s:
        if name == "organization":
            rid, row = str(county.org["thc1"]), s.get(Organization, county.org["thc1"])
        elif name == "practitioner":
            rid, row = doc, s.get(Practitioner, int(doc))
        elif name == "practitioner_role":
            rid, row = f"{doc}-{county.org['vc11']}", s.get(PractitionerOrg, (int(doc), county.org["vc11"]))
        else:
            rid, row = V11, s.get(Division, V11)
        _check(name, "rows", {"table": row.__tablename__, "row": _row(row, ids)})
    rtype = {"organization": "Organization", "practitioner": "Practitioner", "practitioner_role": "PractitionerRole",
             "location": "Location"}[name]
    read = client.get(f"/fhir/{rtype}/{rid}", headers=fh(county))
    assert read.status_code == 200, read.text
    out = read.json()
    assert validate(out, rtype)["id"] == out["id"]
    _check(name, "out", ids.placeholders(out, out["id"]))
