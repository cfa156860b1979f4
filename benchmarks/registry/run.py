"""Benchmark: resident search latency through the HTTP API over the demo county.

    python benchmarks/registry/run.py [--residents 280000] [--requests 1000] [--database-url URL] [--backend sqlite|postgresql|both]

Generates the county into a fresh database (or uses --database-url), starts `rhip serve` (uvicorn, one
worker) on a loopback port, and times sequential keep-alive requests from this process: search by ID number
and by exact name as an administrator (whole county) and as a village doctor (scope = the team's villages).
Every request is a real one: authentication, scope, the query, the audit rows, the JSON.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import Server, fresh_pg_database, machine, percentile  # noqa: E402


def prepare(url: str, residents: int, seed: int) -> tuple[dict, list[str], list[str], list[str]]:
    from sqlalchemy import func, select

    from rhip.kit.db import Database
    from rhip.kit.migrate import upgrade
    from rhip.registry.models import Resident, TeamMember
    from rhip.security import repository as srepo
    from rhip.security import service as sec
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    upgrade(url)
    db = Database(url)
    run(db, get_profile("demo", residents), seed)
    tokens = {}
    with db.unit_of_work() as s:
        doc = s.scalar(select(TeamMember.practitioner_id).where(TeamMember.role == "village_doctor").limit(1))
        for name, role, kw in (("bench_admin", "administrator", {}),
                               ("bench_vdoc", "village_doctor", {"practitioner_id": doc})):
            if srepo.user_by_username(s, name) is None:
                sec.create_user(s, username=name, display_name=name, role=role, password="Bench-Passw0rd!", **kw)
            tokens[name] = sec.create_token(s, name, "bench")[0]
        vdoc_scope = sec.principal_for(s, srepo.user_by_username(s, "bench_vdoc"), channel="api", client_addr=None).scope
        rng = random.Random(seed)
        n = s.scalar(select(func.count()).select_from(Resident))
        ids = [r for r in s.scalars(select(Resident.id_number).where(Resident.id_number.is_not(None))
                                    .where(Resident.id % 97 == 0).limit(5000))]
        names = list(s.scalars(select(Resident.name).where(Resident.id % 89 == 0).limit(5000)))
        villages = sorted(vdoc_scope.prefixes)
        vnames = list(s.scalars(select(Resident.name).where(Resident.village_code.in_(villages)).limit(5000)))
    db.dispose()
    return tokens, rng.sample(ids, min(len(ids), 2000)), rng.sample(names, min(len(names), 2000)), vnames, n


def timed(client: httpx.Client, token: str, params_list: list[dict], warmup: int = 50) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    for p in params_list[:warmup]:
        client.get("/api/residents", params=p, headers=headers).raise_for_status()
    out = []
    for p in params_list[warmup:]:
        t0 = time.perf_counter()
        r = client.get("/api/residents", params=p, headers=headers)
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def bench(url: str, label: str, residents: int, requests: int, seed: int) -> None:
    tokens, ids, names, vnames, n = prepare(url, residents, seed)
    with Server(url) as server, httpx.Client(base_url=server.base, timeout=30) as client:
        rng = random.Random(seed)
        k = requests + 50
        cases = [
            ("admin · by ID number", tokens["bench_admin"], [{"id_number": rng.choice(ids)} for _ in range(k)], 10),
            ("admin · by name", tokens["bench_admin"], [{"name": rng.choice(names)} for _ in range(k)], 30),
            ("village doctor · by name", tokens["bench_vdoc"], [{"name": rng.choice(vnames)} for _ in range(k)], 30),
        ]
        for title, token, params, goal in cases:
            lat = timed(client, token, params)
            p95 = percentile(lat, 95)
            print(f"{label:<11}{title:<28}{len(lat):>6}{percentile(lat, 50):>8.2f}{p95:>8.2f}"
                  f"{percentile(lat, 99):>8.2f}   goal p95 < {goal} ms {'✓' if p95 < goal else '✗'}", flush=True)
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=280_000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--database-url")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    print(f"benchmark registry · {machine()} · demo county, {args.residents:,} usual residents · "
          f"sequential keep-alive HTTP requests, 50 warm-up each")
    print(f"{'backend':<11}{'case':<28}{'n':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    targets = []
    if args.database_url:
        targets.append((args.database_url.split(":")[0], args.database_url))
    else:
        if args.backend in ("sqlite", "both"):
            targets.append(("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='rhip-bench-')}/rhip.db"))
        if args.backend in ("postgresql", "both"):
            targets.append(("postgresql", fresh_pg_database(os.environ["RHIP_TEST_PG_URL"])))
    for label, url in targets:
        n = bench(url, label, args.residents, args.requests, args.seed)
        print(f"{label:<11}(resident rows in the database: {n:,})")


if __name__ == "__main__":
    main()
