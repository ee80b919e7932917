"""`flask --app wsgi report weekly [--week YYYY-Www]` (SPEC §6, §8): build the weekly report now."""

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.group("report")
def report():
    """Reports to 史带."""


@report.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47; default: the previous week.")
@with_appcontext
def report_weekly(week: str | None):
    """Build the weekly progress report as a new version (older versions are kept)."""
    from ..domain.errors import DomainError
    from ..domain.reports import build_weekly

    try:
        built = build_weekly(week, built_by="cli")
    except DomainError as error:
        db.session.rollback()
        raise click.BadParameter(error.message, param_hint="--week") from None
    db.session.commit()
    total = built.data["total"]
    click.echo(f"已生成 {built.week} 周报第 {built.version} 版（id {built.id}）："
               f"新增 {total['opened']}，进行中 {total['in_progress']}，完成 {total['completed']}，"
               f"终止 {total['terminated']}；时效达标 {total['met']}，超时 {total['breached']}，"
               f"周末逾期 {total['overdue']}，临近时限 {total['at_risk']}。")
    click.echo(f"weekly report {built.week} version {built.version} built (id {built.id}).")


COMMANDS = [report]
