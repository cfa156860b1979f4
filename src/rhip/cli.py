"""The ``rhip`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rhip.kit.cli import fail, open_db
from rhip.settings import get_settings

app = typer.Typer(help="RHIP 区域全民健康信息平台 — Regional Health Information Platform", no_args_is_help=True)
users_app = typer.Typer(help="用户管理 users", no_args_is_help=True)
app.add_typer(users_app, name="users")
fhir_app = typer.Typer(help="FHIR R4 批量导出/导入 bulk export and import (NDJSON)", no_args_is_help=True)
app.add_typer(fhir_app, name="fhir")
from rhip.contracts.cli import app as contracts_app  # noqa: E402

app.add_typer(contracts_app, name="contracts")
from rhip.mpi.cli import app as mpi_app  # noqa: E402  (batch dedupe + online index/fit/stats)

app.add_typer(mpi_app, name="mpi")
from rhip.programs.cli import programs_app  # noqa: E402

app.add_typer(programs_app, name="programs")
out = Console()
err = Console(stderr=True)


_db, _fail = open_db, fail  # shared by every command group (rhip.kit.cli)


@app.command()
def migrate():
    """建立/升级数据库结构 Create or upgrade the database schema (Alembic)."""
    from rhip.kit.migrate import current_revision, upgrade

    url = get_settings().db_url
    upgrade(url)
    out.print(f"[green]✓[/green] database at revision {current_revision(url)} ({_safe_url(url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_synth(profile_name: str, seed: int, residents: int | None, stages: list[str] | None = None) -> list:
    from rhip.synth.profiles import get_profile
    from rhip.synth.runner import run

    try:
        profile = get_profile(profile_name, residents)
    except KeyError as e:
        _fail(str(e.args[0]))
    db = _db()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, advance: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"生成 {stage}", total=total)
            task = bar.tasks[tasks[stage]]
            if task.completed + advance > task.total:
                bar.update(tasks[stage], total=task.completed + advance)
            bar.advance(tasks[stage], advance)

        results = run(db, profile, seed, stages=stages, progress=progress)
        for stage, tid in tasks.items():
            bar.update(tid, total=bar.tasks[tid].completed)
    db.dispose()
    return results


@app.command()
def synth(
    profile: Annotated[str, typer.Option(help="demo (≈280,000 usual residents) or tiny")] = "demo",
    seed: Annotated[int, typer.Option(help="随机种子：同一种子生成相同的县")] = 42,
    residents: Annotated[Optional[int], typer.Option(help="常住人口数（覆盖配置）")] = None,
    stage: Annotated[Optional[list[str]], typer.Option(help="只运行指定阶段（可重复）")] = None,
):
    """生成合成县数据 Generate the synthetic county (streamed, deterministic for a seed)."""
    from rhip.synth.runner import SynthError

    try:
        results = run_synth(profile, seed, residents, stage)
    except SynthError as e:
        _fail(str(e))
    table = Table("阶段 stage", "行数 rows", "秒 s", "说明")
    for r in results:
        table.add_row(r.stage, f"{r.rows:,}", f"{r.seconds:.1f}", "已存在，复用 reused" if r.skipped else
                      ", ".join(f"{k}={v:,}" for k, v in (r.stats or {}).items() if isinstance(v, (int, float))))
    out.print(table)


@app.command()
def serve(host: Optional[str] = None, port: Optional[int] = None,
          workers: Annotated[int, typer.Option(help="进程数")] = 1):
    """启动平台 Serve console, JSON API and OpenAPI docs."""
    import uvicorn

    s = get_settings()
    out.print(f"RHIP: http://{host or s.host}:{port or s.port}/console/  ·  API docs: "
              f"http://{host or s.host}:{port or s.port}/api/docs")
    # uvicorn's own access log would write query strings (ID numbers, phones) to the log: rhip logs requests
    # itself, without them (rhip.access).
    log_config = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "loggers": {"uvicorn": {"handlers": ["console"], "level": "INFO"},
                    "rhip": {"handlers": ["console"], "level": "INFO"}},
    }
    uvicorn.run("rhip.app:create_app", factory=True, host=host or s.host, port=port or s.port, workers=workers,
                log_level="info", proxy_headers=True, access_log=False, log_config=log_config)


@app.command("check-id")
def check_id(number: str,
             as_json: Annotated[bool, typer.Option("--json", help="JSON输出")] = False):
    """校验身份证号 Check a resident ID number (GB 11643): check character, date, division; 15→18 upgrade."""
    from rhip.kit.idcard import SEX_LABELS, check_id_number
    from rhip.kit.gb2260 import province_name

    chk = check_id_number(number)
    if as_json:
        print(json.dumps({"input": number, "valid": chk.valid, "normalized": chk.normalized, "legacy15": chk.legacy15,
                          "birth_date": chk.birth_date.isoformat() if chk.birth_date else None, "sex": chk.sex,
                          "problems": [{"code": p.code, "message_zh": p.message_zh, "message_en": p.message_en}
                                       for p in chk.problems]}, ensure_ascii=False))
    elif chk.valid:
        prov = province_name(chk.division_code[:2]) if chk.division_code else None
        out.print(f"[green]✓ 有效 valid[/green]  {chk.normalized}"
                  + ("  (15位旧号已升为18位 upgraded from 15 digits)" if chk.legacy15 else ""))
        out.print(f"  出生日期 birth date: {chk.birth_date}   性别 sex: {SEX_LABELS[chk.sex][0]} {SEX_LABELS[chk.sex][1]}"
                  f"   区划 division: {chk.division_code}" + (f" ({prov[0]} {prov[1]})" if prov else ""))
    else:
        out.print(f"[red]✗ 无效 invalid[/red]  {number}")
        for p in chk.problems:
            out.print(f"  - {p.message_zh} / {p.message_en}  [dim]({p.code})[/dim]")
    raise typer.Exit(0 if chk.valid else 1)


# ------------------------------------------------------------------ users

@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="administrator, commission_manager, township_staff, village_doctor, "
                                           "hospital_doctor, cdc_staff, supervision_staff, resident")],
    name: Annotated[str, typer.Option(help="显示名")] = "",
    division: Annotated[Optional[list[str]], typer.Option(help="服务范围区划代码（可重复）")] = None,
    org: Annotated[Optional[list[int]], typer.Option(help="服务范围机构ID（可重复）")] = None,
    practitioner: Annotated[Optional[int], typer.Option(help="关联医务人员ID（村医按其团队服务的村确定范围）")] = None,
    password: Annotated[Optional[str], typer.Option(help="初始密码；不填则生成一次性密码")] = None,
    token: Annotated[bool, typer.Option(help="同时签发API令牌（系统账户）")] = False,
):
    """创建用户 Create a user with a role and a scope."""
    from rhip.kit.errors import RhipError
    from rhip.security import service as sec
    from rhip.security.passwords import generate_password

    one_time = password is None
    password = password or generate_password()
    db = _db()
    try:
        with db.unit_of_work() as s:
            u = sec.create_user(s, username=username, display_name=name or username, role=role, password=password,
                                division_codes=division or [], org_ids=org or [], practitioner_id=practitioner,
                                must_change_password=one_time)
            tok = sec.create_token(s, username, "cli")[0] if token else None
            sec.audit(s, sec.system_principal("cli"), "user.create", detail={"username": username, "role": role})
    except RhipError as e:
        _fail(_error_text(e))
    out.print(f"[green]✓[/green] user {u.username} ({role}) created")
    if one_time:
        out.print(f"  一次性密码 one-time password: [bold]{password}[/bold]  (首次登录须修改 must be changed at first sign-in)")
    if tok:
        out.print(f"  API token (shown once): [bold]{tok}[/bold]")


@users_app.command("list")
def users_list():
    """列出用户 List users."""
    from rhip.security import repository as repo
    from rhip.security.rules import ROLES

    db = _db()
    with db.read_only() as s:
        rows, total = repo.list_users(s, offset=0, limit=10_000)
        table = Table("用户名 username", "姓名 name", "角色 role", "状态", "最近登录 last sign-in", "服务范围 scope")
        for u in rows:
            scope = ", ".join(r.division_code or f"org:{r.org_id}" for r in repo.scope_rows(s, u.id)) or \
                ("全部 all" if u.role == "administrator" else (f"practitioner:{u.practitioner_id}" if u.practitioner_id else "—"))
            table.add_row(u.username, u.display_name, f"{ROLES[u.role][0]} {u.role}",
                          "启用" if u.active else "停用", str(u.last_login_at or "—"), scope)
    out.print(table)
    out.print(f"{total} users")


@users_app.command("set-password")
def users_set_password(username: str,
                       password: Annotated[Optional[str], typer.Option(help="新密码；不填则生成一次性密码")] = None):
    """重置密码 Set a user's password (a generated one must be changed at next sign-in)."""
    from rhip.kit.errors import RhipError
    from rhip.security import service as sec
    from rhip.security.passwords import generate_password

    one_time = password is None
    password = password or generate_password()
    db = _db()
    try:
        with db.unit_of_work() as s:
            sec.set_password(s, username, password, must_change=one_time)
            sec.audit(s, sec.system_principal("cli"), "user.set_password", detail={"username": username})
    except RhipError as e:
        _fail(_error_text(e))
    out.print(f"[green]✓[/green] password of {username} set")
    if one_time:
        out.print(f"  一次性密码 one-time password: [bold]{password}[/bold]")


@users_app.command("token")
def users_token(username: str, name: Annotated[str, typer.Option(help="令牌用途")] = "cli",
                days: Annotated[int, typer.Option(help="有效天数")] = 365):
    """签发API令牌 Issue a bearer token for a user (systems such as the county hospital's HIS)."""
    from rhip.kit.errors import RhipError
    from rhip.security import service as sec

    db = _db()
    try:
        with db.unit_of_work() as s:
            tok, row = sec.create_token(s, username, name, days=days)
            sec.audit(s, sec.system_principal("cli"), "token.create", detail={"username": username, "name": name})
    except RhipError as e:
        _fail(_error_text(e))
    out.print(tok)


@fhir_app.command("export")
def fhir_export(output: Annotated[Path, typer.Option("--output", "-o", help="输出目录")],
                patient: Annotated[Optional[int], typer.Option(help="只导出该居民（Patient id）")] = None):
    """导出为 FHIR NDJSON（每类资源一个文件）Export a patient or the whole county as FHIR NDJSON."""
    from rhip.fhir.bulk import export
    from rhip.security.service import system_principal

    db = _db()
    with Progress(TextColumn("[bold]{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err) as bar:
        tasks: dict[str, int] = {}

        def progress(rtype: str, n: int) -> None:
            if rtype not in tasks:
                tasks[rtype] = bar.add_task(f"导出 {rtype}", total=None)
            bar.advance(tasks[rtype], n)

        counts = export(db, system_principal("fhir-export"), output, patient_id=patient, progress=progress)
    db.dispose()
    for rtype, n in counts.items():
        out.print(f"  {output / (rtype + '.ndjson')}: {n:,}")


@fhir_app.command("import")
def fhir_import(files: Annotated[list[Path], typer.Argument(help="NDJSON 文件（或 Bundle .json）")],
                rejects: Annotated[Optional[Path], typer.Option(help="把被拒绝的资源及原因写入此文件（JSON lines）")] = None):
    """导入 FHIR NDJSON 或 Bundle：逐条校验，拒绝的列出原因，其余照常导入 Import NDJSON or Bundles."""
    from rhip.fhir.bulk import import_files
    from rhip.security.service import system_principal

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        _fail(f"文件不存在 file not found: {', '.join(missing)}")
    total = 0
    for f in files:
        total += sum(1 for line in f.open(encoding="utf-8", errors="replace") if line.strip()) \
            if f.suffix != ".json" else 1
    db = _db()
    with Progress(TextColumn("[bold]导入 import"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err) as bar:
        task = bar.add_task("import", total=total)
        report = import_files(db, system_principal("fhir-import"), files, progress=lambda n: bar.advance(task, n))
    db.dispose()
    for label, counts in (("新建 created", report.created), ("更新 updated", report.updated),
                          ("已存在 matched", report.matched)):
        if counts:
            out.print(f"  {label}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if report.rejected:
        out.print(f"[red]  拒绝 rejected: {len(report.rejected):,}[/red]")
        for r in report.rejected[:20]:
            out.print(f"    {r['file']}:{r['line']} {r['resourceType'] or '?'}/{r['id'] or '?'} — {r['reason']}")
        if len(report.rejected) > 20:
            out.print(f"    … {len(report.rejected) - 20:,} more" + (f" (all in {rejects})" if rejects else ""))
        if rejects:
            with rejects.open("w", encoding="utf-8") as fh:
                for r in report.rejected:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        raise typer.Exit(1)


def _error_text(e) -> str:
    lines = [f"{e.message_zh} / {e.message_en}"]
    lines += [f"  - {fe.field}: {fe.message_zh} / {fe.message_en}" for fe in e.errors]
    return "\n".join(lines)


# ------------------------------------------------------------------ demo

@app.command()
def demo(
    residents: Annotated[Optional[int], typer.Option(help="常住人口数（默认约28万）")] = None,
    seed: int = 42,
    profile: str = "demo",
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="完成后启动平台")] = True,
    demo_users: Annotated[bool, typer.Option("--demo-users/--no-demo-users",
                                             help="另建村医、乡镇、卫健委演示账户（一次性密码）")] = True,
):
    """演示：建库、生成合成县、创建管理员并启动 Set up the demo county (reused on a second run) and serve it."""
    from rhip.kit.migrate import upgrade
    from rhip.security import repository as srepo
    from rhip.security import service as sec
    from rhip.security.passwords import generate_password
    from rhip.synth.runner import SynthError, done_stages

    settings = get_settings()
    upgrade(settings.db_url)
    out.print(f"[green]✓[/green] database ready: {_safe_url(settings.db_url)}")
    db = _db()
    done = done_stages(db)
    if done:
        out.print(f"[green]✓[/green] reusing the synthetic county already generated (stages: {', '.join(done)})")
    try:
        results = run_synth(profile, seed, residents)
    except SynthError as e:
        _fail(str(e))
    for r in results:
        if not r.skipped:
            out.print(f"[green]✓[/green] stage {r.stage}: {r.rows:,} rows in {r.seconds:.1f} s")
            if r.stage == "mpi" and r.stats:  # duplicate registrations resolved: linked, queued, vs the truth
                from rhip.mpi.cli_online import print_truth

                out.print(f"  主索引 MPI: {r.stats['linked']:,} duplicate registrations linked automatically, "
                          f"{r.stats['queued']:,} pairs wait for review")
                print_truth(r.stats.get("truth"))
    with db.unit_of_work() as s:
        admin = srepo.user_by_username(s, "admin")
        if admin is None:
            password = generate_password()
            sec.create_user(s, username="admin", display_name="系统管理员", role="administrator", password=password,
                            must_change_password=True)
            sec.audit(s, sec.system_principal("demo"), "user.create", detail={"username": "admin"})
            out.print(f"[bold green]管理员 administrator: admin  一次性密码 one-time password: {password}[/bold green]")
            out.print("  (首次登录须修改密码 change it at first sign-in; 忘记可用 `rhip users set-password admin`)")
        else:
            out.print("✓ administrator 'admin' exists (reset with `rhip users set-password admin`)")
        if demo_users:
            _demo_users(s, generate_password)
    db.dispose()
    if serve_after:
        serve(None, None, 1)


def _demo_users(s, generate_password) -> None:
    """One account per kind of user, so the demo shows what each one may see (scope differs)."""
    from sqlalchemy import select

    from rhip.registry.models import Division, Organization, Team, TeamMember
    from rhip.security import repository as srepo
    from rhip.security import service as sec

    team = s.scalar(select(Team).order_by(Team.id).limit(1))
    county = s.scalar(select(Division.code).where(Division.level == "county"))
    if team is None or county is None:
        return
    doctor = s.scalar(select(TeamMember.practitioner_id).where(TeamMember.team_id == team.id,
                                                               TeamMember.role == "village_doctor").limit(1))
    centre = s.get(Organization, team.org_id)
    specs = [
        ("vdoc", "村医（演示）", "village_doctor", dict(practitioner_id=doctor, org_id=None), f"{team.name}服务的村"),
        ("township", "乡镇卫生院（演示）", "township_staff", dict(org_ids=[centre.id], org_id=centre.id), centre.name),
        ("manager", "卫健委（演示）", "commission_manager", dict(division_codes=[county]), "全县"),
    ]
    for username, name, role, kw, scope_text in specs:
        if srepo.user_by_username(s, username) is not None:
            continue
        password = generate_password()
        sec.create_user(s, username=username, display_name=name, role=role, password=password,
                        must_change_password=True, **kw)
        sec.audit(s, sec.system_principal("demo"), "user.create", detail={"username": username, "role": role})
        out.print(f"  演示账户 demo user: {username} ({role}, 范围 scope: {scope_text})  一次性密码: {password}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
