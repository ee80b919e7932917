"""issue 17: case-number counter, pause log, directory-at-request-time, expert grade, reports to 史带

Revision ID: i17_promises
Revises: a9f9831f7ae1
"""

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = "i17_promises"
down_revision = "i20_drop_data_generation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_ref_counter",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_case_ref_counter")),
    )
    op.create_table(
        "insurer_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("weekly_report_id", sa.Integer(), nullable=True),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", portal.models.base.UTCDateTime(), nullable=False),
        sa.Column("email_to", sa.String(length=200), nullable=True),
        sa.Column("emailed_at", portal.models.base.UTCDateTime(), nullable=True),
        sa.Column("email_error", sa.String(length=300), nullable=True),
        sa.Column("read_at", portal.models.base.UTCDateTime(), nullable=True),
        sa.Column("read_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_insurer_delivery_case_id_case")),
        sa.ForeignKeyConstraint(["read_by_id"], ["user.id"], name=op.f("fk_insurer_delivery_read_by_id_user")),
        sa.ForeignKeyConstraint(["weekly_report_id"], ["weekly_report.id"],
                                name=op.f("fk_insurer_delivery_weekly_report_id_weekly_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurer_delivery")),
    )
    with op.batch_alter_table("insurer_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_insurer_delivery_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_insurer_delivery_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pauses", sa.JSON(), nullable=True))
    with op.batch_alter_table("hospital", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", portal.models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("expert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hospital_grade", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("expert", schema=None) as batch_op:
        batch_op.drop_column("hospital_grade")
    with op.batch_alter_table("hospital", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
    with op.batch_alter_table("sla_clock", schema=None) as batch_op:
        batch_op.drop_column("pauses")
    with op.batch_alter_table("insurer_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insurer_delivery_created_at"))
        batch_op.drop_index(batch_op.f("ix_insurer_delivery_case_id"))
    op.drop_table("insurer_delivery")
    op.drop_table("case_ref_counter")
