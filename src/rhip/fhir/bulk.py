"""FHIR Bulk Data style NDJSON export and import (``rhip fhir export`` / ``rhip fhir import``).

Export streams one file per resource type (``Patient.ndjson``, ``Encounter.ndjson``, …) in pages, so memory
stays flat for a whole county. Import reads NDJSON files or Bundle JSON files; each resource is written in
its own transaction through the same services as the API (validation, scope, audit), and every rejected
resource is reported with its reason without stopping the rest. Resources are imported Patient first, then
Encounter, Observation (before the DiagnosticReports that cite them), then the others; references such as
``Patient/<id>``, ``Encounter/<id>`` and ``Observation/<id>`` of the *source* system
are rewritten to the ids they received here. Re-importing the same files updates instead of duplicating
(Patients by ID number, records by their source identifier).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from rhip.fhir import service
from rhip.fhir.errors import FhirError
from rhip.fhir.mappers import RECORD_MAPPERS
from rhip.fhir.mappers.patient import PatientMapper
from rhip.fhir import identifiers as ids
from rhip.kit.db import Database
from rhip.kit.errors import RhipError
from rhip.records import repository as records_repo
from rhip.registry.models import Resident
from rhip.security.service import Principal, audit

ORDER = ("Patient", "Encounter", "Condition", "Observation", "DiagnosticReport", "Immunization",
         "AllergyIntolerance", "MedicationRequest", "MedicationStatement", "DocumentReference")
PAGE = 2000


def _pages(db: Database, model, where) -> Iterator[list]:
    last = 0
    while True:
        with db.read_only() as s:
            rows = list(s.scalars(select(model).where(model.id > last, *where).order_by(model.id).limit(PAGE)))
            comps = records_repo.components(s, [r.id for r in rows]) if model.__name__ == "Observation" else {}
        if not rows:
            return
        yield [(r, comps.get(r.id)) for r in rows]
        last = rows[-1].id


def export(db: Database, who: Principal, out_dir: Path, *, patient_id: int | None = None,
           progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write ``<Type>.ndjson`` files; returns the count per type. The export itself is audited."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for rtype in ORDER:
        model = Resident if rtype == "Patient" else records_repo.MODELS[rtype]
        where = []
        if patient_id is not None:
            where.append((Resident.id if rtype == "Patient" else model.resident_id) == patient_id)
        n = 0
        with (out_dir / f"{rtype}.ndjson").open("w", encoding="utf-8") as fh:
            for page in _pages(db, model, where):
                for row, extra in page:
                    res = PatientMapper.to_fhir(row) if rtype == "Patient" else RECORD_MAPPERS[rtype].to_fhir(row, extra)
                    fh.write(json.dumps(res, ensure_ascii=False, separators=(",", ":")) + "\n")
                n += len(page)
                if progress:
                    progress(rtype, len(page))
        counts[rtype] = n
    with db.unit_of_work() as s:
        audit(s, who, "fhir.export", resident_ids=[patient_id] if patient_id else [],
              detail={"dir": str(out_dir), "counts": counts, "scope": "patient" if patient_id else "county"})
    return counts


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)  # records sent before, updated from the source
    matched: dict[str, int] = field(default_factory=dict)  # Patients already registered (same ID number), kept
    rejected: list[dict] = field(default_factory=list)  # {file, line, resourceType, id, reason}


def _resources(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line or entry number, resource, parse error) from an NDJSON file (streamed line by line) or from a
    ``.json`` file holding a Bundle or a single resource."""
    if path.suffix == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            yield 1, None, f"malformed JSON: {e}"
            return
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            for i, entry in enumerate(doc.get("entry") or [], start=1):
                res = (entry or {}).get("resource")
                yield i, res, None if isinstance(res, dict) else "entry has no resource"
        else:
            yield 1, doc if isinstance(doc, dict) else None, None if isinstance(doc, dict) else "not a JSON object"
        return
    with path.open(encoding="utf-8", errors="strict") as fh:
        n = 0
        try:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    res = json.loads(line)
                except json.JSONDecodeError as e:
                    yield n, None, f"malformed JSON: {e}"
                    continue
                yield n, res if isinstance(res, dict) else None, None if isinstance(res, dict) else "not a JSON object"
        except UnicodeDecodeError as e:
            yield n + 1, None, f"not UTF-8 text: {e}"


def _remap(value, id_map: dict[str, str]):
    if isinstance(value, dict):
        return {k: (id_map.get(v, v) if k == "reference" and isinstance(v, str) else _remap(v, id_map))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_remap(v, id_map) for v in value]
    return value


def _reason(err: Exception) -> str:
    if isinstance(err, FhirError):
        return "; ".join(f"{(i.expression or '')}: {i.diagnostics}".lstrip(": ") for i in err.issues)
    if isinstance(err, RhipError):
        return f"{err.message_en} ({err.message_zh})" + "".join(f"; {e.field}: {e.message_en}" for e in err.errors)
    return repr(err)


def import_files(db: Database, who: Principal, paths: list[Path],
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    """One pass per resource type (Patient first), streaming the files, so that references can be mapped to
    the new ids and memory stays flat. Each resource is its own transaction."""
    report = ImportReport()
    id_map: dict[str, str] = {}
    for pass_no, rtype_wanted in enumerate(ORDER):
        for path in paths:
            for n, res, err in _resources(path):
                rtype = (res or {}).get("resourceType")
                first_pass = pass_no == 0
                if err or rtype not in ORDER:
                    if first_pass:  # report unreadable lines and unsupported types once
                        report.rejected.append({"file": path.name, "line": n, "resourceType": rtype,
                                                "id": (res or {}).get("id"),
                                                "reason": err or f"resourceType {rtype!r} is not imported "
                                                                 f"(supported: {', '.join(ORDER)})"})
                        if progress:
                            progress(1)
                    continue
                if rtype != rtype_wanted:
                    continue
                _import_one(db, who, path, n, res, id_map, report)
                if progress:
                    progress(1)
    with db.unit_of_work() as s:
        audit(s, who, "fhir.import", detail={"files": [p.name for p in paths], "created": report.created,
                                             "updated": report.updated, "matched": report.matched,
                                             "rejected": len(report.rejected)})
    return report


def _import_one(db: Database, who: Principal, path: Path, n: int, res: dict, id_map: dict[str, str],
                report: ImportReport) -> None:
    rtype, source_id = res["resourceType"], res.get("id")
    try:
        body = _remap({k: v for k, v in res.items() if k not in ("id", "meta")}, id_map)
        with db.unit_of_work() as s:
            if rtype == "Patient":
                idn = next((i.get("value") for i in body.get("identifier", [])
                            if i.get("system") == ids.RESIDENT_ID_NUMBER), None)
                crit = f"identifier={ids.RESIDENT_ID_NUMBER}|{idn}" if idn else None
                status, out = service.create_patient(s, who, body, if_none_exist=crit)
            else:
                status, out = service.create_record(s, who, rtype, body)
    except (FhirError, RhipError) as e:
        report.rejected.append({"file": path.name, "line": n, "resourceType": rtype, "id": source_id,
                                "reason": _reason(e)})
        return
    bucket = report.created if status == 201 else report.matched if rtype == "Patient" else report.updated
    bucket[rtype] = bucket.get(rtype, 0) + 1
    if source_id:
        id_map[f"{rtype}/{source_id}"] = f"{rtype}/{out['id']}"
