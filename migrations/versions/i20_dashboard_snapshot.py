"""The auditor dashboard's figures built by the scheduler, read by requests (issue 20).

Revision ID: i20_dashboard_snapshot
Revises: i20_queue_counts
"""

import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "i20_dashboard_snapshot"
down_revision = "i20_queue_counts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("built_at", UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshot")),
    )


def downgrade():
    op.drop_table("dashboard_snapshot")
