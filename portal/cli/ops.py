"""Operations commands (SPEC §8): `deadlines check` (one sweep now) and `scheduler` (its own process)."""

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import jobs


@click.group("deadlines")
def deadlines():
    """SLA deadlines."""


@deadlines.command("check")
@with_appcontext
def deadlines_check():
    """Run one deadline sweep now (what the scheduler runs every ten minutes)."""
    result = jobs.deadline_sweep(current_app._get_current_object())
    if isinstance(result, jobs.Skipped):
        click.echo(f"另一个进程（{result.holder}）正在检查时限，本次跳过（sweep already running elsewhere）。")
        return
    click.echo(f"时限检查完成：新增临期提醒 {result.due_soon} 条，超期提醒 {result.breached} 条"
               f"（due soon {result.due_soon}, breached {result.breached}）。")


@click.group("uploads")
def uploads():
    """Stored upload files."""


@uploads.command("reconcile")
@click.option("--older-than-minutes", type=int, default=None,
              help="only files at least this old (default: ORPHAN_UPLOAD_MINUTES, 60)")
@with_appcontext
def uploads_reconcile(older_than_minutes: int | None):
    """Quarantine stored files that no document row references (what the scheduler does hourly)."""
    app = current_app._get_current_object()
    if older_than_minutes is not None:
        app.config["ORPHAN_UPLOAD_MINUTES"] = older_than_minutes
    result = jobs.reconcile_uploads(app)
    if isinstance(result, jobs.Skipped):
        click.echo(f"另一个进程（{result.holder}）正在清点文件，本次跳过（reconcile already running elsewhere）。")
        return
    click.echo(f"已检查 {result.checked} 个文件，隔离无记录引用的文件 {result.quarantined} 个"
               f"（checked {result.checked}, quarantined {result.quarantined}）。")


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the scheduler in the foreground until stopped (production: one such process)."""
    from ..scheduler import run_blocking

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo("调度器已启动（scheduler started）；Ctrl-C 或 SIGTERM 停止。")
    run_blocking(current_app._get_current_object())
    click.echo("调度器已停止（scheduler stopped）。")


COMMANDS: list[click.Command] = [deadlines, uploads, scheduler]
