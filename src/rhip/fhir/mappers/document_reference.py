"""DocumentReference ↔ document_reference row: a clinical document (e.g. LOINC 18842-5 Discharge summary)
with its content as one attachment.

``content[0].attachment``: ``contentType`` (required), ``language``, ``title``, ``creation`` and either
``data`` (base64; stored decoded, at most 5 MB, with its size and SHA-1) or ``url``. On output ``data`` is
base64 again, with ``size`` and ``hash`` (base64 of the SHA-1). Author: one Practitioner or Organization;
``context.encounter``: one Encounter of the same patient.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from rhip.fhir.errors import Issue
from rhip.fhir.mappers import common
from rhip.fhir.mappers.medication_request import actor

RTYPE = "DocumentReference"
ATTACHMENT = f"{RTYPE}.content[0].attachment"
MAX_LEN = {"type_system": (64, "type"), "type_code": (32, "type"), "category_system": (128, "category"),
           "category": (32, "category"), "content_type": (100, "content[0].attachment.contentType"),
           "language": (16, "content[0].attachment.language"), "url": (500, "content[0].attachment.url")}


def _coding_out(system, code, display) -> dict:
    return {**({"system": system} if system else {}), "code": code, **({"display": display} if display else {})}


def _first_coding(concept: dict | None) -> dict | None:
    return next((c for c in (concept or {}).get("coding", []) if c.get("code")), None)


class DocumentReferenceMapper:
    resource_type = RTYPE
    search_params = {"_id": "token", "patient": "reference", "subject": "reference", "date": "date",
                     "category": "token", "status": "token", "encounter": "reference", "type": "token"}

    @staticmethod
    def to_fhir(row, _extra=None) -> dict:
        d = {"resourceType": RTYPE, "id": str(row.id), "meta": common.meta(row),
             "identifier": common.identifier(row), "status": row.status}
        if row.doc_status:
            d["docStatus"] = row.doc_status
        d["type"] = {"coding": [_coding_out(row.type_system, row.type_code, row.type_display)]}
        if row.category:
            d["category"] = [{"coding": [_coding_out(row.category_system, row.category, row.category_display)]}]
        d["subject"] = {"reference": f"Patient/{row.resident_id}"}
        d["date"] = common.instant(row.date)
        if row.practitioner_id:
            d["author"] = [{"reference": f"Practitioner/{row.practitioner_id}"}]
        elif row.org_id:
            d["author"] = [{"reference": f"Organization/{row.org_id}"}]
        a: dict = {"contentType": row.content_type}
        if row.language:
            a["language"] = row.language
        if row.data is not None:
            a["data"] = base64.b64encode(row.data).decode("ascii")
        if row.url:
            a["url"] = row.url
        if row.size is not None:
            a["size"] = row.size
        if row.sha1:
            a["hash"] = base64.b64encode(bytes.fromhex(row.sha1)).decode("ascii")
        if row.title:
            a["title"] = row.title
        if row.creation:
            a["creation"] = common.instant(row.creation)
        d["content"] = [{"attachment": a}]
        if row.encounter_id:
            d["context"] = {"encounter": [{"reference": f"Encounter/{row.encounter_id}"}]}
        return d

    @staticmethod
    def to_fields(o: dict) -> tuple[dict, None]:
        issues: list[Issue] = []
        type_coding = next((c for c in (o.get("type") or {}).get("coding", []) if c.get("system") and c.get("code")),
                           None)
        if type_coding is None:
            issues.append(Issue("required", "DocumentReference.type needs a coding with system and code (LOINC, e.g. "
                                            "18842-5 Discharge summary)", f"{RTYPE}.type"))
            type_coding = {}
        categories = o.get("category") or []
        if len(categories) > 1:
            issues.append(Issue("not-supported", f"one category is stored; got {len(categories)}", f"{RTYPE}.category"))
        cat = _first_coding(categories[0] if categories else None) or {}
        date = common.parse_datetime(o.get("date"), f"{RTYPE}.date", issues)
        if o.get("date") is None:
            issues.append(Issue("required", "DocumentReference.date is required (when the document was made)",
                                f"{RTYPE}.date"))
        authors = o.get("author") or []
        if len(authors) > 1:
            issues.append(Issue("not-supported", f"one author is stored; got {len(authors)}", f"{RTYPE}.author"))
        practitioner_id, org_id = actor(authors[0] if authors else None, f"{RTYPE}.author[0]", issues)
        encounters = (o.get("context") or {}).get("encounter") or []
        if len(encounters) > 1:
            issues.append(Issue("not-supported", f"one context.encounter is stored; got {len(encounters)}",
                                f"{RTYPE}.context.encounter"))
        encounter_id = common.ref_id(encounters[0], "Encounter", f"{RTYPE}.context.encounter[0]", issues,
                                     required=False) if encounters else None
        contents = o.get("content") or []
        if len(contents) != 1:
            issues.append(Issue("not-supported", f"exactly one content is stored; got {len(contents)}",
                                f"{RTYPE}.content"))
        a = (contents[0] if contents else {}).get("attachment") or {}
        data = size = sha1 = None
        if a.get("data") is not None:
            try:
                data = base64.b64decode(a["data"], validate=True)
            except (binascii.Error, ValueError):
                issues.append(Issue("value", "attachment.data is not valid base64", f"{ATTACHMENT}.data"))
            else:
                size, sha1 = len(data), hashlib.sha1(data).hexdigest()
                if a.get("size") is not None and a["size"] != size:
                    issues.append(Issue("value", f"attachment.size {a['size']} does not match the data ({size} bytes)",
                                        f"{ATTACHMENT}.size"))
                if a.get("hash") is not None and a["hash"] != base64.b64encode(bytes.fromhex(sha1)).decode("ascii"):
                    issues.append(Issue("value", "attachment.hash is not the SHA-1 of the data", f"{ATTACHMENT}.hash"))
        elif not a.get("url"):
            issues.append(Issue("required", "the attachment needs data (base64) or a url", f"{ATTACHMENT}.data"))
        elif a.get("size") is not None:
            size = a["size"]
        if contents and not a.get("contentType"):
            issues.append(Issue("required", "attachment.contentType is required (e.g. application/pdf)",
                                f"{ATTACHMENT}.contentType"))
        creation = common.parse_datetime(a.get("creation"), f"{ATTACHMENT}.creation", issues)
        fields = {
            "resident_id": common.ref_id(o.get("subject"), "Patient", f"{RTYPE}.subject", issues, required=True),
            "encounter_id": encounter_id, "practitioner_id": practitioner_id, "org_id": org_id,
            "status": o.get("status"), "doc_status": o.get("docStatus"),
            "type_system": type_coding.get("system"), "type_code": type_coding.get("code"),
            "type_display": (type_coding.get("display") or (o.get("type") or {}).get("text") or "")[:200] or None,
            "category_system": cat.get("system"), "category": cat.get("code"),
            "category_display": (cat.get("display") or "")[:200] or None,
            "date": date, "content_type": a.get("contentType"), "language": a.get("language"),
            "title": (a.get("title") or "")[:200] or None, "creation": creation,
            "data": data, "url": a.get("url"), "size": size, "sha1": sha1,
        }
        for k, (n, path) in MAX_LEN.items():
            if fields.get(k) and len(str(fields[k])) > n:
                issues.append(Issue("value", f"{k.replace('_', ' ')} is longer than {n} characters",
                                    f"{RTYPE}.{path}"))
        fields["source_system"], fields["source_id"] = common.source_of(o, RTYPE)
        common.raise_if(issues)
        return fields, None
