"""Enrolment is per person, not per registration (pure).

The registry may hold two registrations of one person (a clinic and a hospital each registered them); the
master patient index links both to one golden person (``rhip.mpi``, docs/decisions/0005, 0006). Programme
care is for the person, so the enrolments one registration's facts call for are filtered here:

* a registration merged into another (its MPI link says *replaced by*) is enrolled in nothing: the person
  is managed on the surviving registration;
* a programme in which the person already has an active enrolment through another linked registration is
  not enrolled again on this one (the enrolment that exists first keeps the person; the one skipped is
  reported with the registration that holds it).
Registrations the MPI has not linked are, as far as the platform can know, different people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rhip.programs.rules_enrollment import Desired

LINKED = "linked_registration"
MERGED = "merged"


@dataclass(frozen=True)
class HeldElsewhere:
    """An active enrolment of the same person through another registration."""

    program: str
    resident_id: int
    enrollment_id: int | None = None  # None: decided earlier in the same batch, not written yet


@dataclass(frozen=True)
class NotEnrolled:
    """An enrolment the facts call for that is not made, and why."""

    program: str
    source_ref: str | None
    via_resident_id: int
    code: str  # LINKED or MERGED
    reason_zh: str
    reason_en: str


def per_person(desired: Iterable[Desired], held_elsewhere: Iterable[HeldElsewhere], *,
               replaced_by: int | None = None) -> tuple[list[Desired], list[NotEnrolled]]:
    """Split ``desired`` (one registration's enrolments) into those to make and those not to make."""
    keep: list[Desired] = []
    skipped: list[NotEnrolled] = []
    held: dict[str, HeldElsewhere] = {}
    for h in held_elsewhere:
        held.setdefault(h.program, h)
    for d in desired:
        if replaced_by is not None:
            skipped.append(NotEnrolled(d.program, d.source_ref, replaced_by, MERGED,
                                       f"本档案已合并到档案{replaced_by}，在该档案管理",
                                       f"this registration was merged into {replaced_by}; managed there"))
        elif d.program in held:
            via = held[d.program].resident_id
            skipped.append(NotEnrolled(d.program, d.source_ref, via, LINKED,
                                       f"同一人的另一份档案（{via}）已纳入该项目管理，不重复纳入",
                                       f"already enrolled through registration {via} of the same person"))
        else:
            keep.append(d)
    return keep, skipped
