"""`flask --app wsgi audit verify [--receipts DIR]` and `audit checkpoint [--out FILE]` (SPEC §8, issue 16)."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.group("audit")
def audit():
    """Integrity checks of the records."""


@audit.command("checkpoint")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="write the signed receipt (JSON) to this file")
@with_appcontext
def audit_checkpoint(out):
    """Issue a signed checkpoint over every chain now and print (or write) its receipt."""
    from ..domain import checkpoints

    if out is not None and not out.parent.is_dir():  # refuse before issuing: a checkpoint without its receipt
        raise click.UsageError(f"目录不存在：{out.parent}（directory not found）")
    checkpoint = checkpoints.issue(reason="cli")
    db.session.commit()
    text = checkpoints.receipt_json(checkpoint)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"第 {checkpoint.id} 号校验点已签发（checkpoint {checkpoint.id}, head {checkpoint.head}）；"
               f"回执已写入 {out}。")


@audit.command("public-key")
@with_appcontext
def audit_public_key():
    """Print 英仕's checkpoint-signing public key (hex and PEM), as the auditor portal shows it."""
    from .. import audit_keys

    click.echo(f"key id {audit_keys.key_id()}")
    click.echo(f"Ed25519 public key (hex) {audit_keys.public_hex()}")
    click.echo(audit_keys.public_pem(), nl=False)


@audit.command("verify")
@click.option("--receipts", "receipts_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="a folder of receipts (*.json) that 史带 kept")
@with_appcontext
def audit_verify(receipts_dir):
    """Check every case-history chain and the audit log, against the receipts in DIR (or, without it, against
    the checkpoints stored in the database); exit 1 naming the first case and sequence number affected."""
    from ..domain import checkpoints

    receipts = []
    if receipts_dir is not None:
        files = sorted(receipts_dir.glob("*.json"))
        if not files:
            raise click.UsageError(f"{receipts_dir} 中没有回执文件（*.json）。")
        for path in files:
            try:
                receipts.append(checkpoints.parse_receipt(path.read_bytes()))
            except checkpoints.ReceiptError as error:
                click.echo(f"{path.name}: {error}")
                click.get_current_context().exit(1)
    result = checkpoints.verify_receipts(receipts)
    click.echo(f"已检查 {result.events_checked} 条案件记录、{result.audit_checked} 条审计日志"
               f"（checked {result.events_checked} events, {result.audit_checked} audit-log rows"
               + (f", against checkpoint {result.checkpoint}" if result.checkpoint else "") + "）。")
    click.echo(result.summary())
    if result.ok:
        click.echo("完整性校验通过（chain intact）。")
        return
    for finding in result.findings:
        where = {"case": f"case {finding.case_ref or finding.case_id}, seq {finding.seq}",
                 "audit_log": f"audit log, seq {finding.seq}",
                 "checkpoint": f"checkpoint {finding.checkpoint}",
                 "receipt": f"receipt {finding.checkpoint}"}[finding.where]
        click.echo(f"first broken link: {where}: {finding.message}")
    if result.broken_cases > 1:
        click.echo(f"共 {result.broken_cases} 个案件的记录链被破坏（{result.broken_cases} broken case chains）。")
    click.get_current_context().exit(1)


COMMANDS = [audit]
