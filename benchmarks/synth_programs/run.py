"""Benchmark: the synthetic county's 'programs' stage on its own (SQLite).

    python benchmarks/synth_programs/run.py [--residents 20000] [--repeat 2] [--seed 42] [--base FILE]

1. Generate the stages the programs stage needs (structure, people, clinical, mpi) once into a SQLite file
   (or reuse ``--base``, a file made by an earlier run with the same residents and seed).
2. ``--repeat`` times: copy that file and run the programs stage alone in a fresh child process; report its
   wall time, the CPU time of the stage's process and its worker processes (user + sys), the stage's own
   timings (generate, load, load + index) and the rows written. CPU time is the steadier figure when other
   work shares the machine; both are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import machine  # noqa: E402


def child(path: str, residents: int, seed: int, stages: list[str]) -> None:
    import resource
    import time

    from rhip.kit.db import Database
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    t0 = time.perf_counter()
    results = run(Database(f"sqlite:///{path}"), get_profile("demo", residents), seed, stages=stages)
    wall = time.perf_counter() - t0
    ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    r = results[-1]
    print(json.dumps({"wall_s": round(wall, 1), "cpu_s": round(ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime, 1),
                      "workers_cpu_s": round(rc.ru_utime + rc.ru_stime, 1), "rows": r.rows,
                      "stats": {k: v for k, v in (r.stats or {}).items() if isinstance(v, (int, float))}}))


def _run_child(path: Path, residents: int, seed: int, stages: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), "--residents", str(residents),
                          "--seed", str(seed), "--stages", ",".join(stages)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--base", type=Path, help="a SQLite file with the stages before 'programs' (reused, copied)")
    ap.add_argument("--child")
    ap.add_argument("--stages")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.residents, a.seed, a.stages.split(","))
        return
    from rhip.kit.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="rhip-bench-synth-programs-") as tmp:
        base = a.base
        if base is None or not base.exists():
            base = base or Path(tmp) / "base.db"
            upgrade(f"sqlite:///{base}")
            before = _run_child(base, a.residents, a.seed, ["structure", "people", "clinical", "mpi"])
            print(f"county up to the mpi stage: {before['wall_s']} s ({base})")
        print(f"programs stage, {a.residents:,} usual residents, seed {a.seed}, SQLite; {machine()}")
        print(f"{'run':>3} {'wall s':>7} {'CPU s':>6} {'workers CPU s':>14} {'rows':>9}  stage timings")
        for i in range(a.repeat):
            copy = Path(tmp) / f"run{i}.db"
            shutil.copy(base, copy)
            r = _run_child(copy, a.residents, a.seed, ["programs"])
            timings = {k: v for k, v in r["stats"].items() if k.endswith("_s")}
            print(f"{i + 1:>3} {r['wall_s']:>7} {r['cpu_s']:>6} {r['workers_cpu_s']:>14} {r['rows']:>9,}  {timings}")
            copy.unlink()


if __name__ == "__main__":
    main()
