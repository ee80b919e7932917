"""Issue 13: outbox messages carry the variables of a provider's SMS template (Alibaba Cloud adapter).

Revision ID: i13_outbox_params
Revises: i20_dashboard_snapshot
"""

import sqlalchemy as sa
from alembic import op

revision = "i13_outbox_params"
down_revision = "i20_dashboard_snapshot"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("params")
