"""Tier 1 of resource validation: a fast structural check that never accepts what tier 2 (``fhir.resources``)
rejects.

The check is a JSON Schema (draft 4) generated, once per resource type, from the very ``fhir.resources`` R4B
models that tier 2 validates with, and compiled by ``jsonschema-rs`` (Rust). It is deliberately *stricter*
than the models wherever matching them exactly would cost effort: anything it refuses goes to tier 2, which
accepts it or produces the precise OperationOutcome — so the outcome of ``validation.validate`` is the same
with or without tier 1, only faster for ordinary input.

What the schema holds, element by element (walking the models' fields):
- the element names the model knows (by their JSON names; ``additionalProperties: false``), none empty
  (``minProperties``/``minItems`` 1), no nulls except the positional ones in ``_given``-style lists;
- lists where the model has a list, single values where it has one; complex elements by their own model;
- required elements (``Observation.code``), required primitives (``Observation.status``: the value or
  ``_status`` with an extension) and choice elements (``value[x]``: at most one; exactly one where required);
- primitives: ``boolean``, ``integer``/``unsignedInt``/``positiveInt`` with their ranges (draft 4: ``1.0`` is
  not an integer, so a value the model would coerce goes to tier 2 — the mappers see the same JSON either
  way), ``decimal`` as a JSON number, ``string``/``markdown`` with at least one non-blank character,
  ``code``/``id``/``uri``/``canonical``/``oid`` by the FHIR regular expressions; ``date``, ``dateTime``,
  ``instant``, ``time``, ``url``, ``uuid``, ``base64Binary`` and ``xhtml`` by a format function that runs the
  model's own validator of that primitive (so Feb 30 is refused exactly as tier 2 refuses it);
- ``contained`` and other elements holding any resource: never accepted here (tier 2 decides).

``tests/fhir/test_fastcheck.py`` checks on a corpus of good and mutated bad resources that tier 1 never
accepts a resource tier 2 rejects, and that tier 2 would not change a resource tier 1 accepts.
"""

from __future__ import annotations

import importlib
import itertools
import types
import typing
from functools import cache

import jsonschema_rs
from fhir_core import types as fhir_types
from pydantic import TypeAdapter

REJECT = {"not": {}}  # draft 4 has no boolean schemas
UNIONS = (typing.Union, types.UnionType)
STRING = r"^[ \r\n\t]*\S[ \r\n\t\S]*$"
PATTERNS = {
    "String": STRING, "Markdown": STRING,
    "Code": r"^[^\s]+(\s[^\s]+)*$",
    "Id": r"^[A-Za-z0-9\-.]{1,64}$",
    "Uri": r"^\S+$", "Canonical": r"^\S+$",
    "Oid": r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$",
}
INTEGERS = {"Integer": (-2147483648, 2147483647), "UnsignedInt": (0, 2147483647),
            "PositiveInt": (1, 2147483647)}
# Primitives checked by the model's own validator (called from the Rust side as a "format").
FORMATS = {"Date": fhir_types.DateType, "DateTime": fhir_types.DateTimeType, "Instant": fhir_types.InstantType,
           "Time": fhir_types.TimeType, "Url": fhir_types.UrlType, "Uuid": fhir_types.UuidType,
           "Base64Binary": fhir_types.Base64BinaryType, "Xhtml": fhir_types.XhtmlType}


def _format_check(annotation) -> typing.Callable[[str], bool]:
    adapter = TypeAdapter(annotation)

    def check(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except Exception:  # noqa: BLE001 - any refusal means: let tier 2 decide
            return False
        return True
    return check


@cache
def _formats() -> dict[str, typing.Callable[[str], bool]]:
    return {f"fhir-{name}": _format_check(ann) for name, ann in FORMATS.items()}


def _model_of(tp) -> type | None:
    """The model class behind a ``fhirtypes.XType`` (``create_fhir_type``), or None."""
    path = getattr(tp, "_model_klass", None)
    if not path:
        return None
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class _Builder:
    def __init__(self):
        self.defs: dict[str, dict] = {}

    def ref(self, cls) -> dict:
        name = f"{cls.__module__.rpartition('.')[2]}.{cls.__name__}"
        if name not in self.defs:
            self.defs[name] = {}  # entered before it is built: a recursive type (Extension …) refers to itself
            self.defs[name] = self.model(cls)
        return {"$ref": f"#/definitions/{name}"}

    def primitive(self, marker_or_type) -> dict:
        if marker_or_type is bool:
            return {"type": "boolean"}
        name = type(marker_or_type).__name__ if not isinstance(marker_or_type, type) else marker_or_type.__name__
        if name in PATTERNS:
            return {"type": "string", "pattern": PATTERNS[name]}
        if name in INTEGERS:
            lo, hi = INTEGERS[name]
            return {"type": "integer", "minimum": lo, "maximum": hi}
        if name == "Decimal":
            return {"type": "number"}
        if name in FORMATS:
            return {"type": "string", "format": f"fhir-{name}"}
        return REJECT

    def value(self, tp) -> dict:
        """Schema of one (non-list) value of annotation ``tp``."""
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            base, *meta = typing.get_args(tp)
            for m in meta:
                out = self.primitive(m)
                if out is not REJECT:
                    return out
            return REJECT
        if tp is bool:
            return {"type": "boolean"}
        if tp is fhir_types.UuidType or getattr(tp, "__name__", "") == "UUID4":
            return {"type": "string", "format": "fhir-Uuid"}
        if isinstance(tp, type) and issubclass(tp, fhir_types.FhirElementOrResourceBase):
            return REJECT  # any resource (contained, Bundle.entry.resource …): tier 2
        model = _model_of(tp)
        if model is None and isinstance(tp, type) and hasattr(tp, "model_fields"):
            model = tp
        if model is not None:
            return self.ref(model)
        return REJECT

    def field(self, annotation) -> dict:
        """Schema of a model field: ``X | None`` (absent is fine; null never), ``List[X]``, ``List[X | None]``."""
        tp, nullable_items = annotation, False
        if typing.get_origin(tp) in UNIONS:
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return REJECT
            tp = args[0]
        if typing.get_origin(tp) in (list, typing.List):
            (item,) = typing.get_args(tp)
            item_args = typing.get_args(item) if typing.get_origin(item) in UNIONS else None
            if item_args is not None:
                inner = [a for a in item_args if a is not type(None)]
                if len(inner) != 1:
                    return REJECT
                nullable_items, item = len(inner) < len(item_args), inner[0]
            one = self.value(item)
            if one is REJECT:
                return REJECT
            items = {"anyOf": [one, {"type": "null"}]} if nullable_items else one
            return {"type": "array", "minItems": 1, "items": items}
        return self.value(tp)

    def model(self, cls) -> dict:
        props: dict[str, dict] = {}
        for name, f in cls.model_fields.items():
            if name == "fhir_comments":
                continue
            props[f.alias or name] = self.field(f.annotation)
        alias = {name: (f.alias or name) for name, f in cls.model_fields.items()}
        required = [alias[n] for n, f in cls.model_fields.items() if f.is_required()]
        all_of: list[dict] = []
        for value_name, ext_name in (cls.get_required_fields(None) or []):
            v = alias.get(value_name, value_name)
            e = alias.get(ext_name, ext_name) if ext_name else None
            options = [{"required": [v]}]
            if e:
                options.append({"required": [e], "properties": {e: {"required": ["extension"]}}})
            all_of.append({"anyOf": options})
        for members in (cls.get_one_of_many_fields(None) or {}).values():  # value[x]: at most one of them
            names = [alias[m] for m in members]
            if len(names) > 1:
                all_of.append({"not": {"anyOf": [{"required": [a, b]} for a, b in itertools.combinations(names, 2)]}})
            if cls.model_fields[members[0]].json_schema_extra.get("one_of_many_required") is True:
                all_of.append({"anyOf": [{"required": [n]} for n in names]})
        resource_type = getattr(cls, "__resource_type__", None)
        if resource_type and hasattr(cls, "has_resource_base") and cls.has_resource_base():
            props["resourceType"] = {"enum": [resource_type]}
        out = {"type": "object", "properties": props, "additionalProperties": False, "minProperties": 1}
        if required:
            out["required"] = required
        if all_of:
            out["allOf"] = all_of
        return out


def _require_codes(defs: dict, root: str, path: list[str], allowed: frozenset[str]) -> bool:
    """Restrict the code at ``path`` below definition ``root`` to ``allowed`` (a required value set, see
    ``valuesets``). The definitions along the path are copied first, so that only this path is restricted
    (``Coding.code`` under ``Condition.clinicalStatus``, not every Coding)."""
    name = root
    for i, part in enumerate(path):
        prop = defs[name]["properties"].get(part)
        if prop is None or prop is REJECT:
            return False
        holder = prop["items"] if prop.get("type") == "array" else prop
        if i == len(path) - 1:
            holder["enum"] = sorted(allowed)
            return True
        ref = holder.get("$ref")
        if not ref:
            return False
        copy_name = f"{name}.{part}"
        defs[copy_name] = {**defs[ref.rpartition("/")[2]]}
        defs[copy_name]["properties"] = {k: dict(v) if isinstance(v, dict) else v
                                         for k, v in defs[copy_name]["properties"].items()}
        for k, v in defs[copy_name]["properties"].items():
            if v.get("type") == "array" and isinstance(v.get("items"), dict):
                v["items"] = dict(v["items"])
        defs[name]["properties"][part] = dict(prop)
        target = defs[name]["properties"][part]
        if target.get("type") == "array":
            target["items"] = {**target["items"], "$ref": f"#/definitions/{copy_name}"}
        else:
            target["$ref"] = f"#/definitions/{copy_name}"
        name = copy_name
    return False


@cache
def schema(resource_type: str) -> dict:
    """The tier-1 JSON Schema of a resource type (definitions of every element type it reaches), with the
    required value sets of ``valuesets`` as enums: what tier 1 accepts needs no binding check either."""
    from rhip.fhir.validation import model_class
    from rhip.fhir.valuesets import REQUIRED

    b = _Builder()
    root = b.ref(model_class(resource_type))
    defs = b.defs
    root_name = root["$ref"].rpartition("/")[2]
    defs[root_name] = {**defs[root_name], "properties": dict(defs[root_name]["properties"])}
    _BINDINGS_IN_SCHEMA[resource_type] = all(
        _require_codes(defs, root_name, path.split("."), allowed)
        for (rtype, path), allowed in REQUIRED.items() if rtype == resource_type)
    return {"$schema": "http://json-schema.org/draft-04/schema#", **defs[root_name], "definitions": defs}


_BINDINGS_IN_SCHEMA: dict[str, bool] = {}


def covers_bindings(resource_type: str) -> bool:
    """Does tier 1 check every required value set of this type (so that what it accepts needs no
    ``valuesets.check_required_bindings``)? False when a path could not be followed in the schema."""
    schema(resource_type)
    return _BINDINGS_IN_SCHEMA[resource_type]


@cache
def _validator(resource_type: str):
    return jsonschema_rs.Draft4Validator(schema(resource_type), formats=_formats(), validate_formats=True)


def warm() -> None:
    """Build the validator of every type the API writes (the server does this at start-up)."""
    from rhip.fhir.mappers import MAPPERS

    for resource_type in MAPPERS:
        _validator(resource_type)


def accepts(data: dict, resource_type: str) -> bool:
    """True when the resource certainly passes ``fhir.resources`` validation (and needs none of its
    coercions) and every code bound to a required value set is in it; False means only: ask tier 2."""
    try:
        return _validator(resource_type).is_valid(data)
    except (ValueError, OverflowError, TypeError):  # e.g. an integer beyond 64 bits: tier 2 says what is wrong
        return False
