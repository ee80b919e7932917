"""issue 14: idempotency keys, reminder keys and settings, ratings, voided entries

Revision ID: i14_everyday_loop
Revises: i15_privacy
Create Date: 2026-12-01 21:40:00

"""

from alembic import op
import sqlalchemy as sa
import portal.models.base  # noqa: F401  (UTCDateTime)

revision = "i14_everyday_loop"
down_revision = "i15_privacy"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_form_submission_case_id_case")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_form_submission_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
        sa.UniqueConstraint("key", name=op.f("uq_form_submission_key")),
    )
    op.create_table(
        "service_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("insured_id", sa.Integer(), nullable=False),
        sa.Column("line_code", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_service_rating_case_id_case")),
        sa.ForeignKeyConstraint(["insured_id"], ["insured_person.id"],
                                name=op.f("fk_service_rating_insured_id_insured_person")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_service_rating_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_rating")),
        sa.UniqueConstraint("case_id", name=op.f("uq_service_rating_case_id")),
    )
    with op.batch_alter_table("service_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_rating_insured_id"), ["insured_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_rating_created_at"), ["created_at"], unique=False)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_notification_key"), ["key"])
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_days", sa.JSON(), nullable=False, server_default="[3, 7]"))
        batch_op.add_column(sa.Column("materials_limit_days", sa.Integer(), nullable=False, server_default="15"))
    for table in ("bill", "escort_hour_log"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("voided_at", portal.models.base.UTCDateTime(), nullable=True))
            batch_op.add_column(sa.Column("void_reason", sa.String(length=200), nullable=True))


def downgrade():
    for table in ("escort_hour_log", "bill"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("void_reason")
            batch_op.drop_column("voided_at")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("materials_limit_days")
        batch_op.drop_column("reminder_days")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_notification_key"), type_="unique")
        batch_op.drop_column("key")
    with op.batch_alter_table("service_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_rating_created_at"))
        batch_op.drop_index(batch_op.f("ix_service_rating_insured_id"))
    op.drop_table("service_rating")
    op.drop_table("form_submission")
