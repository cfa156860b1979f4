"""Differential test of the two validation tiers: the fast structural check (``fastcheck``, JSON Schema in
Rust) must never accept a resource that ``fhir.resources`` rejects, and must never accept one that
``fhir.resources`` would change (coerce) — over a corpus of good resources and many mutated bad ones."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from rhip.fhir import fastcheck
from rhip.fhir.errors import FhirError
from rhip.fhir.validation import _normalize, model_class, validate

GOLDEN = Path(__file__).parent / "golden"
WRITABLE = ("Patient", "Encounter", "Condition", "Observation", "Immunization", "AllergyIntolerance",
            "MedicationRequest", "MedicationStatement", "DiagnosticReport", "DocumentReference")


def _bench_resources() -> list[dict]:
    import random

    from benchmarks.fhir.run import bundle

    text = json.dumps(bundle(0, ["411530001001"], random.Random(1))["entry"][:10])
    text = text.replace('"urn:uuid:p-0"', '"Patient/1"').replace('"urn:uuid:e-0"', '"Encounter/1"')
    return [e["resource"] for e in json.loads(text)]


def corpus() -> list[dict]:
    """What clients send (golden inputs, the benchmark's resources) and what the server returns (golden outputs,
    which an export gives and an import takes back) for the writable types."""
    out = [json.loads(p.read_text()) for p in sorted(GOLDEN.glob("*_in.json"))]
    for p in sorted(GOLDEN.glob("*_out.json")):
        text = p.read_text().replace("{{lastUpdated}}", "2026-05-02T09:30:00.123+08:00")
        text = re.sub(r"\{\{[a-z_0-9]+\}\}", "7", text)  # ids
        r = json.loads(text)
        if r.get("resourceType") in WRITABLE:
            out.append(r)
    return out + _bench_resources()


BAD_VALUES = [None, "", " ", "  a", "a  b", "x\u3000", 0, -1, 1.0, 1.5, 2 ** 31, 2 ** 70, True, "true", "1", [], {},
              ["x"], {"x": 1}, "2026-02-30", "2026-13-01", "2026-05-02T25:00:00+08:00", "2026-05-02T09:30:00",
              "2026-05", "09:30:00", "not a url", "http://a b", "urn:oid:1.2.x", "=!", "a" * 70, "Patient/x y"]


BOUND_LEAVES = {"status", "gender", "system", "use", "code", "type", "category", "criticality", "severity", "intent",
                "periodUnit", "docStatus"}


def _paths(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, path + (i,))


def _set(root, path, new):
    out = copy.deepcopy(root)
    target = out
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = new
    return out


def _delete(root, path):
    out = copy.deepcopy(root)
    target = out
    for p in path[:-1]:
        target = target[p]
    del target[path[-1]]
    return out


def mutants(r: dict):
    """Resources one change away from ``r``: every element replaced by each bad value, removed, unwrapped from
    its list or wrapped in one, emptied; an unknown element added to every object; a second choice type."""
    for path, v in list(_paths(r)):
        if not path or path == ("resourceType",):
            continue
        for bad in BAD_VALUES:
            yield _set(r, path, bad)
        yield _delete(r, path)
        if isinstance(v, list) and v:
            yield _set(r, path, v[0])
        elif not isinstance(v, list):
            yield _set(r, path, [v])
        if isinstance(v, dict):
            yield _set(r, path, {**v, "unknownElement": "x"})
            for k in list(v):
                if k.startswith("value") and k != "value":
                    yield _set(r, path, {**v, "valueString": "x", "valueBoolean": True})
    for k in list(r):
        if k.startswith(("value", "effective", "onset", "deceased", "occurrence", "medication")):
            yield {**r, "valueString": "x", "valueBoolean": True, "effectiveInstant": "2026-05-02T09:30:00Z",
                   "deceasedBoolean": False, "onsetString": "x", "occurrenceString": "x", "medicationReference":
                   {"reference": "Medication/1"}}
    yield {**r, "contained": [{"resourceType": "Patient", "id": "p"}]}
    yield {**r, "_status": {"extension": [{"url": "http://x", "valueString": "x"}]}}


def _slow(r: dict):
    """fhir.resources' verdict: the normalized JSON, or None when it rejects."""
    try:
        model = model_class(r["resourceType"]).model_validate(r)
    except (ValidationError, ValueError, TypeError):
        return None
    out = copy.deepcopy(r)
    _normalize(out, model)
    return out


CORPUS = corpus()


@pytest.mark.parametrize("resource", CORPUS, ids=lambda r: f"{r['resourceType']}")
def test_fast_tier_accepts_only_what_fhir_resources_accepts_unchanged(resource):
    rtype = resource["resourceType"]
    assert fastcheck.accepts(resource, rtype), "an ordinary good resource should take the fast path"
    checked = accepted = 0
    for m in mutants(resource):
        checked += 1
        if not fastcheck.accepts(m, rtype):
            continue
        accepted += 1
        slow = _slow(m)
        assert slow is not None, f"fast tier accepted what fhir.resources rejects: {json.dumps(m)[:400]}"
        assert json.dumps(slow) == json.dumps(m), f"fhir.resources would change it: {json.dumps(m)[:400]}"
    assert checked > 50 and accepted < checked


@pytest.mark.parametrize("resource", CORPUS, ids=lambda r: f"{r['resourceType']}")
def test_validate_gives_the_same_result_with_and_without_the_fast_tier(monkeypatch, resource):
    """Every mutant: the same accepted JSON or the same OperationOutcome (value-set errors included) either way."""
    def outcome(r):
        try:
            return json.dumps(validate(copy.deepcopy(r), r["resourceType"]))
        except FhirError as e:
            return (e.status, json.dumps(e.outcome()))

    cases = list(mutants(resource)) + [_set(resource, path, "bogus-code") for path, v in _paths(resource)
                                       if isinstance(v, str) and path and path[-1] in BOUND_LEAVES]
    fast = [outcome(m) for m in cases]
    monkeypatch.setattr(fastcheck, "accepts", lambda data, rtype: False)
    assert [outcome(m) for m in cases] == fast


def test_every_required_value_set_is_in_the_schema():
    for rtype in WRITABLE:
        assert fastcheck.covers_bindings(rtype)
    assert not fastcheck.accepts({"resourceType": "Patient", "gender": "man"}, "Patient")
    assert not fastcheck.accepts({"resourceType": "Patient", "telecom": [{"system": "beeper"}]}, "Patient")


def test_bare_resources_get_the_same_verdict():
    """A resource with nothing but its type: accepted by both tiers or (required elements missing) by neither."""
    for rtype in WRITABLE:
        assert fastcheck.accepts({"resourceType": rtype}, rtype) == (_slow({"resourceType": rtype}) is not None)
        assert not fastcheck.accepts({"resourceType": "Patient" if rtype != "Patient" else "Encounter"}, rtype)


def test_dates_are_checked_by_the_models_own_validator():
    p = {"resourceType": "Patient", "birthDate": "1958-03-14"}
    assert fastcheck.accepts(p, "Patient")
    assert not fastcheck.accepts({**p, "birthDate": "1958-02-30"}, "Patient")
    assert not fastcheck.accepts({**p, "birthDate": "1958-3-14"}, "Patient")
