"""PIPL: notices, consent records, transfers abroad, retention periods, restrictions, data requests (append-only ones guarded)

Revision ID: i15_privacy
Revises: i20_dashboard_snapshot
Create Date: 2026-12-01 21:30:00

"""

from alembic import op
import sqlalchemy as sa
import portal.models.base  # noqa: F401  (UTCDateTime)
from portal.db_guards import I15_TABLES, create_guards, drop_guards

revision = "i15_privacy"
down_revision = "i13_outbox_params"
branch_labels = None
depends_on = None

UTC = portal.models.base.UTCDateTime


def upgrade():
    notice = op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("kind", "version", name=op.f("uq_notice_kind")),
    )
    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insured_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("actor_name", sa.String(length=60), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("hospital_id", sa.Integer(), nullable=True),
        sa.Column("expert_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=30), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["insured_id"], ["insured_person.id"],
                                name=op.f("fk_consent_record_insured_id_insured_person")),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], name=op.f("fk_consent_record_notice_id_notice")),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_consent_record_actor_id_user")),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_consent_record_case_id_case")),
        sa.ForeignKeyConstraint(["hospital_id"], ["hospital.id"], name=op.f("fk_consent_record_hospital_id_hospital")),
        sa.ForeignKeyConstraint(["expert_id"], ["expert.id"], name=op.f("fk_consent_record_expert_id_expert")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.create_index("ix_consent_record_insured_purpose", ["insured_id", "purpose", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_record_case_id"), ["case_id"], unique=False)
    op.create_table(
        "transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("hospital_id", sa.Integer(), nullable=True),
        sa.Column("expert_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=30), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_transfer_case_id_case")),
        sa.ForeignKeyConstraint(["consent_id"], ["consent_record.id"],
                                name=op.f("fk_transfer_consent_id_consent_record")),
        sa.ForeignKeyConstraint(["hospital_id"], ["hospital.id"], name=op.f("fk_transfer_hospital_id_hospital")),
        sa.ForeignKeyConstraint(["expert_id"], ["expert.id"], name=op.f("fk_transfer_expert_id_expert")),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_transfer_actor_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
    )
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfer_case_id"), ["case_id"], unique=False)
    op.create_table(
        "retention_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("data_kind", sa.String(length=30), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"], name=op.f("fk_retention_period_product_id_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_period")),
        sa.UniqueConstraint("product_id", "data_kind", name=op.f("uq_retention_period_product_id")),
    )
    op.create_table(
        "data_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("insured_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTC(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTC(), nullable=True),
        sa.Column("outcome_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["insured_id"], ["insured_person.id"],
                                name=op.f("fk_data_request_insured_id_insured_person")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"], name=op.f("fk_data_request_requested_by_id_user")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_data_request_decided_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_request")),
    )
    with op.batch_alter_table("data_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_request_insured_id"), ["insured_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_request_status"), ["status"], unique=False)
    op.create_table(
        "restriction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_restriction_case_id_case")),
        sa.ForeignKeyConstraint(["request_id"], ["data_request.id"],
                                name=op.f("fk_restriction_request_id_data_request")),
        sa.ForeignKeyConstraint(["actor_id"], ["user.id"], name=op.f("fk_restriction_actor_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restriction")),
        sa.UniqueConstraint("object_type", "object_id", name=op.f("uq_restriction_object_type")),
    )
    with op.batch_alter_table("restriction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_restriction_case_id"), ["case_id"], unique=False)
    # append-only in the database itself (issue 16's helper)
    create_guards(op.get_bind(), I15_TABLES)

    # the first version of each notice is product data from day one (a later version is a new row)
    from portal.domain.privacy_data import NOTICES
    from portal.models.base import utcnow

    op.bulk_insert(notice, [{**n, "created_at": utcnow()} for n in NOTICES])


def downgrade():
    drop_guards(op.get_bind(), I15_TABLES)
    with op.batch_alter_table("restriction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_restriction_case_id"))
    op.drop_table("restriction")
    with op.batch_alter_table("data_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_request_status"))
        batch_op.drop_index(batch_op.f("ix_data_request_insured_id"))
    op.drop_table("data_request")
    op.drop_table("retention_period")
    with op.batch_alter_table("transfer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfer_case_id"))
    op.drop_table("transfer")
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_record_case_id"))
        batch_op.drop_index("ix_consent_record_insured_purpose")
    op.drop_table("consent_record")
    op.drop_table("notice")
