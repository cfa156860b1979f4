"""``rhip mpi …``: master patient index commands (a plain Typer app, registered in ``rhip.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from rhip.kit.cli import fail

app = typer.Typer(help="主索引 master patient index (MPI)", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2):  # exit code 2: bad input files
    fail(message, code)


def _registry_frame(db, progress):
    """The registry's residents as a person frame (village codes standing in for parsed addresses)."""
    import pandas as pd

    from rhip.mpi import dedupe_repository as repo
    from rhip.security.service import system_principal

    scope = system_principal("mpi-dedupe").scope
    with db.read_only() as s:
        total = repo.count_residents(s, scope)
        task = progress.add_task("读取居民 reading residents", total=total)
        rows: list[tuple] = []
        for page in repo.resident_pages(s, scope):
            rows.extend(page)
            progress.advance(task, len(page))
    frame = pd.DataFrame(rows, columns=["record_id", "name", "id_number", "id_number_raw", "sex", "birth_date",
                                        "phone", "address", "village_code"])
    frame["record_id"] = frame["record_id"].astype(str)
    frame["id_number"] = frame["id_number"].where(frame["id_number"].notna(), frame["id_number_raw"])
    frame["addr_village"] = frame["village_code"]
    frame["addr_town"] = frame["village_code"].str[:9]
    return frame.drop(columns=["id_number_raw"])


@app.command()
def dedupe(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出 record_id,cluster_id 的CSV文件")],
    input: Annotated[Optional[Path], typer.Option("--input", "-i", help="人员CSV（record_id,name,id_number,sex,"
                                                  "birth_date,phone,address）；省略则对登记库全部居民去重")] = None,
    engine: Annotated[str, typer.Option(help="duckdb（默认）或 spark（本地模式）")] = "duckdb",
    threshold: Annotated[Optional[float], typer.Option(help="匹配概率阈值 0–1（默认：模型文件中按数据选定的值）")] = None,
    model: Annotated[Optional[Path], typer.Option(help="模型参数JSON（默认 rhip/mpi/data/dedupe_model.json）")] = None,
):
    """批量去重 Batch deduplication (Splink, Fellegi–Sunter): a person file or the whole registry → clusters.

    Reads only: the registry is never modified (links and merges are the online MPI's job)."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rhip.kit.errors import RhipError
    from rhip.mpi.csvio import PersonFileError, read_person_csv, write_clusters_atomically
    from rhip.mpi.dedupe import ENGINES, dedupe_frame
    from rhip.mpi.dedupe_model import load_model

    if engine not in ENGINES:
        _fail(f"未知引擎 {engine!r}，可选 {', '.join(ENGINES)} / unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if threshold is not None and not 0 < threshold < 1:
        _fail(f"阈值须在0和1之间 / threshold must be a match probability between 0 and 1, got {threshold}")
    if not output.parent.is_dir():
        _fail(f"输出目录不存在 / output directory does not exist: {output.parent}")
    try:
        trained = load_model(model)
    except (OSError, ValueError, KeyError) as e:
        _fail(f"无法读取模型文件 / cannot read the model file {model}: {e}")
    started = time.perf_counter()
    db = None
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as progress:
        if input is not None:
            try:
                person_file = read_person_csv(input)
            except PersonFileError as e:
                _fail(f"{e.message_zh}\n  {e.message_en}")
            frame = person_file.frame
            err.print(f"读取 read {len(frame):,} records from {input} (encoding {person_file.encoding})"
                      + (f"; ignored columns: {', '.join(person_file.ignored_columns)}"
                         if person_file.ignored_columns else ""))
        else:
            from rhip.cli import _db

            db = _db()
            frame = _registry_frame(db, progress)
        step = progress.add_task("去重 deduplicating", total=None)
        try:
            result = dedupe_frame(frame, engine=engine, threshold=threshold, model=trained,
                                  progress=lambda m: progress.update(step, description=m))
        except RhipError as e:
            _fail(f"{e.message_zh}\n  {e.message_en}")
        progress.update(step, description="完成 done", total=1, completed=1)
    try:
        write_clusters_atomically(result.clusters, output)
    except PersonFileError as e:
        _fail(f"{e.message_zh}\n  {e.message_en}")
    for line in result.faults.lines():
        err.print(f"[yellow]![/yellow] {line}")
    n = len(result.clusters)
    out.print(f"[green]✓[/green] {n:,} records → {result.clusters['cluster_id'].nunique():,} clusters; "
              f"{result.duplicate_clusters:,} clusters with more than one record "
              f"({result.records_in_duplicate_clusters:,} records); threshold p ≥ {result.threshold}; "
              f"engine {engine}; {time.perf_counter() - started:.1f} s → {output}")
    if db is not None:
        _registry_summary(db, frame, result)
        db.dispose()


def _registry_summary(db, frame, result) -> None:
    """Clusters with more than one record, by township (of the cluster's first record); audited."""
    from rhip.mpi import dedupe_repository as repo
    from rhip.security.service import audit, system_principal

    merged = frame[["record_id", "addr_town"]].merge(result.clusters, on="record_id")
    sizes = merged.groupby("cluster_id")["record_id"].transform("size")
    first = merged[(sizes > 1) & (merged["record_id"] == merged["cluster_id"])]
    by_town = first.groupby("addr_town").size().sort_values(ascending=False)
    with db.unit_of_work() as s:
        names = repo.township_names(s, set(by_town.index))
        audit(s, system_principal("mpi-dedupe"), "mpi.dedupe",
              detail={"records": len(frame), "duplicate_clusters": result.duplicate_clusters,
                      "by_township": {str(k): int(v) for k, v in by_town.items()}})
    table = Table(title="重复登记（>1条记录的簇）按乡镇 clusters with more than one record, by township")
    table.add_column("乡镇 township")
    table.add_column("代码 code")
    table.add_column("簇 clusters", justify="right")
    for code, count in by_town.items():
        table.add_row(names.get(code, "?"), str(code), f"{count:,}")
    out.print(table)


@app.command()
def train(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="写出模型参数JSON（默认覆盖内置模型）")] = None,
    records: Annotated[int, typer.Option(help="生成的训练文件记录数")] = 300_000,
    seed: Annotated[int, typer.Option(help="训练文件的随机种子（勿与基准测试相同）")] = 7,
):
    """重新拟合去重模型 Refit the dedupe model on a generated training file (u by sampling, m by EM, threshold by F1)."""
    from rhip.mpi.dedupe_model import DEFAULT_MODEL_PATH
    from rhip.mpi.dedupe_synth import person_file
    from rhip.mpi.dedupe_train import fit

    target = output or DEFAULT_MODEL_PATH
    with err.status("生成训练文件 generating the training file") as status:
        frame = person_file(records, seed)
        model, _scores = fit(frame, seed=seed, description=f"rhip.mpi.dedupe_synth.person_file({records}, seed={seed})",
                             progress=lambda m: (status.update(m), err.print(f"  {m}")))
    model.save(target)
    out.print(f"[green]✓[/green] model written to {target}; threshold p ≥ {model.threshold}")


# The online part's commands (index, fit, stats) join the same `rhip mpi` group.
from rhip.mpi.cli_online import app as _online  # noqa: E402

app.registered_commands += _online.registered_commands
