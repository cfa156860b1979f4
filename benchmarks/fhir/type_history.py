"""Benchmark: ``GET /fhir/Observation/_history`` (type history) on a generated county.

    python benchmarks/fhir/type_history.py --database-url sqlite:////tmp/x/rhip.db [--requests 40] [--edits 400]

The database must hold a county (``rhip migrate && rhip synth --residents 20000``). Once, the script adds two
users (county scope: a commission manager of the county; village scope: one of the same role for two villages)
and supersedes and deletes ``--edits`` observations through the API (so that ``resource_history`` has versions
to merge with the live rows). Then, through a real server (uvicorn, one worker), it times the first page and the
5th page (following ``next`` links, ``_after`` cursors) with the default ``_count``, with and without ``_since``,
for both users, and prints p50/p95 latency and the server's CPU time per request.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import Server, machine, percentile  # noqa: E402

PASSWORD = "Bench-Passw0rd!"


def users(url: str) -> dict[str, str]:
    """Bearer tokens of the county-scoped and the village-scoped reader and of a writer (created on first use)."""
    from sqlalchemy import func, select

    from rhip.kit.db import Database
    from rhip.registry.models import Division, Resident
    from rhip.security import repository as srepo
    from rhip.security import service as sec

    db = Database(url)
    with db.unit_of_work() as s:
        county = s.scalar(select(Division.code).where(Division.level == "county").order_by(Division.code).limit(1))
        # the two villages with the most residents: the busiest village doctor's view
        villages = [v for v, _ in s.execute(select(Resident.village_code, func.count()).group_by(Resident.village_code)
                                            .order_by(func.count().desc(), Resident.village_code).limit(2))]
        for key, role, codes in (("county", "commission_manager", [county]),
                                 ("village", "commission_manager", villages), ("writer", "administrator", [])):
            if srepo.user_by_username(s, f"bench_hist_{key}") is None:
                sec.create_user(s, username=f"bench_hist_{key}", display_name=key, role=role, password=PASSWORD,
                                division_codes=codes)
        tokens = {key: sec.create_token(s, f"bench_hist_{key}", "bench")[0] for key in ("county", "village", "writer")}
    db.dispose()
    return tokens


def edit(client: httpx.Client, headers: dict, url: str, n: int) -> None:
    """Supersede ``n`` observations (a PUT each) and delete a tenth of them (those no report cites), once per
    database (an interrupted run is completed)."""
    from sqlalchemy import func, select

    from rhip.fhir.models import ResourceHistory
    from rhip.kit.db import Database
    from rhip.records.models import Observation

    db = Database(url)
    with db.unit_of_work() as s:
        done = s.scalar(select(func.count()).select_from(ResourceHistory))
        step = max(1, s.scalar(select(func.count()).select_from(Observation)) // max(n, 1))
        ids = [] if done >= n else list(s.scalars(
            select(Observation.id).where(Observation.id % step == 0, Observation.version == 1)
            .order_by(Observation.id).limit(n - done)))
    db.dispose()
    h = {**headers, "Content-Type": "application/fhir+json"}
    for k, oid in enumerate(ids):
        res = client.get(f"/fhir/Observation/{oid}", headers=h).json()
        res.setdefault("note", []).append({"text": "复核"})
        r = client.put(f"/fhir/Observation/{oid}", json=res, headers=h)
        if r.status_code != 200:
            raise SystemExit(f"PUT failed: {r.status_code} {r.text[:400]}")
        if k % 10 == 0:
            r = client.delete(f"/fhir/Observation/{oid}", headers=h)
            if r.status_code not in (204, 409):  # 409: a DiagnosticReport cites it
                raise SystemExit(f"DELETE failed: {r.status_code} {r.text[:400]}")


def path_of(link: str) -> str:
    u = urlsplit(link)
    return f"{u.path}?{u.query}"


def fifth_page(client: httpx.Client, headers: dict, first: str) -> str:
    """The path of the 5th page, following ``next`` links from ``first``."""
    path = first
    for _ in range(4):
        b = client.get(path, headers=headers).json()
        path = path_of(next(x["url"] for x in b["link"] if x["relation"] == "next"))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--edits", type=int, default=400)
    ap.add_argument("--since", default="2025-01-01T00:00:00+08:00", help="the _since of the _since cases")
    ap.add_argument("--only", default="", help="only the cases whose title contains each of these words "
                                              "(comma-separated), e.g. 'county,1st' (slow runs before migration 0011)")
    args = ap.parse_args()
    tokens = users(args.database_url)
    from sqlalchemy import func, select

    from rhip.kit.db import Database
    from rhip.records.models import Observation

    db = Database(args.database_url)
    with db.unit_of_work() as s:
        n_obs = s.scalar(select(func.count()).select_from(Observation))
    db.dispose()
    print(f"benchmark type history · {machine()} · {args.database_url.split(':')[0]} · {n_obs:,} observations")
    print(f"{'case':<46}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'cpu ms':>9}{'total':>10}")
    with Server(args.database_url) as server, httpx.Client(base_url=server.base, timeout=300) as client:
        edit(client, {"Authorization": f"Bearer {tokens['writer']}"}, args.database_url, args.edits)
        for who in ("county", "village"):
            h = {"Authorization": f"Bearer {tokens[who]}", "Accept": "application/fhir+json"}
            for since in (None, args.since):
                first = "/fhir/Observation/_history" + (f"?_since={since.replace('+', '%2B')}" if since else "")
                for page in ("1st page", "5th page"):
                    title = f"{who} scope, {page}" + (", _since" if since else "")
                    if not all(w in title for w in args.only.split(",") if w):
                        continue
                    path = first if page == "1st page" else fifth_page(client, h, first)
                    client.get(path, headers=h).raise_for_status()  # warm-up
                    lat, cpu0 = [], server.cpu_seconds()
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        r = client.get(path, headers=h)
                        lat.append((time.perf_counter() - t0) * 1000)
                        r.raise_for_status()
                    cpu = (server.cpu_seconds() - cpu0) * 1000 / args.requests
                    print(f"{title:<46}{len(lat):>4}{percentile(lat, 50):>9.1f}{percentile(lat, 95):>9.1f}"
                          f"{cpu:>9.1f}{r.json()['total']:>10,}", flush=True)


if __name__ == "__main__":
    main()
