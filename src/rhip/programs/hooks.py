"""Programmes react to changed facts: automatic enrolments are recomputed for the residents concerned, in the
same transaction as the write that changed them (see ``kit.events``); and to a merge of two registrations of
one person: the merged record's duplicate enrolments end."""

from __future__ import annotations

from rhip.kit import events


def _facts_changed(s, who, resident_ids: list[int]) -> None:
    from rhip.programs.enrollment import recompute

    recompute(s, who, sorted(set(resident_ids)))


def _merged(s, who, survivor_id: int, merged_id: int) -> None:
    from rhip.programs.enrollment import on_merge

    on_merge(s, who, survivor_id, merged_id)


events.subscribe(events.FACTS_CHANGED, _facts_changed)
events.subscribe(events.REGISTRATIONS_MERGED, _merged)
