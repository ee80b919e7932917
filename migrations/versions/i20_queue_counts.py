"""The work queue's tab counts as a rollup kept by the writing transaction (issue 20).

Revision ID: i20_queue_counts
Revises: i17_promises
"""

import sqlalchemy as sa
from alembic import op

revision = "i20_queue_counts"
down_revision = "i13_identity"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "queue_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("line_code", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=30), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_count")),
        sa.UniqueConstraint("assignee_id", "status", "line_code", "city", name=op.f("uq_queue_count_assignee_id")),
    )
    # the cases already there
    op.execute("INSERT INTO queue_count (assignee_id, status, line_code, city, n) "
               "SELECT COALESCE(assignee_id, 0), status, line_code, COALESCE(city, ''), COUNT(*) FROM \"case\" "
               "GROUP BY COALESCE(assignee_id, 0), status, line_code, COALESCE(city, '')")


def downgrade():
    op.drop_table("queue_count")
