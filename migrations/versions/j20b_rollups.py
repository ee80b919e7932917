"""Report figures as a rollup kept by the writing transaction, and the indexes of the reports' bounded reads
(issue 20).

Revision ID: j20b_rollups
Revises: j14_outcome_corrections
"""

import sqlalchemy as sa
from alembic import op

revision = "j20b_rollups"
down_revision = "j14_outcome_corrections"
branch_labels = None
depends_on = None

OPEN = "('submitted', 'verifying', 'awaiting_documents', 'in_service')"
INDEXES = [
    ("ix_case_closed_at", "case", ["closed_at"]),
    ("ix_case_event_action_at", "case_event", ["action", "at"]),
    ("ix_case_event_from_status_at", "case_event", ["from_status", "at"]),
    ("ix_sla_clock_stopped_at", "sla_clock", ["stopped_at"]),
    ("ix_sla_clock_state_breached_at", "sla_clock", ["state", "breached_at"]),
    ("ix_audit_anchor_checkpoint", "audit_anchor", ["checkpoint_id", "case_id", "seq"]),
]


def _day(column: str) -> str:
    """The Asia/Shanghai (UTC+8, no daylight saving) date of a naive UTC timestamp column."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST({column} + INTERVAL '8 hours' AS DATE)"
    return f"date({column}, '+8 hours')"


def upgrade():
    op.create_table(
        "figure_rollup",
        sa.Column("line_code", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figure", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("line_code", "day", "figure", name=op.f("pk_figure_rollup")),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # the cases and clocks already there: the marks of portal.domain.rollups, counted in SQL
    later = "CASE WHEN closed_at > submitted_at THEN closed_at ELSE submitted_at END"
    op.execute(f"""
        INSERT INTO figure_rollup (line_code, day, figure, n)
        SELECT line_code, day, figure, COUNT(*) FROM (
            SELECT line_code, {_day('submitted_at')} AS day, 'opened' AS figure FROM "case"
                WHERE submitted_at IS NOT NULL
            UNION ALL SELECT line_code, {_day('closed_at')}, status FROM "case"
                WHERE closed_at IS NOT NULL AND status IN ('completed', 'terminated', 'cancelled')
            UNION ALL SELECT line_code, {_day(later)}, 'left' FROM "case"
                WHERE closed_at IS NOT NULL AND submitted_at IS NOT NULL
            UNION ALL SELECT line_code, {_day('submitted_at')}, 'left' FROM "case"
                WHERE closed_at IS NULL AND submitted_at IS NOT NULL AND status NOT IN {OPEN}
            UNION ALL SELECT c.line_code, {_day('k.stopped_at')}, 'met' FROM sla_clock k
                JOIN "case" c ON c.id = k.case_id WHERE k.outcome = 'met' AND k.stopped_at IS NOT NULL
            UNION ALL SELECT c.line_code, {_day('COALESCE(k.breached_at, k.stopped_at)')}, 'breached' FROM sla_clock k
                JOIN "case" c ON c.id = k.case_id
                WHERE (k.breached OR k.outcome = 'breached') AND COALESCE(k.breached_at, k.stopped_at) IS NOT NULL
        ) marks GROUP BY line_code, day, figure""")


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("figure_rollup")
