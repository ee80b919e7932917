"""Personal-information commands (SPEC §7): restrict what outlived its retention period, add a notice version."""

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ..extensions import db


@click.group("privacy")
def privacy():
    """Notices, retention and restricted processing."""


@privacy.command("restrict")
@with_appcontext
def privacy_restrict():
    """Restrict every document and free text whose retention period ended (what a supervisor runs)."""
    from ..domain.privacy_rights import restrict_expired

    result = restrict_expired()
    db.session.commit()
    click.echo(f"限制处理完成：文件 {result.documents} 份，病情描述 {result.case_texts} 条"
               f"（restricted documents {result.documents}, case texts {result.case_texts}）。")


@privacy.command("notice-add")
@click.option("--kind", type=click.Choice(["privacy", "cross_border"]), required=True)
@click.option("--title", required=True)
@click.option("--summary-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--effective", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="first business day this version is asked for (YYYY-MM-DD)")
@with_appcontext
def privacy_notice_add(kind, title, summary_file, body_file, effective):
    """Add a new version of a notice (the old ones stay; insured people are asked again from --effective)."""
    from ..domain.auditlog import record
    from ..models import Notice

    last = db.session.scalar(select(func.max(Notice.version)).where(Notice.kind == kind)) or 0
    day: date = effective.date()
    notice = Notice(kind=kind, version=last + 1, effective_from=day, title=title.strip(),
                    summary=summary_file.read_text(encoding="utf-8").strip(),
                    body=body_file.read_text(encoding="utf-8").strip())
    db.session.add(notice)
    db.session.flush()
    record("notice.add", obj=notice,
           detail={"kind": kind, "version": notice.version, "effective_from": day.isoformat()})
    db.session.commit()
    click.echo(f"已添加 {kind} 第 {notice.version} 版，{day.isoformat()} 起施行（notice version {notice.version}）。")


COMMANDS: list[click.Command] = [privacy]
