"""case_event.xid set by a trigger, not a column default: an INSERT that names xid (a copied row, a hand-written
one, xid NULL) would otherwise choose where the checkpoint watermark looks, and an event below the latest
checkpoint's xmin is never anchored nor checked by `verify_since_latest` (portal.domain.event_watermark).

Revision ID: j21d_event_xid_trigger
Revises: j21c_event_xid
"""

from alembic import op

revision = "j21d_event_xid_trigger"
down_revision = "j21c_event_xid"
branch_labels = None
depends_on = None

FUNCTION = """CREATE OR REPLACE FUNCTION portal_case_event_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$"""
TRIGGER = ("CREATE TRIGGER case_event_xid BEFORE INSERT ON case_event FOR EACH ROW "
           "EXECUTE FUNCTION portal_case_event_xid()")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_xid ON case_event")
        op.execute("DROP FUNCTION IF EXISTS portal_case_event_xid()")
