"""Benchmark: family-doctor contracts over the demo county.

    python benchmarks/contracts/run.py [--residents 280000] [--database-url URL] [--backend sqlite|postgresql|both]

Generates the county (all synth stages, including "contracts") into a fresh database (or uses
--database-url holding one), then times in this process, through the services (permission, scope, audit):
the synth stage itself (as recorded), indicator facts for the whole county by township and by team, a page of
20 contracts with their fulfilment (administrator: whole county; village doctor: the team's villages), and a
full key-population classification.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import fresh_pg_database, machine, percentile  # noqa: E402


def bench(url: str, label: str, residents: int, seed: int, pages: int) -> None:
    from sqlalchemy import func, select

    from rhip.contracts import fulfilment, populations, service
    from rhip.contracts.models import Contract
    from rhip.kit.db import Database
    from rhip.kit.migrate import upgrade
    from rhip.kit.pagination import PageRequest
    from rhip.registry.models import Resident, TeamMember
    from rhip.security import service as sec
    from rhip.security.rules import PERMISSIONS, Scope
    from rhip.synth.models import SynthStage
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    upgrade(url)
    db = Database(url)
    run(db, get_profile("demo", residents), seed)
    admin = sec.system_principal("bench")
    with db.read_only() as s:
        stage = s.get(SynthStage, "contracts")
        n_res = s.scalar(select(func.count()).select_from(Resident))
        n_con = s.scalar(select(func.count()).select_from(Contract))
        doc = s.scalar(select(TeamMember.practitioner_id).where(TeamMember.role == "village_doctor").limit(1))
        villages = sec.repo.team_villages_of_practitioner(s, doc)
    vdoc = sec.Principal(None, "bench_vdoc", "village_doctor", "村医", Scope(prefixes=frozenset(villages)),
                         permissions=PERMISSIONS["village_doctor"])
    print(f"{label:<11}data: {n_res:,} resident rows, {n_con:,} contracts; synth stage contracts "
          f"{stage.rows:,} rows in {stage.seconds:.1f} s")
    on = date(get_profile("demo").as_of_year, 7, 1)
    for by in ("township", "team"):
        with db.unit_of_work() as s:
            t0 = time.perf_counter()
            rows = fulfilment.facts(s, admin, on, by=by)
            took = time.perf_counter() - t0
        print(f"{label:<11}facts by {by:<9} whole county, {len(rows)} rows: {took:.2f} s", flush=True)
    for who, title in ((admin, "administrator"), (vdoc, "village doctor")):
        lat = []
        for i in range(pages):
            with db.unit_of_work() as s:
                t0 = time.perf_counter()
                service.search(s, who, service.ContractQuery(status="active"), PageRequest(1 + i % 5, 20), on=on)
                lat.append((time.perf_counter() - t0) * 1000)
        print(f"{label:<11}contract page (20, with fulfilment) as {title:<15} n={len(lat)} "
              f"p50 {percentile(lat, 50):.1f} ms  p95 {percentile(lat, 95):.1f} ms", flush=True)
    with db.unit_of_work() as s:
        t0 = time.perf_counter()
        done = populations.refresh(s, admin, on=on, mode="full")
        took = time.perf_counter() - t0
    print(f"{label:<11}classify (full) {done['residents']:,} residents, {done['memberships']:,} memberships: "
          f"{took:.1f} s ({done['residents'] / took:,.0f} residents/s)", flush=True)
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=280_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--database-url")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    print(f"benchmark contracts · {machine()} · demo county, {args.residents:,} usual residents")
    targets = []
    if args.database_url:
        targets.append((args.database_url.split(":")[0], args.database_url))
    else:
        if args.backend in ("sqlite", "both"):
            targets.append(("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='rhip-bench-')}/rhip.db"))
        if args.backend in ("postgresql", "both"):
            targets.append(("postgresql", fresh_pg_database(os.environ["RHIP_TEST_PG_URL"])))
    for label, url in targets:
        bench(url, label, args.residents, args.seed, args.pages)


if __name__ == "__main__":
    main()
