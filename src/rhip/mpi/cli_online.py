"""`rhip mpi` commands of the online MPI: index a registry, refit the matching parameters, show counts.

(The batch deduplication commands live in ``rhip.mpi.cli``; the coordinator joins both into one group.)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rhip.kit.cli import open_db

app = typer.Typer(help="主索引（在线匹配）Master patient index: index, fit, stats", no_args_is_help=True)
out = Console()


_db = open_db  # shared by every command group (rhip.kit.cli)


def print_truth(truth: dict | None, printer=out.print) -> None:
    if not truth:
        return
    printer(f"  对照真值 vs synth_truth: precision {truth['precision']:.4f}  recall {truth['recall']:.4f}  "
            f"F1 {truth['f1']:.4f}  ({truth['correct_pairs']:,}/{truth['linked_pairs']:,} linked pairs correct, "
            f"{truth['true_pairs']:,} true pairs; queued {truth['queued_pairs']:,} of which "
            f"{truth['queued_true_pairs']:,} true; recall once reviewed {truth['recall_after_review']:.4f})")


@app.command("index")
def index():
    """为尚未入索引的全部档案建立主索引（批量）Index every registration not yet in the MPI, in one transaction."""
    from rhip.kit.dialect import bulk_load_transaction
    from rhip.mpi.bulk import index_registry
    from rhip.mpi.service import params

    db = _db()
    t0 = time.perf_counter()
    with bulk_load_transaction(db.engine, ("mpi_link", "mpi_review")) as conn:
        st = index_registry(conn, params())
    db.dispose()
    out.print(f"[green]✓[/green] {st.new_records:,} of {st.records:,} registrations indexed in "
              f"{time.perf_counter() - t0:.1f} s: {st.persons_created:,} new persons, {st.linked:,} linked to "
              f"another registration, {st.queued:,} pairs queued for review ({st.candidate_pairs:,} pairs scored)")
    print_truth(st.truth)


@app.command("fit")
def fit(output: Annotated[Path, typer.Option("--output", "-o", help="参数文件（JSON）")],
        sample: Annotated[Optional[int], typer.Option(help="只用前N条档案（按ID）")] = None,
        seed: int = 7):
    """用EM重新拟合匹配参数 Refit the Fellegi–Sunter parameters (EM) on the registry in the database.

    Point RHIP_MPI_PARAMS at the file to use it."""
    from rhip.mpi import fit as fitting
    from rhip.mpi import repository as repo
    from rhip.mpi.candidates import fields_of

    db = _db()
    records = {}
    with db.engine.connect() as conn:
        for rows in repo.iter_field_rows(conn):
            for row in rows:
                records[row[0]] = fields_of(*row[1:])
                if sample and len(records) >= sample:
                    break
            if sample and len(records) >= sample:
                break
    db.dispose()
    if len(records) < 100:
        out.print(f"[red]✗[/red] {len(records)} registrations: too few to fit on")
        raise typer.Exit(1)
    t0 = time.perf_counter()
    params, extra = fitting.fit_records(records, seed=seed, source=f"{len(records)} registrations")
    output.write_text(json.dumps(params.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.print(f"[green]✓[/green] fitted on {len(records):,} registrations, {len(extra['pairs']):,} candidate pairs "
              f"in {time.perf_counter() - t0:.1f} s → {output}")
    out.print(f"  prior λ={params.prior:.4f}  match ≥ {params.match_threshold}  possible ≥ {params.possible_threshold}")


@app.command("stats")
def stats():
    """主索引统计 Counts: persons, linked and merged records, review queue."""
    from rhip.mpi.service import summary

    db = _db()
    with db.read_only() as s:
        c = summary(s)
    db.dispose()
    out.print(json.dumps(c, ensure_ascii=False))
