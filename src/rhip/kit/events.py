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

FACTS_CHANGED = "facts.changed"  # payload: resident_ids — conditions, birth date, status (death, moving out)
REGISTRATIONS_MERGED = "mpi.merged"  # payload: survivor_id, merged_id — two registrations are one person
SUBSCRIBER_MODULES = ("rhip.programs.hooks", "rhip.contracts.hooks")

_listeners: dict[str, list[Callable]] = defaultdict(list)
_loaded = False


def subscribe(topic: str, fn: Callable) -> None:
    if fn not in _listeners[topic]:
        _listeners[topic].append(fn)


def publish(s, who, topic: str, **payload) -> None:
    """Call every subscriber of ``topic`` with (session, principal, **payload), in this transaction."""
    global _loaded
    if not _loaded:
        for name in SUBSCRIBER_MODULES:
            importlib.import_module(name)
        _loaded = True
    for fn in list(_listeners.get(topic, ())):
        fn(s, who, **payload)
