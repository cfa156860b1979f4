"""Benchmark: synthetic county generation throughput and memory.

    python benchmarks/synth/run.py [--residents 280000] [--large 1000000 2000000] [--skip-pg]

Each measurement runs in a fresh child process (migrate + `synth` stages structure and people) so that peak
memory (ru_maxrss) belongs to that run alone. Residents/s counts every resident row written (usual residents,
people away, deceased, moved out, second registrations), with their households, in the stage's transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import fresh_pg_database, machine  # noqa: E402


def child(url: str, residents: int, seed: int) -> None:
    from sqlalchemy import func, select

    from rhip.kit.db import Database
    from rhip.kit.migrate import upgrade
    from rhip.registry.models import Household, Resident
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    upgrade(url)
    db = Database(url)
    profile = get_profile("demo", residents)
    t0 = time.perf_counter()
    results = run(db, profile, seed)
    seconds = time.perf_counter() - t0
    with db.read_only() as s:
        n_res = s.scalar(select(func.count()).select_from(Resident))
        n_hh = s.scalar(select(func.count()).select_from(Household))
    people = next(r for r in results if r.stage == "people")
    clinical = next(r for r in results if r.stage == "clinical")
    print(json.dumps({"seconds": seconds, "people_seconds": people.seconds, "residents": n_res, "households": n_hh,
                      "usual": people.stats["usual"], "elderly65_usual": people.stats["elderly65_usual"],
                      "clinical_rows": clinical.rows, "clinical_seconds": clinical.seconds,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "workers_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def measure(backend: str, residents: int, seed: int) -> dict:
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix="rhip-bench-")
        url = f"sqlite:///{tmp}/rhip.db"
    else:
        url = fresh_pg_database(os.environ["RHIP_TEST_PG_URL"])
    proc = subprocess.run([sys.executable, __file__, "--child", url, "--residents", str(residents), "--seed", str(seed)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=280_000)
    ap.add_argument("--large", type=int, nargs="*", default=[1_000_000, 2_000_000],
                    help="sizes for the memory check (SQLite)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.residents, args.seed)
        return
    print(f"benchmark synth · {machine()} · profile demo · seed {args.seed}")
    print(f"{'backend':<11}{'usual res.':>11}{'resident rows':>15}{'households':>12}{'people s':>10}"
          f"{'rows/s':>10}{'65+ share':>10}{'clin. rows':>12}{'clin. s':>8}{'peak MB':>9}{'worker MB':>10}")
    runs = [("sqlite", args.residents)] + ([] if args.skip_pg else [("postgresql", args.residents)])
    runs += [("sqlite", n) for n in args.large]
    for backend, n in runs:
        m = measure(backend, n, args.seed)
        rate = m["residents"] / m["people_seconds"]
        print(f"{backend:<11}{m['usual']:>11,}{m['residents']:>15,}{m['households']:>12,}{m['people_seconds']:>10.1f}"
              f"{rate:>10,.0f}{m['elderly65_usual'] / m['usual']:>10.1%}{m['clinical_rows']:>12,}"
              f"{m['clinical_seconds']:>8.1f}{m['maxrss_mb']:>9.0f}"
              f"{m['workers_maxrss_mb']:>10.0f}", flush=True)
    print("goal: ≥ 50,000 residents/s (with households and writes); flat peak memory from 280k to 1M residents")
    print("peak MB: the writing process (SQLite's page cache for the load is capped at 16 MiB); worker MB: the")
    print("largest generator process. rows/s counts every resident row: usual residents, people away, deceased,")
    print("moved out and second registrations.")


if __name__ == "__main__":
    main()
