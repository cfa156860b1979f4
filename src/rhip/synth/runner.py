"""Runs generator stages in order. Each stage is one transaction and is recorded in ``synth_stage``.

Re-running skips the stages already done (with the same profile and seed), so an interrupted run can
simply be started again. Later parts of RHIP add stages (clinical history, contracts, referrals, …) by
appending to :data:`STAGES`.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from rhip.kit.db import Database
from rhip.kit.dialect import analyze, bulk_load_transaction
from rhip.registry.models import Household, Resident
from rhip.synth import people, structure
from rhip.synth.layout import plan_layout
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


@dataclass(frozen=True)
class Stage:
    """A generator stage. ``prepare`` (optional) runs before the transaction and may use other processes;
    ``load`` runs inside the stage's one transaction and returns (rows written, stats)."""

    load: Callable[[Connection, Profile, int, Any, Progress | None], tuple[int, dict]]
    prepare: Callable[[Database, Profile, int, Path, Progress | None], Any] | None = None
    attach: Callable[[Any], dict[str, Path]] | None = None


def _structure(conn: Connection, profile: Profile, seed: int, _prepared, progress: Progress | None) -> tuple[int, dict]:
    layout = plan_layout(profile, random.Random(f"{seed}:layout"))
    rows = structure.write_structure(conn, profile, layout, random.Random(f"{seed}:structure"))
    if progress:
        progress("structure", rows, rows)
    return rows, {"townships": len(layout.townships), "villages": len(layout.villages)}


def expected_people_rows(profile: Profile) -> int:
    return round(profile.usual_residents * 1.27)


def _people_prepare(db: Database, profile: Profile, seed: int, workdir: Path, progress: Progress | None):
    total = expected_people_rows(profile)
    return people.stage(profile, seed, db.dialect, workdir,
                        progress=(lambda n: progress("people", n, total)) if progress else None)


def _people_load(conn: Connection, profile: Profile, seed: int, staged, progress: Progress | None) -> tuple[int, dict]:
    with _bulk_load(conn, [Resident.__table__, Household.__table__]):
        stats = people.load(conn, staged)
    analyze(conn)
    return stats.rows, asdict(stats)


LOADED_TABLES = ("division", "organization", "practitioner", "practitioner_org", "team", "team_member", "team_village",
                 "household", "resident", "village_counter", "encounter", "condition", "observation",
                 "observation_component", "immunization", "allergy_intolerance", "medication_request",
                 "medication_statement", "diagnostic_report", "diagnostic_report_result", "document_reference",
                 "mpi_link", "mpi_review", "program_enrollment", "program_item",
                 "program_followup", "program_fact", "contract", "contract_package",
                 "key_population")

def _clinical_prepare(db: Database, profile: Profile, seed: int, workdir: Path, progress: Progress | None):
    from rhip.synth import history

    total = round(profile.usual_residents * 1.25)
    return history.stage(db, profile, seed, workdir,
                         progress=(lambda n: progress("clinical", n, total)) if progress else None)


def _clinical_load(conn: Connection, profile: Profile, seed: int, staged, progress: Progress | None
                   ) -> tuple[int, dict]:
    from rhip.synth import history

    with _bulk_load(conn, list(history.TABLES)):
        rows = history.load(conn, staged)
    analyze(conn)
    return rows, asdict(staged.stats)


def _programs_prepare(db: Database, profile: Profile, seed: int, workdir: Path, progress: Progress | None):
    from rhip.synth import programs_stage

    total = expected_people_rows(profile)
    return programs_stage.stage(db, profile, seed, workdir,
                                progress=(lambda n: progress("programs", n, total)) if progress else None)


def _programs_load(conn: Connection, profile: Profile, seed: int, staged, progress: Progress | None
                   ) -> tuple[int, dict]:
    from rhip.synth import programs_stage

    t0 = time.perf_counter()
    with _bulk_load(conn, list(programs_stage.TABLES)):
        rows = programs_stage.load(conn, staged)
    staged.timings["load_and_index_s"] = round(time.perf_counter() - t0, 1)
    programs_stage.refresh_closing_dates(conn, staged)
    analyze(conn)
    return rows, asdict(staged.stats) | staged.timings


def _contracts_prepare(db: Database, profile: Profile, seed: int, workdir: Path, progress: Progress | None):
    from rhip.synth import contracts

    total = expected_people_rows(profile)
    return contracts.stage(db, profile, seed, workdir,
                           progress=(lambda n: progress("contracts", n, total)) if progress else None)


def _contracts_load(conn: Connection, profile: Profile, seed: int, staged, progress: Progress | None
                    ) -> tuple[int, dict]:
    from rhip.synth import contracts

    with _bulk_load(conn, list(contracts.TABLES)):
        rows = contracts.load(conn, staged)
    analyze(conn)
    return rows, contracts.stats_dict(staged)


STAGES: dict[str, Stage] = {
    "structure": Stage(load=_structure),
    "people": Stage(load=_people_load, prepare=_people_prepare, attach=lambda staged: staged.attach()),
    "clinical": Stage(load=_clinical_load, prepare=_clinical_prepare, attach=lambda staged: staged.attach()),
    "mpi": Stage(load=lambda *args: _mpi_load(*args)),
    "programs": Stage(load=_programs_load, prepare=_programs_prepare, attach=lambda staged: staged.attach()),
    "contracts": Stage(load=_contracts_load, prepare=_contracts_prepare, attach=lambda staged: staged.attach()),
}


def _mpi_load(*args) -> tuple[int, dict]:  # the master patient index over the loaded registry (rhip.mpi.bulk)
    from rhip.mpi.bulk import synth_stage

    return synth_stage(*args)


@contextmanager
def _bulk_load(conn: Connection, tables: list[Table]):
    """Drop the indexes (and, on PostgreSQL, the foreign keys) of empty tables while loading; build them
    once at the end, which is much faster than maintaining them row by row.

    Rebuilding is also the check: a unique index over duplicate values, or a foreign key that some row
    breaks, fails — and the stage's transaction with it. (SQLite cannot drop a foreign key; there the
    load runs with enforcement off and ``PRAGMA foreign_key_check`` before commit, see kit.dialect.)
    """
    from sqlalchemy.schema import AddConstraint, DropConstraint

    empty = [t for t in tables if conn.execute(select(1).select_from(t).limit(1)).first() is None]
    indexes = [ix for t in empty for ix in sorted(t.indexes, key=lambda i: i.name)]
    fks = [fk for t in empty for fk in t.foreign_key_constraints] if conn.dialect.name == "postgresql" else []
    for fk in fks:
        conn.execute(DropConstraint(fk))
    for ix in indexes:
        ix.drop(conn)
    yield
    for ix in indexes:
        ix.create(conn)
    for fk in fks:
        conn.execute(AddConstraint(fk))


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
        for needed in {"people": ("structure",), "clinical": ("structure", "people"),
                       "mpi": ("structure", "people"),
                       "programs": ("structure", "people", "clinical"),
                       "contracts": ("structure", "people", "clinical", "mpi")}.get(name, ()):
            if needed not in done and needed not in wanted:
                raise SynthError(f"stage {name} needs stage {needed} first")
        if name == "structure" and _has_registry_data(db):
            raise SynthError("the registry already holds data that the generator did not make; "
                             "generate into an empty database")
        t0 = time.perf_counter()
        stage = STAGES[name]
        with tempfile.TemporaryDirectory(prefix=f"rhip-synth-{name}-") as workdir:
            prepared = stage.prepare(db, profile, seed, Path(workdir), progress) if stage.prepare else None
            attach = stage.attach(prepared) if stage.attach else None
            with bulk_load_transaction(db.engine, LOADED_TABLES, attach=attach) as conn:
                rows, stats = stage.load(conn, profile, seed, prepared, progress)
                conn.execute(insert(SynthStage).values(stage=name, profile=profile.name, seed=seed,
                                                       params=json.dumps(params), rows=rows,
                                                       seconds=time.perf_counter() - t0, completed_at=datetime.now()))
        done[name] = True
        results.append(StageResult(name, rows, time.perf_counter() - t0, stats=stats))
    return results


def _has_registry_data(db: Database) -> bool:
    from rhip.registry.models import Division

    with db.read_only() as s:
        return s.scalar(select(Division.code).limit(1)) is not None
