"""validate() returns what fhir.resources' own serializer would give, without running that serializer."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rhip.fhir.validation import model_class, validate

GOLDEN = Path(__file__).parent / "golden"


def _bench_resources() -> list[dict]:
    """The benchmark's transaction resources (Patient, Encounter, Condition, Observation with components)."""
    import random

    from benchmarks.fhir.run import bundle

    text = json.dumps(bundle(0, ["411530001001"], random.Random(1))["entry"][:10])
    text = text.replace('"urn:uuid:p-0"', '"Patient/1"').replace('"urn:uuid:e-0"', '"Encounter/1"')
    return [e["resource"] for e in json.loads(text)]


CASES = [json.loads(p.read_text()) for p in sorted(GOLDEN.glob("*_in.json"))] + _bench_resources()[:4] + [
    {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "a", "code": "b",
                                                                            "display": None}]},
     "valueQuantity": {"value": "120.50"}, "effectiveDateTime": "2026-05-02", "subject": {"reference": "Patient/1"}},
    {"resourceType": "Patient", "active": "true", "birthDate": "1958-03-14",
     "telecom": [{"system": "phone", "value": "1", "rank": "2"}, {"system": "email", "value": "a@b", "rank": 1.0}]},
]


@pytest.mark.parametrize("resource", CASES, ids=lambda r: r["resourceType"])
def test_validate_matches_the_fhir_resources_serializer(resource):
    want = model_class(resource["resourceType"]).model_validate(resource).model_dump(mode="json", exclude_none=True)
    assert validate(copy.deepcopy(resource), resource["resourceType"]) == want


def test_coerced_values_become_json_numbers_and_booleans():
    p = validate({"resourceType": "Patient", "active": "true", "telecom": [{"value": "1", "rank": "2"}]}, "Patient")
    assert p["active"] is True and p["telecom"][0]["rank"] == 2
