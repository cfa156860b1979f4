"""Benchmark: matching on write (MPI) against the demo county.

    python benchmarks/mpi/online.py [--residents 280000] [--writes 1000] [--database-url URL]

Generates the county with the 'structure', 'people' and 'mpi' stages into a fresh SQLite database (or uses
--database-url, which must already hold an indexed county), then registers ``--writes`` people through the
registry's use case (validation, numbering, audit, MPI): half are second registrations of people already in
the registry (ID number left out, as a clinic often does), half are new people. Each write runs in its own
transaction, rolled back afterwards, so the database is unchanged and every write sees the same county.

Prints p50/p95/p99 of the MPI step alone (keys, candidates, scoring, link or queue; wall clock and this
process's CPU time — SQLite runs in-process, so on a machine shared with other jobs the CPU time is the
better estimate of the unloaded latency) and of the whole registration, with the data size, the core count
and the load average; the outcomes (linked / queued / new) as a check.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import machine, percentile  # noqa: E402


def prepare(url: str, residents: int, seed: int) -> None:
    from rhip.kit.db import Database
    from rhip.kit.migrate import upgrade
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    upgrade(url)
    db = Database(url)
    t0 = time.perf_counter()
    for r in run(db, get_profile("demo", residents), seed, stages=["structure", "people", "mpi"]):
        print(f"  stage {r.stage}: {r.rows:,} rows in {r.seconds:.1f} s", flush=True)
        if r.stage == "mpi" and r.stats and r.stats.get("truth"):
            t = r.stats["truth"]
            print(f"  bulk resolution vs synth_truth: precision {t['precision']:.4f} recall {t['recall']:.4f} "
                  f"F1 {t['f1']:.4f}; {r.stats['queued']:,} pairs queued", flush=True)
    db.dispose()
    print(f"  county ready in {time.perf_counter() - t0:.0f} s", flush=True)


def writes(url: str, n: int, seed: int) -> None:
    from sqlalchemy import func, select

    import rhip.mpi.service as mpi
    from rhip.kit.db import Database
    from rhip.mpi.models import MpiBlock
    from rhip.registry import service as registry
    from rhip.registry.models import Division, Resident
    from rhip.security.service import system_principal

    db = Database(url)
    rng = random.Random(seed)
    with db.read_only() as s:
        total = s.scalar(select(func.count()).select_from(Resident))
        keys = s.scalar(select(func.count()).select_from(MpiBlock))
        villages = list(s.scalars(select(Division.code).where(Division.level == "village")))
        max_id = s.scalar(select(func.max(Resident.id)))
        min_id = s.scalar(select(func.min(Resident.id)))
        sample = []
        while len(sample) < n // 2:
            r = s.get(Resident, rng.randint(min_id, max_id))
            if r is not None and r.status == "alive":
                sample.append(r)
    surnames, given = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
    people = []
    for r in sample:  # a second registration: same person, no ID number, maybe another phone
        people.append({"name": r.name, "sex": r.sex, "birth_date": r.birth_date, "village_code":
                       r.village_code, "phone": r.phone if rng.random() < 0.7 else None})
    for _ in range(n - len(sample)):
        name = rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))
        people.append({"name": name, "sex": rng.choice("12"), "village_code": rng.choice(villages),
                       "birth_date": date(rng.randint(1940, 2020), rng.randint(1, 12), rng.randint(1, 28)),
                       "phone": f"13{rng.randint(0, 999_999_999):09d}"})
    rng.shuffle(people)
    real = mpi.on_resident_written
    mpi_ms: list[float] = []
    mpi_cpu_ms: list[float] = []
    outcomes: Counter = Counter()

    def timed(*args, **kwargs):
        t, c = time.perf_counter(), time.process_time()
        out = real(*args, **kwargs)
        mpi_ms.append((time.perf_counter() - t) * 1000)
        mpi_cpu_ms.append((time.process_time() - c) * 1000)
        outcomes[out.result + ("+queued" if out.queued else "")] += 1
        return out

    mpi.on_resident_written = timed
    who = system_principal("bench")
    whole_ms = []
    for i, data in enumerate(people):
        s = db.sessions()
        try:
            s.begin()
            t = time.perf_counter()
            registry.create_resident(s, who, dict(data), source="api")
            whole_ms.append((time.perf_counter() - t) * 1000)
        finally:
            s.rollback()
            s.close()
    mpi.on_resident_written = real
    db.dispose()
    print(f"data: {total:,} registrations, {keys:,} blocking keys ({db.dialect}); {n:,} writes "
          f"({len(sample):,} second registrations, {n - len(sample):,} new people); machine: {machine()} "
          f"(shared with other jobs)")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, ms in (("MPI match on write, wall", mpi_ms),
                      ("MPI match on write, CPU time of this process (excludes waiting for a core)", mpi_cpu_ms),
                      ("whole registration (validate, number, audit, MPI), wall", whole_ms)):
        print(f"  {label}: p50 {percentile(ms, 50):.2f} ms  p95 {percentile(ms, 95):.2f} ms  "
              f"p99 {percentile(ms, 99):.2f} ms  max {max(ms):.2f} ms")
    print(f"  outcomes: {dict(sorted(outcomes.items()))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--residents", type=int, default=None, help="usual residents (default: the demo's 280,000)")
    ap.add_argument("--writes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--database-url", default=None, help="an already generated and indexed county")
    args = ap.parse_args()
    url = args.database_url
    if url is None:
        tmp = tempfile.mkdtemp(prefix="rhip-bench-mpi-")
        url = f"sqlite:///{tmp}/rhip.db"
        print(f"generating the county into {url}", flush=True)
        prepare(url, args.residents, args.seed)
    os.environ.setdefault("RHIP_DATABASE_URL", url)
    writes(url, args.writes, args.seed)


if __name__ == "__main__":
    main()
