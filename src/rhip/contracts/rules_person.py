"""One contract in force per person, not per registration (pure).

Two registrations of one person (linked to one golden person by the MPI, see ``rhip.mpi``) are one resident
for the family doctor: a registration may sign only when no other registration of the person has a contract
in force, and a registration merged into another signs nothing (the surviving registration signs). When
two registrations are merged and both have a contract in force, the merged one's contract ends
(``MERGED``); the survivor's carries on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MERGED = "merged"  # end_reason of a contract ended because its registration was merged into another
MERGED_LABEL = ("档案合并（同一人另一份档案的签约继续有效）", "registration merged (the person's other contract stays)")


@dataclass(frozen=True)
class Refusal:
    code: str
    zh: str
    en: str


def may_sign(replaced_by: int | None, others_in_force: Iterable[int]) -> Refusal | None:
    """None when this registration may sign; else why not. ``others_in_force``: the person's other
    registrations that have a contract in force."""
    if replaced_by is not None:
        return Refusal("contract.merged_registration", f"本档案已合并到档案{replaced_by}，请在该档案签约",
                       f"this registration was merged into {replaced_by}; sign on that one")
    others = sorted(set(others_in_force))
    if others:
        return Refusal("contract.person_signed", f"同一人的另一份档案（{others[0]}）已有有效签约，一人只能有一份有效签约",
                       f"registration {others[0]} of the same person already has a contract in force; one per person")
    return None


def end_on_merge(merged_in_force: bool, survivor_in_force: bool) -> bool:
    """After a merge, does the merged registration's contract end? Only when the survivor has one too (a
    person keeps the contract they have; ending the only one would leave them unsigned)."""
    return merged_in_force and survivor_in_force
