"""History of a whole type (``GET /fhir/{type}/_history``) and the ``_since`` filter shared with instance history.

Every version of every resource of the type that the user may see (the patient within their scope), newest
first: the live rows (each resource's current version) and the versions ``resource_history`` keeps (superseded
versions and deletions), ordered by (lastUpdated, id, version), descending. A page is one query: each source
reads its ``ix_…_updated`` index newest first (from the cursor) and stops after the page, and the two short lists
are merged (UNION ALL, decision 0012); ``total`` is counted per source. Paged like
searches: by default a ``next`` link carries the last entry's (lastUpdated, id, version) as ``_after`` (keyset:
a page stays the same while versions are added); ``_page`` gives numbered pages. ``_since`` (an instant) keeps
the versions made at or after it. One audit event per page (``<type>.history``) naming every patient on it.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import and_, exists, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from rhip.fhir import history, service
from rhip.fhir.errors import FhirError, Issue
from rhip.fhir.mappers.common import instant
from rhip.fhir.mappers.patient import PatientMapper
from rhip.fhir.models import ResourceHistory as H
from rhip.fhir.search import count_and_page
from rhip.kit import clock
from rhip.records import repository as records_repo
from rhip.registry.models import Resident
from rhip.registry.repository import scope_filter
from rhip.security.service import Principal, audit

PARAMS = ("_count", "_page", "_since", "_after", "_total", "_format")
STATUS = {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}


def since(params: dict[str, list[str]]) -> datetime | None:
    """``_since`` as a naive platform-local datetime (as stored), or None. An instant needs its offset; a bare
    date means its midnight on the platform's clock."""
    values = params.get("_since")
    if not values:
        return None
    text = values[-1]
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(400, [Issue("value", f"_since={text!r} is not an instant (e.g. 2026-03-01T08:00:00+08:00)",
                                    "_since")]) from None
    return clock.to_platform(value) if value.tzinfo else value


def _cursor(text: str) -> tuple[datetime, int, int]:
    at, _, rest = text.rpartition("~")
    at, _, rid = at.rpartition("~")
    try:
        return datetime.fromisoformat(at), int(rid), int(rest)
    except ValueError:
        raise FhirError(400, [Issue("value", f"_after={text!r} is not a paging cursor from this server",
                                    "_after")]) from None


def _scope(s: Session, who: Principal):
    """The scope's filter on residents, or None when it takes no one out: everything, or a scope covering every
    registered resident (a county's users on the county's platform). Then neither the page nor the count joins
    resident. Village codes are ordered: when the smallest and the largest both begin with one of the scope's
    prefixes, every code between them does (two index look-ups)."""
    sf = scope_filter(who.scope)
    if sf is None:
        return None
    lo = s.scalar(select(func.min(Resident.village_code)))
    hi = s.scalar(select(func.max(Resident.village_code)))
    if lo is not None and any(lo.startswith(p) and hi.startswith(p) for p in who.scope.prefixes):
        return None
    return sf


def _branches(rtype: str, who: Principal, sf, since_: datetime | None, test: str = "resident"):
    """The two sources of versions of the type in the user's scope (``sf``: see ``_scope``), as (select, key,
    version): the live rows (each resource's current version) and the versions ``resource_history`` keeps. Each
    selects (stored, rid, vid, at, resident_id); ``key`` orders it completely and is the leading part of an index
    of its table; ``version`` is the live rows' version column, not in their key (None for the stored versions).

    ``test``, how the scope test is written (for SQLite's planner, which otherwise reads the scope's residents'
    rows by resident_id and sorts them all rather than reading ix_<table>_updated newest first): "resident"
    (``resident_id IN (the scope's residents)``), "in" (the same on ``resident_id + 0``, which it cannot look
    up in an index) or "exists" (each row's resident looked up, for a page: no list of the scope's residents
    is built)."""
    in_scope = select(Resident.id).where(sf) if sf is not None else None
    if rtype == "Patient":
        model, resident = Resident, Resident.id
    else:
        model = records_repo.MODELS[rtype]
        resident = model.resident_id
    live = select(literal(0).label("stored"), model.id.label("rid"), model.version.label("vid"),
                  model.updated_at.label("at"), resident.label("resident_id"))
    stored = select(literal(1).label("stored"), H.resource_id.label("rid"), H.version_id.label("vid"),
                    H.last_updated.label("at"), H.resident_id.label("resident_id")).where(H.resource_type == rtype)
    if sf is not None and rtype == "Patient":
        live = live.where(sf if test == "resident" else scope_filter(who.scope, Resident.village_code + ""))
    elif sf is not None:
        live = live.where(exists().where(Resident.id == model.resident_id, sf) if test == "exists" else
                          (model.resident_id + 0 if test == "in" else model.resident_id).in_(in_scope))
    if sf is not None:
        stored = stored.where(exists().where(Resident.id == H.resident_id, sf) if test == "exists" else
                              H.resident_id.in_(in_scope))
    if since_ is not None:
        live = live.where(model.updated_at >= since_)
        stored = stored.where(H.last_updated >= since_)
    # a live row's id is unique: (updated_at, id) orders its table completely (ix_<table>_updated)
    return ((live, (model.updated_at, model.id), model.version),
            (stored, (H.last_updated, H.resource_id, H.version_id), None))


def _wide(who: Principal) -> bool:
    """Whether the scope is wider than a few villages (a township, the county, everything): its newest versions
    are then found soonest by reading the type's index newest first and skipping the rows of other villages. A
    village scope's rows are fewer: read them by resident and sort them."""
    return who.scope.everything or any(len(p) < 12 for p in who.scope.prefixes)


def _before(key: tuple, vid, after: tuple[datetime, int, int]):
    """Rows older than the cursor (lastUpdated, id, version) in the newest-first order. Written as a row-value
    range on the branch's index key (so the scan starts at the cursor) plus, for the live rows, whose key has no
    version, the exact test of the version when lastUpdated and id are the cursor's."""
    at, rid, vid_ = after
    if vid is None:
        return tuple_(*key) < (at, rid, vid_)
    return and_(tuple_(*key) <= (at, rid), or_(tuple_(*key) < (at, rid), vid < vid_))


def _page(s: Session, rtype: str, who: Principal, sf, since_: datetime | None, after: tuple | None, offset: int,
          limit: int) -> list:
    """``limit`` versions from ``offset`` (newest first, older than ``after`` when given). Each source stops
    after ``offset + limit`` rows read in its index's order; the two short lists are then merged."""
    parts = []
    test = "exists" if _sqlite(s) and _wide(who) else "resident"
    for q, key, vid in _branches(rtype, who, sf, since_, test):
        if after is not None:
            q = q.where(_before(key, vid, after))
        parts.append(select(q.order_by(*(c.desc() for c in key)).limit(offset + limit).subquery()))
    v = union_all(*parts).subquery("versions")
    q = select(v.c.stored, v.c.rid, v.c.vid, v.c.at, v.c.resident_id).order_by(v.c.at.desc(), v.c.rid.desc(),
                                                                               v.c.vid.desc())
    return s.execute(q.offset(offset).limit(limit)).all()


def _total(s: Session, rtype: str, who: Principal, sf, since_: datetime | None) -> int:
    """How many versions there are, counted per source. Without ``_since`` SQLite counts the scope's rows fastest
    by resident (ix_<table>_resident_…); with it, in the time range of ix_<table>_updated (which holds resident_id:
    neither reads the table)."""
    test = "in" if _sqlite(s) and _wide(who) and since_ is not None else "resident"
    return sum(s.scalar(select(func.count()).select_from(q.subquery()))
               for q, _, _ in _branches(rtype, who, sf, since_, test))


def _sqlite(s: Session) -> bool:
    return s.get_bind().dialect.name == "sqlite"


def type_history(s: Session, who: Principal, rtype: str, params: dict[str, list[str]], base: str) -> dict:
    unknown = sorted(k for k in params if k not in PARAMS)
    if unknown:
        raise FhirError(400, [Issue("not-supported", f"history parameter {k!r} is not supported (only "
                                                     f"{', '.join(p for p in PARAMS if p != '_format')})", k)
                              for k in unknown])
    who.require("resident.read")
    count, page = count_and_page(params)
    numbered = "_page" in params
    after = _cursor(params["_after"][-1]) if params.get("_after") and not numbered else None
    t0 = since(params)
    sf = _scope(s, who)
    total = _total(s, rtype, who, sf, t0) if _wants_total(params) else None
    rows = _page(s, rtype, who, sf, t0, after, (page - 1) * count if numbered else 0, count + 1)
    more = len(rows) > count
    rows = rows[:count]
    entries = _entries(s, rtype, rows, base)
    audit(s, who, f"{rtype.lower()}.history", resident_ids=sorted({r.resident_id for r in rows}),
          detail={"type": rtype, "count": len(rows), "total": total,
                  **({"since": t0.isoformat()} if t0 else {})})

    flat = [(k, x) for k, xs in sorted(params.items()) if k not in ("_after", "_page") for x in xs]

    def link(relation: str, extra: list[tuple[str, str]]) -> dict:
        return {"relation": relation, "url": f"{base}/{rtype}/_history?{urlencode(flat + extra)}"}

    if numbered:
        links = [link("self", [("_page", str(page))])] + (
            [link("next", [("_page", str(page + 1))])] if more else []) + (
            [link("previous", [("_page", str(page - 1))])] if page > 1 else [])
    else:
        links = [link("self", [("_after", params["_after"][-1])] if after else [])]
        if more:
            last = rows[-1]
            links.append(link("next", [("_after", f"{last.at.isoformat()}~{last.rid}~{last.vid}")]))
    return {"resourceType": "Bundle", "type": "history", **({"total": total} if total is not None else {}),
            "link": links, "entry": entries}


def _wants_total(params: dict[str, list[str]]) -> bool:
    """``_total`` (FHIR search): ``accurate`` (the default) counts every version in scope; ``none`` leaves
    ``Bundle.total`` out, which spares a count over the whole type (most of a county-wide page's time)."""
    value = (params.get("_total") or ["accurate"])[-1]
    if value not in ("none", "accurate"):
        raise FhirError(400, [Issue("not-supported", f"_total={value!r}: history takes 'none' or 'accurate'",
                                    "_total")])
    return value == "accurate"


def _entries(s: Session, rtype: str, rows: list, base: str) -> list[dict]:
    live_ids = [r.rid for r in rows if not r.stored]
    if rtype == "Patient":
        live = {r.id: PatientMapper.to_fhir(r) for r in s.scalars(select(Resident).where(Resident.id.in_(live_ids)))} \
            if live_ids else {}
    else:
        model = records_repo.MODELS[rtype]
        found = list(s.scalars(select(model).where(model.id.in_(live_ids)))) if live_ids else []
        live = {int(res["id"]): res for res in service._record_out(s, rtype, found)}
    keys = [(r.rid, r.vid) for r in rows if r.stored]
    stored = {(h.resource_id, h.version_id): h for h in s.scalars(
        select(H).where(H.resource_type == rtype, tuple_(H.resource_id, H.version_id).in_(keys)))} if keys else {}
    out = []
    for r in rows:
        url = f"{base}/{rtype}/{r.rid}"
        if not r.stored:
            res = live[r.rid]
            method = "POST" if r.vid == 1 else "PUT"
            out.append({"fullUrl": url, "resource": res,
                        "request": {"method": method, "url": rtype if method == "POST" else f"{rtype}/{r.rid}"},
                        "response": {"status": STATUS[method], "etag": f'W/"{r.vid}"',
                                     "lastModified": res["meta"]["lastUpdated"]}})
            continue
        h = stored[(r.rid, r.vid)]
        e = {"fullUrl": url, "request": {"method": h.method, "url": rtype if h.method == "POST" else f"{rtype}/{r.rid}"},
             "response": {"status": STATUS[h.method], "etag": f'W/"{h.version_id}"',
                          "lastModified": instant(h.last_updated)}}
        if h.resource is not None:
            e["resource"] = history.as_resource(h)
        out.append(e)
    return out
