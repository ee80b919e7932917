"""i16 audit trail: audit-log hash chain, signed checkpoints with their anchors, append-only triggers

Revision ID: i16_audit_trail
Revises: i17_promises
Create Date: 2026-12-01 21:22:03.025389

Triggers (portal/db_guards.py) refuse UPDATE and DELETE (PostgreSQL: also TRUNCATE) on case_event, audit_log,
weekly_report, entitlement_entry, delivered rows of document, audit_checkpoint and audit_anchor. They are
created last: SQLite's batch mode copies a table and would drop them.
"""
from alembic import op
import sqlalchemy as sa
import portal.models.base  # noqa: F401  (UTCDateTime)

from portal.db_guards import I16_TABLES, create_guards, drop_function, drop_guards


# revision identifiers, used by Alembic.
revision = 'i16_audit_trail'
down_revision = 'i17_promises'
branch_labels = None
depends_on = None


def _chain_existing_audit_rows():
    """Give the rows written before this revision their place in the chain, in id order."""
    from portal.domain.auditlog import HASHED_FIELDS, compute_hash
    from portal.domain.history import ZERO_HASH, jsonable

    bind = op.get_bind()
    log = sa.table("audit_log", sa.column("id"), sa.column("seq"), sa.column("prev_hash"), sa.column("hash"),
                   *(sa.column(name) for name in HASHED_FIELDS if name not in ("seq", "prev_hash")))
    log.c.at.type = portal.models.base.UTCDateTime()
    log.c.detail.type = sa.JSON()
    prev_hash = ZERO_HASH
    for seq, row in enumerate(bind.execute(sa.select(log).order_by(log.c.id)).mappings().all(), start=1):
        fields = {**row, "seq": seq, "prev_hash": prev_hash, "detail": jsonable(row["detail"] or {})}
        prev_hash = compute_hash(fields)
        bind.execute(log.update().where(log.c.id == row["id"]).values(seq=seq, prev_hash=fields["prev_hash"],
                                                                       hash=prev_hash))


def upgrade():
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('issued_at', portal.models.base.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('previous_head', sa.String(length=64), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('audit_length', sa.Integer(), nullable=False),
    sa.Column('audit_tail', sa.String(length=64), nullable=False),
    sa.Column('anchored_count', sa.Integer(), nullable=False),
    sa.Column('anchors_digest', sa.String(length=64), nullable=False),
    sa.Column('event_id_upto', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
    sa.UniqueConstraint('head', name=op.f('uq_audit_checkpoint_head'))
    )
    op.create_table('audit_anchor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor'))
    )
    with op.batch_alter_table('audit_anchor', schema=None) as batch_op:
        batch_op.create_index('ix_audit_anchor_case_seq', ['case_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_anchor_checkpoint_id'), ['checkpoint_id'], unique=False)

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_audit_rows()
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_seq'), ['seq'])

    with op.batch_alter_table('weekly_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkpoint_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_weekly_report_checkpoint_id_audit_checkpoint'), 'audit_checkpoint', ['checkpoint_id'], ['id'])

    create_guards(op.get_bind(), I16_TABLES)


def downgrade():
    drop_guards(op.get_bind(), I16_TABLES)
    drop_function(op.get_bind())

    with op.batch_alter_table('weekly_report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_weekly_report_checkpoint_id_audit_checkpoint'), type_='foreignkey')
        batch_op.drop_column('checkpoint_id')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')

    with op.batch_alter_table('audit_anchor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_anchor_checkpoint_id'))
        batch_op.drop_index('ix_audit_anchor_case_seq')

    op.drop_table('audit_anchor')
    op.drop_table('audit_checkpoint')
