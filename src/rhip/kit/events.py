"""In-process notifications between domains, inside the caller's transaction.

A lower domain announces that a person's facts changed (``records`` wrote a diagnosis, ``registry`` a death
or a move); a higher domain reacts (``programs`` recomputes automatic enrolments) — without the lower domain
importing the higher one. Subscribers are named here as module paths and imported on first use, so a
notification is never lost because nobody happened to import the subscriber yet.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager

FACTS_CHANGED = "facts.changed"  # payload: resident_ids — conditions, birth date, status (death, moving out)
REGISTRATIONS_MERGED = "mpi.merged"  # payload: survivor_id, merged_id — two registrations are one person
SUBSCRIBER_MODULES = ("rhip.programs.hooks", "rhip.contracts.hooks")

_listeners: dict[str, list[Callable]] = defaultdict(list)
_loaded = False


def subscribe(topic: str, fn: Callable) -> None:
    if fn not in _listeners[topic]:
        _listeners[topic].append(fn)


_DEFERRED = "rhip.events.deferred"


def publish(s, who, topic: str, **payload) -> None:
    """Call every subscriber of ``topic`` with (session, principal, **payload), in this transaction. Inside
    ``deferred`` a notification about residents is collected instead and delivered once for all of them."""
    held = s.info.get(_DEFERRED) if hasattr(s, "info") else None
    if held is not None and set(payload) == {"resident_ids"}:
        held.setdefault((topic, id(who)), (who, set()))[1].update(payload["resident_ids"])
        return
    _deliver(s, who, topic, payload)


def _deliver(s, who, topic: str, payload: dict) -> None:
    global _loaded
    if not _loaded:
        for name in SUBSCRIBER_MODULES:
            importlib.import_module(name)
        _loaded = True
    for fn in list(_listeners.get(topic, ())):
        fn(s, who, **payload)


def deliver(s) -> None:
    """Inside ``deferred``: deliver what was collected so far (before something reads what subscribers write)."""
    held = s.info.get(_DEFERRED)
    while held:
        (topic, key), (who, ids) = next(iter(held.items()))
        del held[(topic, key)]
        _deliver(s, who, topic, {"resident_ids": sorted(ids)})


@contextmanager
def deferred(s):
    """Within the block — one transaction writing many facts, e.g. a FHIR transaction Bundle — notifications
    about residents are collected and delivered once per topic and principal, with every resident id, when
    the block succeeds (subscribers such as programme enrolment work set-based: one call for 10 residents costs
    about what one call for one resident costs). If the block fails nothing is delivered: the transaction is
    rolled back anyway."""
    if _DEFERRED in s.info:
        yield
        return
    s.info[_DEFERRED] = {}
    try:
        yield
        deliver(s)
    finally:
        s.info.pop(_DEFERRED, None)
