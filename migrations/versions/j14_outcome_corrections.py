"""issue 14: outcome corrections (a new row, never an edit); ratings, corrections and idempotency keys append-only

Revision ID: j14_outcome_corrections
Revises: i14_everyday_loop
Create Date: 2026-12-02 00:30:00

"""

from alembic import op
import sqlalchemy as sa
import portal.models.base  # noqa: F401  (UTCDateTime)
from portal.db_guards import J14_TABLES, create_guards, drop_guards

revision = "j14_outcome_corrections"
down_revision = "i14_everyday_loop"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outcome_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("escort_assignment_id", sa.Integer(), nullable=True),
        sa.Column("from_outcome", sa.String(length=10), nullable=False),
        sa.Column("to_outcome", sa.String(length=10), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("corrected_by_id", sa.Integer(), nullable=True),
        sa.Column("corrected_at", portal.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_outcome_correction_case_id_case")),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"],
                                name=op.f("fk_outcome_correction_appointment_id_appointment")),
        sa.ForeignKeyConstraint(["escort_assignment_id"], ["escort_assignment.id"],
                                name=op.f("fk_outcome_correction_escort_assignment_id_escort_assignment")),
        sa.ForeignKeyConstraint(["corrected_by_id"], ["user.id"],
                                name=op.f("fk_outcome_correction_corrected_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_correction")),
    )
    with op.batch_alter_table("outcome_correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcome_correction_case_id"), ["case_id"], unique=False)
    create_guards(op.get_bind(), J14_TABLES)


def downgrade():
    drop_guards(op.get_bind(), J14_TABLES)
    with op.batch_alter_table("outcome_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_correction_case_id"))
    op.drop_table("outcome_correction")
