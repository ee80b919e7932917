"""Drop the write-generation counter of the removed page cache (issue 20).

Revision ID: i20_drop_data_generation
Revises: a9f9831f7ae1
"""

import sqlalchemy as sa
from alembic import op

revision = "i20_drop_data_generation"
down_revision = "a9f9831f7ae1"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("data_generation")


def downgrade():
    op.create_table(
        "data_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_generation")),
    )
