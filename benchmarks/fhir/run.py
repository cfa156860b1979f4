"""Benchmark: the FHIR API over the demo county.

    python benchmarks/fhir/run.py [--residents 280000] [--bundles 60] [--requests 500] [--backend sqlite|postgresql|both]
                                  [--quick]   (ingest only, while iterating)  [--workers 2]

    (--skip-ingest: only the latency part)

1. Ingest: transaction Bundles of 100 resources (10 new patients, each with an encounter, a condition and
   7 observations) POSTed sequentially, first with ``Prefer: return=minimal`` (as a feed sends them), then as
   many more with the resources echoed in the response, to /fhir through a real server (uvicorn, one worker) — full validation,
   mapping, scope, audit and storage — and, in the same run, the rate at which the ``fhir.resources`` models
   alone parse and validate the same resources in this process (one core). Both also per CPU-second (the
   server's, this process's): on a shared machine those move less than the wall-clock rates. With
   ``--workers N``: N server processes and N clients posting at once, on a line of its own (on SQLite the
   transactions still take turns on its one write lock).
2. Latency (sequential keep-alive requests, 30 warm-up): Patient read, Patient search by identifier,
   Observation search by patient + code + date range, and Patient/$everything for the patients with the most
   records (the generator's "busy" chronic patients: several admissions a year, a few hundred resources each;
   the number of resources $everything returned for them is printed).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import Server, fresh_pg_database, machine, percentile  # noqa: E402

LOINC = "http://loinc.org"
ID_SYSTEM = "urn:oid:2.16.156.10011.1.1"


def prepare(url: str, residents: int, seed: int) -> dict:
    from sqlalchemy import func, select

    from rhip.kit.db import Database
    from rhip.kit.migrate import upgrade
    from rhip.records.models import Observation
    from rhip.registry.models import Division, Resident
    from rhip.security import repository as srepo
    from rhip.security import service as sec
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    upgrade(url)
    db = Database(url)
    run(db, get_profile("demo", residents), seed)
    with db.unit_of_work() as s:
        if srepo.user_by_username(s, "bench_fhir") is None:
            sec.create_user(s, username="bench_fhir", display_name="bench", role="administrator",
                            password="Bench-Passw0rd!")
        token = sec.create_token(s, "bench_fhir", "bench")[0]
        villages = list(s.scalars(select(Division.code).where(Division.level == "village").limit(20)))
        sample = list(s.execute(select(Resident.id, Resident.id_number).where(Resident.id_number.is_not(None),
                                                                               Resident.id % 53 == 0).limit(3000)))
        busiest = list(s.execute(select(Observation.resident_id, func.count()).group_by(Observation.resident_id)
                                 .order_by(func.count().desc()).limit(50)))
        n_res = s.scalar(select(func.count()).select_from(Resident))
        n_obs = s.scalar(select(func.count()).select_from(Observation))
    db.dispose()
    return {"token": token, "villages": villages, "sample": sample, "busiest": busiest,
            "residents": n_res, "observations": n_obs}


def bundle(k: int, villages: list[str], rng: random.Random) -> dict:
    from rhip.kit.idcard import make_id_number
    from rhip.synth.names import NameSampler

    names = NameSampler(rng)  # names as the county's own are drawn (one shared test name would make every new
    entries = []              # patient an MPI candidate of every earlier one, which no real feed does)
    for p in range(10):
        n = k * 10 + p
        birth = date(1940 + n % 60, 1 + n // 60 % 12, 1 + n // 720 % 28)
        sex = "male" if n % 2 else "female"
        pid, eid = f"urn:uuid:p-{n}", f"urn:uuid:e-{n}"
        entries.append({"fullUrl": pid, "request": {"method": "POST", "url": "Patient"}, "resource": {
            "resourceType": "Patient",
            # sequences 900-999 are never given to the county's residents (odd = male, as the ID rules say)
            "identifier": [{"system": ID_SYSTEM, "value": make_id_number("411530", birth,
                                                                         900 + (n // 20_000) % 50 * 2 + n % 2)}],
            "name": [{"text": names.full_name(sex, birth.year)}],
            "gender": sex, "birthDate": birth.isoformat(),
            "address": [{"extension": [{"url": "urn:rhip:fhir:StructureDefinition:division-code",
                                        "valueCode": villages[n % len(villages)]}]}]}})
        entries.append({"fullUrl": eid, "request": {"method": "POST", "url": "Encounter"}, "resource": {
            "resourceType": "Encounter", "identifier": [{"system": "urn:bench:his", "value": f"E{n}"}],
            "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": pid}, "period": {"start": "2026-05-02T09:30:00+08:00"}}})
        entries.append({"request": {"method": "POST", "url": "Condition"}, "resource": {
            "resourceType": "Condition", "identifier": [{"system": "urn:bench:his", "value": f"C{n}"}],
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                         "condition-ver-status", "code": "confirmed"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]},
            "onsetDateTime": "2026-05-02",
            "subject": {"reference": pid}, "encounter": {"reference": eid}}})
        for j in range(7):
            entries.append({"request": {"method": "POST", "url": "Observation"}, "resource": {
                "resourceType": "Observation", "identifier": [{"system": "urn:bench:lis", "value": f"O{n}-{j}"}],
                "status": "final", "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
                "subject": {"reference": pid}, "encounter": {"reference": eid},
                "effectiveDateTime": f"2026-05-02T09:{30 + j}:00+08:00",
                "component": [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                               "valueQuantity": {"value": 120 + rng.randint(0, 40), "unit": "mm[Hg]"}},
                              {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                               "valueQuantity": {"value": 70 + rng.randint(0, 20), "unit": "mm[Hg]"}}]}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def validation_only_rate(bundles: list[dict]) -> tuple[float, float]:
    """Resources per second and per CPU-second that ``fhir.resources`` alone validates (this process)."""
    from rhip.fhir.validation import model_class

    resources = [e["resource"] for b in bundles for e in b["entry"]]
    for r in resources[:200]:
        model_class(r["resourceType"]).model_validate(r)
    t0, c0 = time.perf_counter(), time.process_time()
    for r in resources:
        model_class(r["resourceType"]).model_validate(r)
    return len(resources) / (time.perf_counter() - t0), len(resources) / (time.process_time() - c0)


def concurrent_ingest(url: str, bodies: list[bytes], headers: dict, workers: int) -> float:
    """Resources/s with ``workers`` server processes and as many clients posting at once."""
    from concurrent.futures import ThreadPoolExecutor

    def post_all(part: list[bytes]) -> None:
        with httpx.Client(base_url=server.base, timeout=120) as client:
            for body in part:
                r = client.post("/fhir", content=body, headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"transaction failed: {r.status_code} {r.text[:500]}")

    with Server(url, workers=workers) as server, ThreadPoolExecutor(workers) as pool:
        t0 = time.perf_counter()
        list(pool.map(post_all, [bodies[k::workers] for k in range(workers)]))
        return 100 * len(bodies) / (time.perf_counter() - t0)


def post_bundles(server: Server, client: httpx.Client, bodies: list[bytes], headers: dict) -> tuple[float, float]:
    """POST the transaction Bundles one after the other → (resources/s, resources per server CPU-second)."""
    t0, cpu0 = time.perf_counter(), server.cpu_seconds()
    for body in bodies:
        r = client.post("/fhir", content=body, headers=headers)
        if r.status_code != 200:
            raise SystemExit(f"transaction failed: {r.status_code} {r.text[:500]}")
    return 100 * len(bodies) / (time.perf_counter() - t0), 100 * len(bodies) / max(server.cpu_seconds() - cpu0, 1e-9)


def timed(client: httpx.Client, requests: list[str], headers: dict, warmup: int = 30) -> list[float]:
    for path in requests[:warmup]:
        client.get(path, headers=headers).raise_for_status()
    out = []
    for path in requests[warmup:]:
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def bench(label: str, url: str, args) -> None:
    info = prepare(url, args.residents, args.seed)
    rng = random.Random(args.seed)
    bundles = [bundle(k, info["villages"], rng) for k in range(args.bundles)]
    bodies = [orjson.dumps(b) for b in bundles]  # encoded before timing: the client's JSON work is not ingest
    h = {"Authorization": f"Bearer {info['token']}", "Content-Type": "application/fhir+json"}
    if not args.skip_ingest:
        # a feed asks for no echo of what it sent (Prefer: return=minimal); then the same with the resources in the
        # response, on as many other new patients
        echoed = [orjson.dumps(bundle(k, info["villages"], rng)) for k in range(args.bundles, 2 * args.bundles)]
        with Server(url) as server, httpx.Client(base_url=server.base, timeout=120) as client:
            ingest, ingest_cpu = post_bundles(server, client, bodies, {**h, "Prefer": "return=minimal"})
            full, full_cpu = post_bundles(server, client, echoed, h)
        validate, validate_cpu = validation_only_rate(bundles)
        for how, rate, cpu in (("Prefer: return=minimal", ingest, ingest_cpu),
                               ("resources in the response", full, full_cpu)):
            print(f"{label:<11}ingest {100 * len(bundles):,} resources in transactions of 100, one worker, {how}: "
                  f"{rate:,.0f} resources/s ({cpu:,.0f} per server CPU-second); fhir.resources validation alone: "
                  f"{validate:,.0f} resources/s ({validate_cpu:,.0f} per CPU-second) (goal: ingest ≥ validation-only "
                  f"{'✓' if rate >= validate else '✗'})", flush=True)
    if args.workers > 1 and not args.skip_ingest:
        # SQLite: one writer at a time — each transaction takes the write lock at BEGIN IMMEDIATE and the others
        # wait for it (kit/db.py), so several workers overlap only the work outside the transactions
        more = [orjson.dumps(bundle(k, info["villages"], rng)) for k in range(2 * args.bundles, 3 * args.bundles)]
        rate = concurrent_ingest(url, more, {**h, "Prefer": "return=minimal"}, args.workers)
        print(f"{label:<11}ingest {100 * len(more):,} resources, {args.workers} workers and {args.workers} clients at "
              f"once: {rate:,.0f} resources/s (one worker above: {ingest:,.0f}/s; against validation alone on one "
              f"core: {validate:,.0f}/s {'✓' if rate >= validate else '✗'})", flush=True)
    if args.quick:
        return
    with Server(url) as server, httpx.Client(base_url=server.base, timeout=120) as client:
        k = args.requests + 30
        sample = info["sample"]
        cases = [
            ("Patient read", [f"/fhir/Patient/{rng.choice(sample)[0]}" for _ in range(k)], 10),
            ("Patient search by identifier", [f"/fhir/Patient?identifier={ID_SYSTEM}|{rng.choice(sample)[1]}"
                                              for _ in range(k)], 15),
            ("Observation patient+code+date", [f"/fhir/Observation?patient={rng.choice(info['busiest'])[0]}"
                                               f"&code={LOINC}|85354-9&date=ge2025-07-01&date=lt2026-07-01"
                                               for _ in range(k)], 30),
            ("Patient/$everything (busiest)", [f"/fhir/Patient/{rng.choice(info['busiest'])[0]}/$everything"
                                               for _ in range(min(k, 230))], 150),
            # type history (decision 0012): the same page over and over (the newest versions of the county)
            ("Observation/_history 1st page", ["/fhir/Observation/_history"] * min(k, 130), 300),
            ("Observation/_history _page=5", ["/fhir/Observation/_history?_page=5"] * min(k, 130), 300),
            ("Observation/_history _total=none", ["/fhir/Observation/_history?_total=none"] * min(k, 130), 300),
        ]
        for title, paths, goal in cases:
            cpu0 = server.cpu_seconds()
            lat = timed(client, paths, h)
            cpu = (server.cpu_seconds() - cpu0) * 1000 / len(paths)  # per request sent, warm-up included
            p95 = percentile(lat, 95)
            print(f"{label:<11}{title:<32}{len(lat):>5}{percentile(lat, 50):>8.2f}{p95:>8.2f}{cpu:>9.2f}"
                  f"   goal p95 < {goal} ms {'✓' if p95 < goal else '✗'}", flush=True)
        sizes = [client.get(f"/fhir/Patient/{rid}/$everything", headers=h).json()["total"]
                 for rid, _ in info["busiest"]]
        print(f"{label:<11}($everything returned {min(sizes)}–{max(sizes)} resources (median "
              f"{sorted(sizes)[len(sizes) // 2]}) for the {len(sizes)} patients with the most observations; database: "
              f"{info['residents']:,} residents, {info['observations']:,} observations)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=280_000)
    ap.add_argument("--bundles", type=int, default=60)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--quick", action="store_true", help="ingest only (skip the demo-county latency part)")
    ap.add_argument("--workers", type=int, default=1,
                    help="also ingest with this many server processes and as many concurrent clients")
    ap.add_argument("--skip-ingest", action="store_true", help="only the latency part")
    ap.add_argument("--database-url", default=None,
                    help="reuse this database (stages already generated there are skipped) instead of new ones")
    args = ap.parse_args()
    print(f"benchmark fhir · {machine()} · demo county, {args.residents:,} usual residents")
    print(f"{'backend':<11}{'case':<32}{'n':>5}{'p50 ms':>8}{'p95 ms':>8}{'cpu ms':>9}  (cpu: the server process's "
          f"CPU time per request, less sensitive than latency to other load on the machine)")
    if args.database_url:
        bench(args.database_url.split(":")[0].split("+")[0], args.database_url, args)
        return
    if args.backend in ("sqlite", "both"):
        bench("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='rhip-bench-')}/rhip.db", args)
    if args.backend in ("postgresql", "both"):
        bench("postgresql", fresh_pg_database(os.environ["RHIP_TEST_PG_URL"]), args)


if __name__ == "__main__":
    main()
