"""``rhip contracts …``: the expiry job, key-population classification, indicator facts."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console

from rhip.kit.cli import open_db

app = typer.Typer(help="家庭医生签约 family-doctor contracts: 到期处理、重点人群分类、指标事实", no_args_is_help=True)
out = Console()


_db = open_db  # shared by every command group (rhip.kit.cli)


AsOf = Annotated[Optional[str], typer.Option("--as-of", help="日期 YYYY-MM-DD，默认今天")]


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        out.print(f"[red]✗[/red] --as-of {value!r}: 日期格式应为 YYYY-MM-DD (a date is written YYYY-MM-DD)")
        raise typer.Exit(2) from None


@app.command("expire")
def expire(as_of: AsOf = None):
    """到期处理：过期签约置为已到期，死亡或迁出居民的签约解约 Expire lapsed contracts (safe to re-run)."""
    from rhip.contracts import service
    from rhip.security.service import system_principal

    db = _db()
    with db.unit_of_work() as s:
        done = service.expire(s, system_principal("contracts.expire"), _as_of(as_of))
    db.dispose()
    out.print(f"[green]✓[/green] expired {done['expired']:,}, terminated {done['terminated']:,} "
              f"(已到期 {done['expired']:,}，解约 {done['terminated']:,})")


@app.command("classify")
def classify(full: Annotated[bool, typer.Option("--full/--changed", help="全部重算，或只重算变化的居民")] = False,
             as_of: AsOf = None):
    """重点人群分类 Recompute key populations: residents whose facts changed since the last run (default) or all."""
    from rhip.contracts import populations
    from rhip.security.service import system_principal

    db = _db()
    with db.unit_of_work() as s:
        done = populations.refresh(s, system_principal("contracts.classify"), on=_as_of(as_of),
                                   mode="full" if full else "changed")
    db.dispose()
    out.print(f"[green]✓[/green] {done['mode']}: {done['residents']:,} residents, {done['memberships']:,} memberships")


@app.command("facts")
def facts(as_of: AsOf = None, by: Annotated[str, typer.Option(help="township | team")] = "township",
          fmt: Annotated[str, typer.Option("--format", help="json | csv")] = "json"):
    """签约率、重点人群签约率、履约率的分子分母 Indicator facts per township or team, as of a date."""
    from rhip.contracts import fulfilment
    from rhip.kit import clock
    from rhip.security.service import system_principal

    if by not in ("township", "team") or fmt not in ("json", "csv"):
        out.print("[red]✗[/red] --by township|team, --format json|csv")
        raise typer.Exit(2)
    on = _as_of(as_of) or clock.now().date()
    db = _db()
    with db.unit_of_work() as s:
        rows = [a.as_dict() for a in fulfilment.facts(s, system_principal("contracts.facts"), on, by=by)]
    db.dispose()
    if fmt == "json":
        sys.stdout.write(json.dumps({"as_of": on.isoformat(), "by": by, "rows": rows}, ensure_ascii=False, indent=1)
                         + "\n")
        return
    if rows:
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
