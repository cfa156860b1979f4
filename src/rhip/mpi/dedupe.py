"""Batch deduplication of a person file or of the registry with Splink, on DuckDB (default) or Spark.

``dedupe_frame`` takes a frame with ``INPUT_COLUMNS`` (``record_id,name,id_number,sex,birth_date,phone,address``),
derives the comparison columns (``dedupe_features``), scores the blocked pairs with the trained
Fellegi–Sunter model (``dedupe_model``), drops the pairs the guards refuse (twins; two valid, different
ID numbers), and clusters the pairs at or above the threshold by connected components.  The answer has every record exactly once: ``record_id, cluster_id`` where ``cluster_id`` is
the smallest record id of the cluster (a record without a match is its own cluster).

Nothing here writes to a database or a file; the callers (``rhip mpi dedupe``, the benchmark) do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from rhip.mpi.dedupe_features import Faults, build_features
from rhip.mpi.dedupe_model import Model, guarded_pairs_sql, load_model, settings

__all__ = ["ENGINES", "DedupeResult", "dedupe_frame", "spark_session", "db_api"]

ENGINES = ("duckdb", "spark")


@dataclass
class DedupeResult:
    clusters: pd.DataFrame            # record_id, cluster_id (one row per input record)
    faults: Faults
    threshold: float                  # match probability used
    pairs_above_threshold: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def duplicate_clusters(self) -> int:
        sizes = self.clusters["cluster_id"].value_counts()
        return int((sizes > 1).sum())

    @property
    def records_in_duplicate_clusters(self) -> int:
        sizes = self.clusters["cluster_id"].value_counts()
        return int(sizes[sizes > 1].sum())


def spark_session(cores: int = 2, memory: str = "4g"):
    """A local-mode Spark session with Splink's similarity functions (its bundled jar) on the class path."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    return (SparkSession.builder.master(f"local[{cores}]").appName("rhip-mpi-dedupe")
            .config("spark.jars", similarity_jar_location())
            .config("spark.driver.memory", memory)
            .config("spark.sql.shuffle.partitions", str(cores))
            .config("spark.default.parallelism", str(cores))
            # Splink's scoring CASE expressions exceed the JVM's 64 KB method limit: whole-stage code
            # generation fails and falls back after a costly attempt, so it is off from the start
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


def db_api(engine: str, spark=None):
    """The Splink database API for ``engine``; Spark needs a session (see :func:`spark_session`)."""
    if engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        con = duckdb.connect(":memory:")
        return DuckDBAPI(con)
    if engine == "spark":
        from splink import SparkAPI

        if spark is None:
            spark = spark_session()
        spark.sparkContext.setCheckpointDir("/tmp/rhip-spark-checkpoints")
        return SparkAPI(spark_session=spark, break_lineage_method="persist")
    raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")


def _quiet_splink() -> None:
    for name in ("splink", "py4j"):
        logging.getLogger(name).setLevel(logging.ERROR)


def dedupe_frame(frame: pd.DataFrame, *, engine: str = "duckdb", threshold: float | None = None,
                 model: Model | None = None, spark=None,
                 progress: Callable[[str], None] | None = None) -> DedupeResult:
    """Cluster the records of ``frame`` (``INPUT_COLUMNS``); see the module docstring."""
    say = progress or (lambda _m: None)
    model = model or load_model()
    thr = model.threshold if threshold is None else threshold
    if not 0 < thr < 1:
        raise ValueError(f"threshold must be a match probability between 0 and 1, got {thr}")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    features, faults = build_features(frame, progress=lambda m: say(f"派生比较字段 features: {m}"))
    seconds["features"] = time.perf_counter() - t0
    n = len(features)
    ids = features["unique_id"]
    if n < 2:
        clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids})
        return DedupeResult(clusters, faults, thr, 0, seconds)

    from splink import Linker

    _quiet_splink()
    t1 = time.perf_counter()
    api = db_api(engine, spark)
    say(f"登记数据 loading {n:,} records into {engine}")
    table = api.register(features, dataset_display_name="persons")
    linker = Linker(table, settings("spark" if engine == "spark" else "duckdb", model=model, n_records=n),
                    log_level=None)
    say("计算候选对并打分 blocking and scoring pairs")
    scored = linker.inference.predict(threshold_match_probability=thr, warning_mode="never")
    predictions = linker.misc.query_sql(guarded_pairs_sql(scored.physical_name))
    say("聚类 clustering")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=thr)
    # Splink names each cluster after one of its members; name it after the smallest, whatever the engine
    cl = linker.misc.query_sql(f"SELECT CAST(unique_id AS STRING) AS unique_id, CAST(min(unique_id) OVER "
                               f"(PARTITION BY cluster_id) AS STRING) AS cluster_id FROM {clustered.physical_name}",
                               output_type="pandas")
    n_pairs = int(linker.misc.query_sql(f"select count(*) as n from {predictions.physical_name}",
                                        output_type="pandas")["n"][0])
    seconds["splink"] = time.perf_counter() - t1
    if engine == "duckdb":
        api._con.close()
    else:
        for df in (scored, predictions, clustered):
            try:
                df.drop_table_from_database_and_remove_from_cache()
            except Exception:  # noqa: BLE001 - best effort clean-up of cached Spark tables
                pass
    by_id = dict(zip(cl["unique_id"], cl["cluster_id"]))
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids.map(by_id).fillna(ids)})
    seconds["total"] = time.perf_counter() - t0
    return DedupeResult(clusters, faults, thr, n_pairs, seconds)
