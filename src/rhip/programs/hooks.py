"""Programmes react to changed facts: automatic enrolments are recomputed for the residents concerned, in the
same transaction as the write that changed them (see ``kit.events``)."""

from __future__ import annotations

from rhip.kit import events


def _facts_changed(s, who, resident_ids: list[int]) -> None:
    from rhip.programs.enrollment import recompute

    recompute(s, who, sorted(set(resident_ids)))


events.subscribe(events.FACTS_CHANGED, _facts_changed)
