"""FHIR search parameter parsing (the parts shared by resource types): date prefixes, token system|code,
paging."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from rhip.fhir.errors import FhirError, Issue

DATE_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb", "ap")


def date_range(param: str, value: str) -> tuple[date | None, date | None]:
    """A date search value with an optional prefix → inclusive [lo, hi] on day precision.

    Supported: eq (default), lt, le, gt, ge, sa (= gt), eb (= lt) on YYYY, YYYY-MM or YYYY-MM-DD.
    ``ne`` and ``ap`` are refused (they do not narrow an index range)."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    try:
        if len(text) == 4:
            lo, hi = date(int(text), 1, 1), date(int(text), 12, 31)
        elif len(text) == 7:
            y, m = int(text[:4]), int(text[5:7])
            lo = date(y, m, 1)
            hi = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1))
        else:
            lo = hi = date.fromisoformat(text[:10])
    except ValueError:
        raise FhirError(400, [Issue("value", f"{param}={value!r}: not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD, "
                                             "optionally prefixed eq/lt/le/gt/ge/sa/eb)", param)]) from None
    if prefix == "eq":
        return lo, hi
    if prefix in ("lt", "eb"):
        return None, lo - timedelta(days=1)
    if prefix == "le":
        return None, hi
    if prefix in ("gt", "sa"):
        return hi + timedelta(days=1), None
    if prefix == "ge":
        return lo, None
    raise FhirError(400, [Issue("not-supported", f"{param}: the prefix {prefix!r} is not supported here", param)])


def token(value: str) -> tuple[str | None, str]:
    """``system|code`` → (system, code); ``code`` → (None, code); ``|code`` → ("", code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


def count_and_page(params: dict[str, list[str]], default: int = 20, maximum: int = 200) -> tuple[int, int]:
    def one_int(name: str, fallback: int, lo: int) -> int:
        vals = params.get(name)
        if not vals:
            return fallback
        try:
            v = int(vals[-1])
        except ValueError:
            raise FhirError(400, [Issue("value", f"{name} must be an integer, got {vals[-1]!r}", name)]) from None
        if v < lo:
            raise FhirError(400, [Issue("value", f"{name} must be at least {lo}", name)])
        return v
    return min(one_int("_count", default, 1), maximum), one_int("_page", 1, 1)


def searchset(rtype: str, params: dict[str, list[str]], base: str, entries: list[dict], total: int, count: int,
              page: int) -> dict:
    """A searchset Bundle with self/next/previous links (page numbers; not yet stable while data changes)."""
    flat = [(k, v) for k, vs in sorted(params.items()) if k != "_page" for v in vs]

    def link(relation: str, p: int) -> dict:
        return {"relation": relation, "url": f"{base}/{rtype}?{urlencode(flat + [('_page', str(p))])}"}

    links = [link("self", page)]
    if page * count < total:
        links.append(link("next", page + 1))
    if page > 1:
        links.append(link("previous", page - 1))
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
            "entry": [{"fullUrl": f"{base}/{rtype}/{e['id']}", "resource": e, "search": {"mode": "match"}}
                      for e in entries]}
