"""Parse and validate a FHIR R4 resource: JSON, resourceType, structure and types (``fhir.resources``),
then the required value sets (``valuesets``). All problems are reported together, each with its FHIRPath.

Structure and types are checked in two tiers: ``fastcheck`` (a JSON Schema generated from the same models,
run in Rust) accepts ordinary input in a fraction of the time; whatever it does not accept is validated by
``fhir.resources``, which gives the precise errors. Tier 1 never accepts what tier 2 rejects and never lets
through a value tier 2 would coerce, so the result is the same either way."""

from __future__ import annotations

import importlib
from decimal import Decimal
from functools import cache

import orjson
from pydantic import BaseModel, ValidationError

from rhip.fhir import fastcheck
from rhip.fhir.errors import FhirError, Issue
from rhip.fhir.valuesets import check_required_bindings

MAX_BODY_BYTES = 20 * 1024 * 1024


@cache
def model_class(resource_type: str):
    """The ``fhir.resources`` model for a type. Its default package is FHIR R5 (where, e.g., Encounter.class
    is a list); R4 documents are validated with its R4B models — R4B (4.3) keeps R4's structure for the
    resources served here, and the package has no separate R4 models."""
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def fhirpath(resource_type: str, loc: tuple) -> str:
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "__root__":
            path += f".{part}"
    return path


def parse_json(body: bytes) -> dict:
    if len(body) > MAX_BODY_BYTES:
        raise FhirError(413, [Issue("too-costly", f"request body of {len(body):,} bytes exceeds the limit of "
                                                  f"{MAX_BODY_BYTES:,} bytes")])
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise FhirError(400, [Issue("structure", f"malformed JSON: {e}")]) from None
    if not isinstance(data, dict):
        raise FhirError(400, [Issue("structure", "the body must be a JSON object (a FHIR resource)")])
    return data


def validate(data: dict, expected_type: str) -> dict:
    """Return the resource as validated JSON (dict), or raise FhirError(400/422) listing every problem."""
    rtype = data.get("resourceType")
    if rtype != expected_type:
        raise FhirError(400, [Issue("invalid", f"resourceType is {rtype!r}, expected {expected_type!r}",
                                    "resourceType" if rtype else None)])
    if fastcheck.accepts(data, expected_type):
        # nothing to normalize: tier 1 accepts no null and no value that validation would coerce; and it checks
        # the required value sets too (where it cannot, they are checked here)
        issues = [] if fastcheck.covers_bindings(expected_type) else _binding_issues(data)
        if issues:
            raise FhirError(422, issues)
        return data
    issues: list[Issue] = []
    try:
        model = model_class(expected_type).model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            kind = err.get("type", "")
            code = "structure" if kind in ("extra_forbidden", "list_type", "model_type", "dict_type") else (
                "required" if kind == "missing" else "value")
            issues.append(Issue(code, err.get("msg", "invalid"), fhirpath(expected_type, tuple(err.get("loc", ())))))
        model = None
    issues += _binding_issues(data)
    if issues:
        raise FhirError(400 if any(i.code == "structure" for i in issues) else 422, issues)
    _normalize(data, model)
    return data


def _binding_issues(data: dict) -> list[Issue]:
    return [Issue("code-invalid", f"{code!r} is not in the required value set ({', '.join(sorted(allowed))})", where)
            for where, code, allowed in check_required_bindings(data)]


@cache
def _json_keys(cls) -> dict[str, str]:
    """JSON element name → model attribute (``class`` → ``class_fhir``, ``_birthDate`` → ``birthDate__ext``)."""
    return {(f.alias or name): name for name, f in cls.model_fields.items()}


def _coerced(raw, value) -> bool:
    """Did validation turn this JSON value into something else (``"120"`` → 120, ``"true"`` → True, 1.0 → 1)?"""
    if not isinstance(value, (bool, int, float, Decimal)):  # dates, base64 etc. stay the strings that were sent
        return False
    return isinstance(raw, str) or (isinstance(raw, float) and isinstance(value, int))


def _json_value(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _normalize(raw: dict, model) -> None:
    """Make the JSON what ``model.model_dump(mode="json", exclude_none=True)`` would give — values that
    validation coerced take the validated value, nulls go — by walking the JSON alongside the validated
    model. The serializer of ``fhir.resources`` takes twice as long as validating; this walk touches only
    the elements that were sent. Changes ``raw`` in place."""
    keys = _json_keys(type(model))
    drop = []
    for k, v in raw.items():
        if v is None:
            drop.append(k)
            continue
        name = keys.get(k)
        if name is None or not isinstance(v, (dict, list, str, float)):
            continue
        mv = getattr(model, name, None)
        if isinstance(v, dict):
            if isinstance(mv, BaseModel):
                _normalize(v, mv)
        elif isinstance(v, list):
            if isinstance(mv, list) and len(mv) == len(v):
                for i, (rv, m) in enumerate(zip(v, mv)):
                    if isinstance(rv, dict) and isinstance(m, BaseModel):
                        _normalize(rv, m)
                    elif _coerced(rv, m):
                        v[i] = _json_value(m)
        elif _coerced(v, mv):
            raw[k] = _json_value(mv)
    for k in drop:
        del raw[k]
