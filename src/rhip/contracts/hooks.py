"""Contracts react to a merge of two registrations of one person (``kit.events``): one contract per person."""

from __future__ import annotations

from rhip.kit import events


def _merged(s, who, survivor_id: int, merged_id: int) -> None:
    from rhip.contracts.service import on_merge

    on_merge(s, who, survivor_id, merged_id)


events.subscribe(events.REGISTRATIONS_MERGED, _merged)
