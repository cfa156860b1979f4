"""``rhip programs``: worklists on the command line and the programmes' bulk job."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console

from rhip.kit.cli import fail, open_db

programs_app = typer.Typer(help="公共卫生项目 public-health programmes: worklists, bulk refresh", no_args_is_help=True)
err = Console(stderr=True)


_db, _fail = open_db, fail  # shared by every command group (rhip.kit.cli)


def _error_text(e) -> str:
    lines = [f"{e.message_zh} / {e.message_en}"]
    lines += [f"  - {fe.field}: {fe.message_zh} / {fe.message_en}" for fe in e.errors]
    return "\n".join(lines)


def _as_date(text: str | None) -> date:
    from rhip.kit import clock

    if not text:
        return clock.now().date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"日期格式应为 YYYY-MM-DD / not a date: {text!r}")


@programs_app.command("due")
def due(
    org: Annotated[Optional[str], typer.Option(help="村/乡镇/县区划代码，或 team:<团队ID>；缺省为全县")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="截至日期 YYYY-MM-DD，缺省为今天")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json | csv")] = "json",
    program: Annotated[Optional[list[str]], typer.Option(help="只列这些项目（可重复）")] = None,
    status: Annotated[Optional[list[str]], typer.Option(help="overdue | due | upcoming（可重复）")] = None,
    horizon: Annotated[int, typer.Option(help="即将到期：多少天内开始的随访")] = 30,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="写入文件（缺省为标准输出）")] = None,
):
    """随访工作清单：到期、逾期（逾期天数）与即将到期 Worklist as of a date, most urgent first."""
    from rhip.kit.errors import RhipError
    from rhip.programs import worklist as wl
    from rhip.security.service import system_principal

    if fmt not in ("json", "csv"):
        _fail("--format 只能是 json 或 csv / --format must be json or csv")
    on = _as_date(as_of)
    db = _db()
    fh = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    n = 0
    try:
        with db.unit_of_work() as s:
            q = wl.build_query(s, org=org, as_of=on, programs=program, statuses=status, horizon_days=horizon)
            writer = csv.writer(fh) if fmt == "csv" else None
            if writer:
                writer.writerow(wl.CSV_COLUMNS)
            else:
                fh.write("[")
            for chunk in wl.export(s, system_principal("cli programs due"), q):
                for row in chunk:
                    if writer:
                        writer.writerow([row[c] for c in wl.CSV_COLUMNS])
                    else:
                        fh.write(("," if n else "") + "\n" + json.dumps(row, ensure_ascii=False))
                    n += 1
            if not writer:
                fh.write("\n]\n")
    except RhipError as e:
        _fail(_error_text(e))
    finally:
        if output:
            fh.close()
        db.dispose()
    err.print(f"[green]✓[/green] {n:,} rows as of {on.isoformat()}" + (f" → {output}" if output else ""))


@programs_app.command("refresh")
def refresh(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="按此日期重算，缺省为今天")] = None,
    years: Annotated[int, typer.Option(help="重算最近几年的指标事实")] = 1,
):
    """批量重算：按事实自动纳入/结案、把慢病和老年人随访计划排到明年、刷新指标事实
    Bulk job: recompute automatic enrolments, extend plans into next year, refresh indicator facts."""
    from rhip.programs import enrollment, facts
    from rhip.security.service import system_principal

    on = _as_date(as_of)
    db = _db()
    with db.unit_of_work() as s:
        stats = enrollment.recompute_all(s, system_principal("cli programs refresh"), on)
        stats["items_extended"] = enrollment.extend_plans(s, on)
        for year in range(on.year - years + 1, on.year + 1):
            stats[f"facts_{year}"] = facts.refresh(s, year, until=on)
    db.dispose()
    err.print("[green]✓[/green] " + ", ".join(f"{k} {v:,}" for k, v in stats.items()))
