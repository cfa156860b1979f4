"""Stage "people": households and residents of the synthetic county.

Two phases. ``stage`` generates every partition in its own process (``synth.generate``) into staging
files, outside any transaction; ``load`` copies the staging into the database inside the stage's one
transaction (in C: INSERT … SELECT on SQLite, COPY on PostgreSQL). Memory stays flat whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from rhip.kit.dialect import bulk_insert, load_staged, reset_sequence
from rhip.registry.models import Household, Resident, VillageCounter
from rhip.synth.generate import (
    HOUSEHOLD_COLS, PARTS, RESIDENT_COLS, TRUTH_COLS, PeopleStats, iter_chunks, stage_in_child, stage_part,
)
from rhip.synth.layout import CountyLayout
from rhip.synth.models import SynthTruth
from rhip.synth.profiles import Profile


@dataclass
class Staged:
    """The people of the county, generated into one staging location per partition."""

    dialect: str
    paths: list[Path]
    record_seq: dict[str, int]
    household_seq: dict[str, int]
    stats: PeopleStats

    def attach(self) -> dict[str, Path]:
        return {f"stage{p}": path for p, path in enumerate(self.paths)} if self.dialect == "sqlite" else {}


def stage(profile: Profile, seed: int, dialect: str, workdir: Path, *, progress: Callable[[int], None] | None = None,
          chunk: int = 20_000, parallel: bool = True) -> Staged:
    """Generate every partition into staging files under ``workdir`` (no database is touched).

    ``parallel`` runs each partition in its own process; the rows are the same either way.
    """
    import multiprocessing as mp
    import queue as queue_mod

    paths = [Path(workdir) / (f"part{p}.db" if dialect == "sqlite" else f"part{p}") for p in range(PARTS)]
    results: list[tuple] = []

    def handle(item: tuple) -> None:
        if item[0] == "error":
            raise RuntimeError(f"a generator process failed:\n{item[1]}")
        if item[0] == "progress":
            if progress:
                progress(item[1])
        else:
            results.append(item)

    if not parallel:
        for p in range(PARTS):
            stage_part(profile, seed, p, dialect, paths[p], chunk, handle)
    else:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = [ctx.Process(target=stage_in_child, args=(q, profile, seed, p, dialect, paths[p], chunk), daemon=True)
                 for p in range(PARTS)]
        for proc in procs:
            proc.start()
        try:
            while len(results) < PARTS:
                try:
                    handle(q.get(timeout=5))
                except queue_mod.Empty:
                    dead = [p for p in procs if not p.is_alive() and p.exitcode != 0]
                    if dead:
                        raise RuntimeError(f"a generator process died (exit code {dead[0].exitcode})") from None
        finally:
            for proc in procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.terminate()
    record_seq: dict[str, int] = {}
    household_seq: dict[str, int] = {}
    for _, _, (records, households), _ in results:
        record_seq.update(records)
        household_seq.update(households)
    return Staged(dialect, paths, record_seq, household_seq, PeopleStats.total([r[3] for r in results]))


def load(conn: Connection, staged: Staged) -> PeopleStats:
    """Load the staging into the database inside the caller's transaction (SQLite: staging attached)."""
    written = 0
    for p, path in enumerate(staged.paths):
        for table, cols in ((Household.__table__, HOUSEHOLD_COLS), (Resident.__table__, RESIDENT_COLS),
                            (SynthTruth.__table__, TRUTH_COLS)):
            written += load_staged(conn, table, cols, path, f"stage{p}")
    bulk_insert(conn, VillageCounter.__table__, ("village_code", "next_record", "next_household"),
                [(code, n + 1, staged.household_seq[code] + 1) for code, n in sorted(staged.record_seq.items())])
    reset_sequence(conn, Resident.__table__)
    reset_sequence(conn, Household.__table__)
    staged.stats.rows = written
    return staged.stats


def _chunks_in_process(profile: Profile, layout: CountyLayout, seed: int, chunk: int) -> Iterator[tuple]:
    """Every partition's chunks, in order, in this process (for tests and small tools)."""
    for part in range(PARTS):
        yield from iter_chunks(profile, layout, seed, chunk, part)
