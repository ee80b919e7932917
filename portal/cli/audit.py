"""`flask --app wsgi audit verify` (issue 3): check the hash chain of every case history."""

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.group("audit")
def audit():
    """Integrity checks of the records."""


@audit.command("verify")
@with_appcontext
def audit_verify():
    """Recompute every case-history hash and link; exit 1 naming the first broken link."""
    from ..domain.history import verify
    from ..models import Case

    result = verify()
    click.echo(f"已检查 {result.checked} 条案件记录（checked {result.checked} events）。")
    if result.ok:
        click.echo("完整性校验通过（chain intact）。")
        return
    first = result.broken[0]
    ref = db.session.get(Case, first.case_id).ref
    click.echo(f"发现 {len(result.broken)} 个案件的记录链被破坏（{len(result.broken)} broken chain(s)）。")
    click.echo(f"第一处：案件 {ref} 第 {first.seq} 条，事件 id {first.event_id}：{first.problem}")
    click.echo(f"first broken link: case {ref}, seq {first.seq}, event id {first.event_id}: {first.problem}")
    click.get_current_context().exit(1)


COMMANDS = [audit]
