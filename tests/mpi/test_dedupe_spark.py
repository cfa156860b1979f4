"""The same model on Spark local mode gives the same clusters as on DuckDB (small Chinese file)."""

from __future__ import annotations

import pytest

from rhip.mpi.dedupe import dedupe_frame, spark_session
from rhip.mpi.dedupe_features import INPUT_COLUMNS
from rhip.mpi.dedupe_synth import person_file

pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark():
    session = spark_session(cores=2, memory="2g")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_gives_the_same_clusters_as_duckdb(spark):
    frame = person_file(1000, seed=4242)[list(INPUT_COLUMNS)]
    duck = dedupe_frame(frame, engine="duckdb")
    sp = dedupe_frame(frame, engine="spark", spark=spark)
    assert duck.duplicate_clusters > 80  # the comparison means something
    assert sp.clusters.equals(duck.clusters)
    assert sp.pairs_above_threshold == duck.pairs_above_threshold
