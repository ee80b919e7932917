"""Issue 13: session generation, one-time registration codes, outbound messages, rate-limit counters.

Revision ID: i13_identity
Revises: i17_promises
"""

import sqlalchemy as sa
from alembic import op

from portal.models.base import UTCDateTime

revision = "i13_identity"
down_revision = "i16_audit_trail"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "registration_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("insured_id", sa.Integer(), sa.ForeignKey("insured_person.id"), nullable=False),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(45), nullable=True),
    )
    op.create_index("ix_registration_code_insured_id", "registration_code", ["insured_id"])
    op.create_table(
        "outbound_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notification.id"), nullable=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alert.id"), nullable=True),
    )
    op.create_index("ix_outbound_message_status_next", "outbound_message", ["status", "next_attempt_at"])
    op.create_table(
        "rate_limit_counter",
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade():
    op.drop_table("rate_limit_counter")
    op.drop_index("ix_outbound_message_status_next", table_name="outbound_message")
    op.drop_table("outbound_message")
    op.drop_index("ix_registration_code_insured_id", table_name="registration_code")
    op.drop_table("registration_code")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_generation")
