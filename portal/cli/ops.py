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


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the scheduler in the foreground until stopped (production: one such process)."""
    from ..scheduler import run_blocking

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo("调度器已启动（scheduler started）；Ctrl-C 或 SIGTERM 停止。")
    run_blocking(current_app._get_current_object())
    click.echo("调度器已停止（scheduler stopped）。")


COMMANDS: list[click.Command] = [deadlines, scheduler]
