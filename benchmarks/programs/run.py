"""Benchmark: public-health programme worklists over the demo county.

    python benchmarks/programs/run.py [--residents 280000] [--requests 300] [--backend sqlite|postgresql|both]

1. Generate the demo county (all stages, including 'programs': enrolments, planned schedules, three years of
   follow-ups) and report the programme stage's time and size.
2. Whole county: every worklist row (all programmes, overdue + due + coming up within 30 days) as of the
   synthetic county's "today", in urgency order, read and formatted in process as ``rhip programs due`` does
   (including the audit of every resident listed). Best of 3 runs.
3. One village doctor's page: ``GET /api/worklists?org=<village>&as_of=…&page_size=50`` and the console page
   ``/console/worklist`` through a real server (uvicorn, one worker), signed in as a village doctor scoped to
   that village; sequential keep-alive requests over 20 villages after 20 warm-up requests; p50 and p95.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import Server, fresh_pg_database, machine, percentile  # noqa: E402

PASSWORD = "Bench-Passw0rd!"


def prepare(url: str, residents: int, seed: int) -> dict:
    from sqlalchemy import func, select

    from rhip.kit.db import Database
    from rhip.kit.migrate import upgrade
    from rhip.programs.models import Enrollment, FollowUp, ProgramItem
    from rhip.registry.models import Division, Resident
    from rhip.security import repository as srepo
    from rhip.security import service as sec
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    upgrade(url)
    db = Database(url)
    results = run(db, get_profile("demo", residents), seed)
    stage = next(r for r in results if r.stage == "programs")
    with db.unit_of_work() as s:
        villages = list(s.scalars(select(Division.code).where(Division.level == "village").order_by(Division.code)))
        busiest = [v for v, _ in s.execute(select(Resident.village_code, func.count()).group_by(Resident.village_code)
                                           .order_by(func.count().desc()).limit(20))]
        users = []
        for i, v in enumerate(busiest):
            name = f"bench_vdoc{i}"
            if srepo.user_by_username(s, name) is None:
                sec.create_user(s, username=name, display_name=name, role="village_doctor", password=PASSWORD,
                                division_codes=[v])
            users.append((name, v, sec.create_token(s, name, "bench")[0]))
        sizes = {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in (Enrollment, ProgramItem,
                                                                                      FollowUp)}
        n_res = s.scalar(select(func.count()).select_from(Resident))
    db.dispose()
    return {"users": users, "villages": len(villages), "residents": n_res, "sizes": sizes, "stage": stage}


def whole_county(url: str, as_of: date) -> tuple[float, int, int]:
    from rhip.kit.db import Database
    from rhip.programs import worklist as wl
    from rhip.security.service import system_principal

    db = Database(url)
    best, rows, people = float("inf"), 0, 0
    for _ in range(3):
        t0 = time.perf_counter()
        with db.unit_of_work() as s:
            q = wl.build_query(s, org=None, as_of=as_of)
            n, residents = 0, set()
            for chunk in wl.export(s, system_principal("bench"), q):
                n += len(chunk)
                residents.update(r["resident_id"] for r in chunk)
        best = min(best, time.perf_counter() - t0)
        rows, people = n, len(residents)
    db.dispose()
    return best, rows, people


def console_login(c: httpx.Client, username: str) -> None:
    r = c.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = c.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    if r.status_code not in (200, 303):
        raise SystemExit(f"console sign-in failed: {r.status_code}")


def bench(label: str, url: str, args) -> None:
    from rhip.synth.programs import Window

    t0 = time.perf_counter()
    info = prepare(url, args.residents, args.seed)
    st = info["stage"]
    print(f"{label:<11}county generated in {time.perf_counter() - t0:,.0f} s; stage programs "
          f"{'(reused) ' if st.skipped else ''}{st.seconds:,.1f} s, {st.rows:,} rows — "
          + ", ".join(f"{k} {v:,}" for k, v in info["sizes"].items()))
    from rhip.synth.profiles import get_profile

    as_of = Window.for_year(get_profile("demo").as_of_year).end + timedelta(days=3)
    secs, rows, people = whole_county(url, as_of)
    print(f"{label:<11}whole county worklist as of {as_of}: {rows:,} rows for {people:,} residents "
          f"({info['residents']:,} registered) in {secs:.2f} s (best of 3)")
    os.environ["RHIP_COOKIE_SECURE"] = "false"  # plain http on loopback: the client must send the cookie back
    with Server(url) as srv:
        lat_api, lat_console, sizes = [], [], []
        for name, village, token in info["users"]:
            with httpx.Client(base_url=srv.base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
                path = f"/api/worklists?org={village}&as_of={as_of}&page_size=50"
                for i in range(args.requests // len(info["users"]) + (2 if name.endswith("0") else 0)):
                    t = time.perf_counter()
                    r = c.get(path)
                    dt = (time.perf_counter() - t) * 1000
                    if r.status_code != 200:
                        raise SystemExit(f"worklist request failed: {r.status_code} {r.text[:200]}")
                    if i or not name.endswith("0"):
                        lat_api.append(dt)
                    sizes.append(r.json()["total"])
            with httpx.Client(base_url=srv.base, timeout=30, follow_redirects=False) as c:
                console_login(c, name)
                for i in range(max(5, args.requests // len(info["users"]) // 2)):
                    t = time.perf_counter()
                    r = c.get(f"/console/worklist?as_of={as_of}")
                    dt = (time.perf_counter() - t) * 1000
                    if r.status_code != 200:
                        raise SystemExit(f"console worklist failed: {r.status_code}")
                    if i:
                        lat_console.append(dt)
        for title, lat in (("API page (50 rows)", lat_api), ("console page (30 rows)", lat_console)):
            print(f"{label:<11}{title:<28}{len(lat):>5}{percentile(lat, 50):>8.1f}{percentile(lat, 95):>8.1f}")
        print(f"{label:<11}(village worklists: {min(sizes):,}–{max(sizes):,} rows each; {info['villages']} villages)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=280_000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--dir", default=None, help="where the SQLite database goes (default: the temp directory)")
    ap.add_argument("--database-url", default=None,
                    help="reuse this database (stages already generated there are skipped) instead of new ones")
    args = ap.parse_args()
    print(f"benchmark programs · {machine()} · demo county, {args.residents:,} usual residents")
    print(f"{'backend':<11}{'case':<28}{'n':>5}{'p50 ms':>8}{'p95 ms':>8}")
    if args.database_url:
        bench(args.database_url.split(":")[0].split("+")[0], args.database_url, args)
        return
    if args.backend in ("sqlite", "both"):
        bench("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='rhip-programs-bench-', dir=args.dir)}/rhip.db", args)
    if args.backend in ("postgresql", "both"):
        bench("postgresql", fresh_pg_database(os.environ["RHIP_TEST_PG_URL"]), args)


if __name__ == "__main__":
    main()
