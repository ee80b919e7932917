"""The dashboard's live clock counts as a rollup kept by the writing transaction, and an index for its short
lists (issue 20).

Revision ID: j20b_live_clocks
Revises: j20b_rollups
"""

import sqlalchemy as sa
from alembic import op

revision = "j20b_live_clocks"
down_revision = "j20b_rollups"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "live_clock_count",
        sa.Column("line_code", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("line_code", "state", "due_date", "breached", name=op.f("pk_live_clock_count")),
    )
    # clocks stopped after an instant, in deadline order, from the index alone (the dashboard's short lists)
    op.create_index("ix_sla_clock_stopped_deadline", "sla_clock", ["stopped_at", "deadline", "id"])
    # the clocks already there (a clock without a due date under 0001-01-01, as portal.domain.live_clocks)
    op.execute("""
        INSERT INTO live_clock_count (line_code, state, due_date, breached, n)
        SELECT c.line_code, k.state, COALESCE(k.due_date, '0001-01-01'), k.breached, COUNT(*)
        FROM sla_clock k JOIN "case" c ON c.id = k.case_id WHERE k.state IN ('running', 'paused')
        GROUP BY c.line_code, k.state, COALESCE(k.due_date, '0001-01-01'), k.breached""")


def downgrade():
    op.drop_index("ix_sla_clock_stopped_deadline", table_name="sla_clock")
    op.drop_table("live_clock_count")
