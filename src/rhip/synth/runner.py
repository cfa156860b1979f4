"""Runs generator stages in order. Each stage is one transaction and is recorded in ``synth_stage``.

Re-running skips the stages already done (with the same profile and seed), so an interrupted run can
simply be started again. Later parts of RHIP add stages (clinical history, contracts, referrals, …) by
appending to :data:`STAGES`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, insert, select

from rhip.kit.db import Database
from rhip.kit.dialect import analyze, bulk_load_transaction
from rhip.registry.models import Household, Resident
from rhip.synth import people, structure
from rhip.synth.models import SynthStage
from rhip.synth.profiles import Profile


class SynthError(RuntimeError):
    pass


@dataclass
class StageResult:
    stage: str
    rows: int
    seconds: float
    skipped: bool = False
    stats: dict | None = None


Progress = Callable[[str, int, int], None]  # (stage, advance, total)


def _structure(conn: Connection, profile: Profile, seed: int, progress: Progress | None) -> tuple[int, dict]:
    layout = structure.plan_layout(profile, random.Random(f"{seed}:layout"))
    rows = structure.write_structure(conn, profile, layout, random.Random(f"{seed}:structure"))
    if progress:
        progress("structure", rows, rows)
    return rows, {"townships": len(layout.townships), "villages": len(layout.villages)}


def expected_people_rows(profile: Profile) -> int:
    return round(profile.usual_residents * 1.45)


def _people(conn: Connection, profile: Profile, seed: int, progress: Progress | None) -> tuple[int, dict]:
    layout = structure.plan_layout(profile, random.Random(f"{seed}:layout"))
    total = expected_people_rows(profile)
    with _bulk_load(conn, [Resident.__table__, Household.__table__]):
        stats = people.generate(conn, profile, layout, seed,
                                progress=(lambda n: progress("people", n, total)) if progress else None)
    analyze(conn)
    return stats.rows, asdict(stats)


LOADED_TABLES = ("division", "organization", "practitioner", "practitioner_org", "team", "team_member", "team_village",
                 "household", "resident", "record_sequence")

STAGES: dict[str, Callable[[Connection, Profile, int, Progress | None], tuple[int, dict]]] = {
    "structure": _structure,
    "people": _people,
}


@contextmanager
def _bulk_load(conn: Connection, tables: list[Table]):
    """Drop the indexes of empty tables while loading and build them once at the end (much faster).

    Unique indexes are rebuilt too: building one over duplicate values fails, and the stage's transaction with it.
    """
    dropped = []
    for table in tables:
        if conn.execute(select(1).select_from(table).limit(1)).first() is None:
            for ix in sorted(table.indexes, key=lambda i: i.name):
                ix.drop(conn)
                dropped.append(ix)
    try:
        yield
    finally:
        for ix in dropped:
            ix.create(conn)


def done_stages(db: Database) -> dict[str, SynthStage]:
    with db.read_only() as s:
        return {row.stage: row for row in s.scalars(select(SynthStage))}


def run(db: Database, profile: Profile, seed: int, *, stages: list[str] | None = None,
        progress: Progress | None = None) -> list[StageResult]:
    wanted = stages or list(STAGES)
    unknown = [s for s in wanted if s not in STAGES]
    if unknown:
        raise SynthError(f"unknown stage(s) {', '.join(unknown)}; stages are: {', '.join(STAGES)}")
    done = done_stages(db)
    params = {"usual_residents": profile.usual_residents, "villages": profile.villages,
              "townships": profile.townships}
    results = []
    for name in STAGES:
        if name not in wanted:
            continue
        prev = done.get(name)
        if prev is not None:
            if prev.seed != seed or prev.profile != profile.name or json.loads(prev.params) != params:
                raise SynthError(
                    f"stage {name} was generated with profile {prev.profile}, seed {prev.seed}, {prev.params}; "
                    f"this database cannot be extended with profile {profile.name}, seed {seed}, {params}. "
                    f"Use a new database (RHIP_DATA_DIR or RHIP_DATABASE_URL).")
            results.append(StageResult(name, prev.rows, prev.seconds, skipped=True))
            continue
        if name == "people" and "structure" not in done and "structure" not in wanted:
            raise SynthError("stage people needs stage structure first")
        if name == "structure" and _has_registry_data(db):
            raise SynthError("the registry already holds data that the generator did not make; "
                             "generate into an empty database")
        t0 = time.perf_counter()
        with bulk_load_transaction(db.engine, LOADED_TABLES) as conn:
            rows, stats = STAGES[name](conn, profile, seed, progress)
            seconds = time.perf_counter() - t0
            conn.execute(insert(SynthStage).values(stage=name, profile=profile.name, seed=seed,
                                                   params=json.dumps(params), rows=rows, seconds=seconds,
                                                   completed_at=datetime.now()))
        done[name] = True
        results.append(StageResult(name, rows, time.perf_counter() - t0, stats=stats))
    return results


def _has_registry_data(db: Database) -> bool:
    from rhip.registry.models import Division

    with db.read_only() as s:
        return s.scalar(select(Division.code).limit(1)) is not None
