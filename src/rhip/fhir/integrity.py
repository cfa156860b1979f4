"""A write the database refuses although the checks before it passed — in practice another request stored the
same source record (identifier system + value) between this request's lookup and its insert — becomes a 409
OperationOutcome naming the resource (or, in a transaction Bundle, the entries), instead of a 500. Nothing of
the request is written: the whole transaction is rolled back.

The constraint is read from the driver's error: PostgreSQL reports the table and constraint
(``diag.table_name``, ``diag.constraint_name``), SQLite only a message (``UNIQUE constraint failed:
observation.source_system, observation.source_id``, ``FOREIGN KEY constraint failed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rhip.fhir.errors import FhirError, Issue
from rhip.kit.db import SQLITE_BEGIN
from rhip.records import repository as records_repo

TYPE_OF_TABLE = {model.__tablename__: rtype for rtype, model in records_repo.MODELS.items()} | {
    "resident": "Patient", "observation_component": "Observation", "diagnostic_report_result": "DiagnosticReport"}
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\S+)")


def _what(err: IntegrityError) -> tuple[str | None, str, bool]:
    """(table, constraint or columns, whether it is a source-identifier uniqueness) of the refused write."""
    diag = getattr(err.orig, "diag", None)
    if diag is not None and getattr(diag, "table_name", None):  # PostgreSQL (psycopg)
        name = diag.constraint_name or ""
        return diag.table_name, name, name.endswith("_source")
    text = str(err.orig)
    if m := _SQLITE_UNIQUE.search(text):
        return m.group(1), f"unique ({m.group(2).rstrip(',')} …)", "source_system" in text and "source_id" in text
    return None, text.splitlines()[0][:200], False


def refused(err: IntegrityError, rtype: str | None = None) -> FhirError:
    """The 409 for a single-resource write (the request's transaction is rolled back by its unit of work)."""
    table, constraint, source = _what(err)
    rtype = TYPE_OF_TABLE.get(table or "", rtype) or "resource"
    if source:
        text = (f"another request stored a {rtype} with the same identifier (system|value) at the same time; "
                "nothing was written — send it again and it will update that one "
                "(同一来源记录正被另一请求同时写入，本次未写入，请重新提交)")
    else:
        text = (f"the database refused the {rtype} ({constraint}): something it refers to or shares a key with "
                "changed at the same time; nothing was written (数据库约束拒绝写入，本次未写入)")
    return FhirError(409, [Issue("conflict", text, rtype if rtype != "resource" else None)])


def refused_transaction(s: Session, err: IntegrityError, entries: list[tuple[int, dict]],
                        answered: dict[int, dict]) -> FhirError:
    """The 409 for a transaction Bundle (whose unit of work then rolls everything back): names the entries that
    were to create a record (not answered as an update of an existing one in ``answered``) whose source
    identifier another request has stored meanwhile — looked up on a connection of its own, as this request's
    transaction is failed — other refusals name the resource type."""
    table, _, source = _what(err)
    rtype = TYPE_OF_TABLE.get(table or "")
    if not (source and rtype in records_repo.MODELS):
        generic = refused(err, rtype)
        return FhirError(409, [Issue("conflict", generic.issues[0].diagnostics, "Bundle.entry")])
    keys: dict[tuple[str, str], list[int]] = {}
    for i, e in entries:
        url = e["request"]["url"].split("?")[0].strip("/").removeprefix("fhir/")
        if e["request"]["method"] != "POST" or url != rtype or \
                answered.get(i, {}).get("response", {}).get("status") == "200 OK":
            continue
        ident = next((x for x in e["resource"].get("identifier") or []
                      if isinstance(x, dict) and x.get("system") and x.get("value")), None)
        if ident is not None:
            keys.setdefault((ident["system"], ident["value"]), []).append(i)
    stored = {}
    if keys:
        # a read beside this request's transaction, which on SQLite holds the write lock: no BEGIN IMMEDIATE here
        with s.get_bind().connect().execution_options(**{SQLITE_BEGIN: "DEFERRED"}) as other:
            stored = records_repo.ids_by_source(other, records_repo.MODELS[rtype], list(keys))
    issues = [Issue("conflict", f"entry {i}: {rtype} {system}|{value} was stored by another request at the same "
                                f"time (as {rtype}/{stored[(system, value)]}); nothing of this Bundle was written — "
                                "send it again and this entry will update that one (同一来源记录正被另一请求同时写入)",
                    f"Bundle.entry[{i}]")
              for (system, value), idx in keys.items() if (system, value) in stored for i in idx]
    if not issues:
        generic = refused(err, rtype)
        issues = [Issue("conflict", generic.issues[0].diagnostics, "Bundle.entry")]
    return FhirError(409, issues)


@contextmanager
def as_conflict(s: Session, entries: list[tuple[int, dict]], answered: dict[int, dict]) -> Iterator[None]:
    """Around a transaction Bundle's writes: an IntegrityError becomes ``refused_transaction``'s 409."""
    try:
        yield
    except IntegrityError as err:
        raise refused_transaction(s, err, entries, answered) from None
