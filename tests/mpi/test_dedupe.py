"""Batch deduplication end to end: a generated file with known truth, the command line, the registry."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from rhip.mpi.dedupe import dedupe_frame
from rhip.mpi.dedupe_eval import pairwise_scores
from rhip.mpi.dedupe_features import INPUT_COLUMNS
from rhip.mpi.dedupe_model import load_model
from rhip.mpi.dedupe_synth import person_file

RHIP = [sys.executable, "-m", "rhip.cli"]


@pytest.fixture(scope="module")
def small_file() -> pd.DataFrame:
    return person_file(4000, seed=99)


def test_generated_file_has_known_duplicates_and_faults(small_file):
    sizes = small_file["person_id"].value_counts()
    assert len(small_file) == 4000 and small_file["record_id"].is_unique
    assert 0.1 < (sizes > 1).mean() < 0.3  # a fifth of the people are registered more than once
    assert small_file["id_number"].isna().mean() > 0.05
    assert small_file["id_number"].str.len().eq(15).any()  # legacy numbers
    assert small_file["name"].str.contains("\u3000| ", regex=True).any()


def test_dedupe_small_file_against_truth(small_file):
    result = dedupe_frame(small_file[list(INPUT_COLUMNS)])
    clusters = result.clusters
    assert list(clusters["record_id"]) == list(small_file["record_id"])  # every record once, in input order
    s = pairwise_scores(clusters["cluster_id"], small_file["person_id"])
    assert s.precision >= 0.97 and s.recall >= 0.97, s
    # cluster ids are the smallest member's record id
    assert (clusters.groupby("cluster_id")["record_id"].min() == clusters.groupby("cluster_id").size().index).all()


def test_model_file_documents_its_fit():
    model = load_model()
    assert 0 < model.threshold < 1 and model.duplicates_per_record > 0
    for key in ("data", "seed", "u", "m", "prior", "threshold", "training_scores"):
        assert model.fitted[key]
    w = model.weights()
    assert w["name"]["exact"] > 0 > w["name"]["different"]
    assert w["id_birth"]["id_exact"] > w["id_birth"]["id_same_birth_and_division"] > w["id_birth"]["id_different"]


def test_twins_are_not_merged():
    base = {"sex": "1", "birth_date": "2001-05-06", "phone": "13912345678", "address": "城关镇王庄村3组2号"}
    frame = pd.DataFrame([
        {"record_id": "1", "name": "张伟明", "id_number": "341522200105060311", **base},
        {"record_id": "2", "name": "张伟亮", "id_number": "341522200105060338", **base},
        {"record_id": "3", "name": "張偉明", "id_number": "341522200105060311", **base},
    ])[list(INPUT_COLUMNS)]
    clusters = dedupe_frame(frame).clusters.set_index("record_id")["cluster_id"]
    assert clusters["1"] == clusters["3"] != clusters["2"]


def rhip(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*RHIP, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_cli_dedupe_file(tmp_path, small_file):
    src, dst = tmp_path / "persons.csv", tmp_path / "clusters.csv"
    part = small_file.iloc[:600]
    part[list(INPUT_COLUMNS)].to_csv(src, index=False, encoding="gbk", errors="replace")
    proc = rhip("mpi", "dedupe", "--input", str(src), "--output", str(dst))
    assert proc.returncode == 0, proc.stderr
    assert "gb18030" in proc.stderr and "clusters with more than one record" in proc.stdout
    out = pd.read_csv(dst, dtype=str)
    assert list(out.columns) == ["record_id", "cluster_id"]
    assert sorted(out["record_id"]) == sorted(part["record_id"])


@pytest.mark.parametrize("content,fragment", [
    ("record_id,name\n1,张丽\n", "missing columns: id_number, sex, birth_date, phone, address"),
    ("record_id,name,id_number,sex,birth_date,phone,address\n1,张丽,,,,,\n1,王强,,,,,\n", "duplicate record_ids"),
])
def test_cli_bad_input_fails_and_writes_nothing(tmp_path, content, fragment):
    src, dst = tmp_path / "persons.csv", tmp_path / "clusters.csv"
    src.write_text(content, encoding="utf-8")
    proc = rhip("mpi", "dedupe", "--input", str(src), "--output", str(dst))
    assert proc.returncode != 0
    assert fragment in proc.stderr.replace("\n", " ")
    assert not dst.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["persons.csv"]


def test_cli_data_faults_are_reported_not_fatal(tmp_path):
    src, dst = tmp_path / "persons.csv", tmp_path / "clusters.csv"
    src.write_text("record_id,name,id_number,sex,birth_date,phone,address\n"
                   "1,无,12AB34,x,1980-02-30,无,\n2,张丽,11010519491231002X,2,1949-12-31,13800138000,王庄村\n"
                   "3,張麗,11010519491231002X,女,1949/12/31,,王庄村3组\n", encoding="utf-8")
    proc = rhip("mpi", "dedupe", "--input", str(src), "--output", str(dst))
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.replace("\n", " ")
    for fragment in ("empty or unreadable names", "ID numbers with non-digits", "impossible or unreadable birth dates"):
        assert fragment in err
    out = pd.read_csv(dst, dtype=str).set_index("record_id")["cluster_id"]
    assert out["2"] == out["3"] == "2" and out["1"] == "1"


def test_cli_registry_dedupe_reads_only(db_url, tmp_path):
    from sqlalchemy import func, select, text

    from rhip.kit.db import Database
    from rhip.registry.models import Resident
    from rhip.synth.models import SynthTruth
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    db = Database(db_url)
    run(db, get_profile("tiny"), 5, stages=["structure", "people"])
    with db.read_only() as s:
        before = s.execute(select(func.count(), func.max(Resident.updated_at), func.sum(Resident.version))
                           .select_from(Resident)).one()
        truth = dict(s.execute(select(SynthTruth.resident_id, SynthTruth.person_id)).all())
        audits_before = s.scalar(text("select count(*) from audit_event"))
    dst = tmp_path / "clusters.csv"
    proc = rhip("mpi", "dedupe", "--output", str(dst), env={"RHIP_DATABASE_URL": db_url, "RHIP_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "by township" in proc.stdout
    out = pd.read_csv(dst, dtype=str)
    with db.read_only() as s:
        after = s.execute(select(func.count(), func.max(Resident.updated_at), func.sum(Resident.version))
                          .select_from(Resident)).one()
        audits = s.execute(text("select action from audit_event order by id")).scalars().all()
    db.dispose()
    assert tuple(before) == tuple(after) and len(out) == before[0] and out["record_id"].is_unique
    assert audits[audits_before:] == ["mpi.dedupe"]
    # the county's duplicate registrations (synth truth) are found
    person = out["record_id"].astype(int).map(lambda r: truth.get(r, r))
    s = pairwise_scores(out["cluster_id"], person)
    assert s.true_pairs > 0 and s.recall >= 0.8 and s.precision >= 0.9, s
