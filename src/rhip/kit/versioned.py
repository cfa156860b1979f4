"""Versioned rule data (schedules, package catalogues): versions with an effective date, as configuration."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def dated_versions(raws: Iterable[dict]) -> list[tuple[dict, date, date | None]]:
    """Each version (a dict with ``effective_from`` and optionally ``effective_to``, ISO dates) with its first
    and last day in force, oldest first: without an ``effective_to`` a version runs to the day before the next
    one starts, and the newest one runs on."""
    ordered = sorted(raws, key=lambda v: v["effective_from"])
    out = []
    for i, raw in enumerate(ordered):
        start = date.fromisoformat(raw["effective_from"])
        end = raw.get("effective_to")
        if end is not None:
            end = date.fromisoformat(end)
        elif i + 1 < len(ordered):
            end = date.fromisoformat(ordered[i + 1]["effective_from"]) - timedelta(days=1)
        out.append((raw, start, end))
    return out
