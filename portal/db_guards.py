"""Append-only in the database itself (SPEC §7 "Audit", issue 16): triggers that refuse UPDATE and DELETE
(and, on PostgreSQL, TRUNCATE) of the record tables, on SQLite and PostgreSQL.

The ORM refuses the same writes earlier (portal.models: `_refuse`); these triggers also stop raw SQL and any
other client of the database. A database owner can still drop them: what catches that is the hash chains and
the signed checkpoints of portal.domain.checkpoints, checked against the receipts 史带 keeps.

A table is guarded as a whole (`Guard()`), only for rows matching a condition on OLD (`document`: only
delivered reports are frozen; documents under review still change), or only in some columns (`insurer_delivery`:
what was delivered is frozen, its e-mail status and 已阅 mark still change; DELETE is refused always).
A later migration guards a new table with `create_guards(op.get_bind(), {"consent_record": Guard()})` (and
`drop_guards` with the same mapping in its downgrade), and adds the table to GUARDED. On SQLite a
`batch_alter_table` that copies a guarded table loses its triggers: call `create_guards` for that table again
after it (tests/domain/test_audit_trail.py checks that every table of GUARDED has its triggers at head).
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import text


@dataclass(frozen=True)
class Guard:
    """What of a table is frozen: every row (the default), the rows matching `when` (a condition on OLD), or —
    with `columns` — UPDATEs that change one of these columns (DELETE then refused for every row)."""

    when: str | None = None
    columns: tuple[str, ...] = ()

    def update_condition(self, postgres: bool) -> str | None:
        if not self.columns:
            return self.when
        if postgres:  # ::text, because json has no equality operator
            return " OR ".join(f'OLD."{c}"::text IS DISTINCT FROM NEW."{c}"::text' for c in self.columns)
        return " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in self.columns)

    def delete_condition(self) -> str | None:
        return None if self.columns else self.when


GUARDED: dict[str, Guard] = {
    "case_event": Guard(),
    "audit_log": Guard(),
    "weekly_report": Guard(),
    "entitlement_entry": Guard(),  # the ledger's movements; the balance row `entitlement` is a counter it UPDATEs
    "document": Guard(when="OLD.delivered_at IS NOT NULL"),  # delivered reports (and the files 史带 was sent)
    # the delivery to 史带 itself; e-mail status and 已阅 are filled in later
    "insurer_delivery": Guard(columns=("kind", "case_id", "weekly_report_id", "document_ids", "title",
                                       "created_at")),
    "audit_checkpoint": Guard(),
    "audit_anchor": Guard(),
}

#: what the tables of the issue-16 migration are guarded with (fixed: GUARDED grows with later migrations)
I16_TABLES = dict(GUARDED)
#: issue 15 (migration i15_privacy): notices, consent records, transfers abroad and restrictions
I15_TABLES = {"notice": Guard(), "consent_record": Guard(), "transfer": Guard(), "restriction": Guard()}
GUARDED.update(I15_TABLES)
#: issue 14 (migration j14_outcome_corrections): ratings given once, outcome corrections, and the idempotency
#: keys — whose key, owner and purpose are frozen while `case_id` is filled in once the create has made its case
J14_TABLES = {"service_rating": Guard(), "outcome_correction": Guard(),
              "form_submission": Guard(columns=("key", "user_id", "purpose", "created_at"))}
GUARDED.update(J14_TABLES)

PG_FUNCTION = "portal_append_only"
_PG_CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', HINT = 'corrections are new rows';
END;
$$"""


def _names(table: str) -> tuple[str, str, str]:
    return f"{table}_no_update", f"{table}_no_delete", f"{table}_no_truncate"


def _sqlite_create(table: str, guard: Guard) -> list[str]:
    no_update, no_delete, _ = _names(table)
    statements = []
    for name, op, condition in ((no_update, "UPDATE", guard.update_condition(False)),
                                (no_delete, "DELETE", guard.delete_condition())):
        when = f" WHEN {condition}" if condition else ""
        statements.append(f'CREATE TRIGGER IF NOT EXISTS "{name}" BEFORE {op} ON "{table}" FOR EACH ROW{when} '
                          f"BEGIN SELECT RAISE(ABORT, 'append-only: {op} on {table} refused'); END")
    return statements


def _pg_create(table: str, guard: Guard) -> list[str]:
    no_update, no_delete, no_truncate = _names(table)
    statements = [f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"' for name in (no_update, no_delete, no_truncate)]
    for name, op, condition in ((no_update, "UPDATE", guard.update_condition(True)),
                                (no_delete, "DELETE", guard.delete_condition())):
        when = f" WHEN ({condition})" if condition else ""
        statements.append(f'CREATE TRIGGER "{name}" BEFORE {op} ON "{table}" FOR EACH ROW{when} '
                          f"EXECUTE FUNCTION {PG_FUNCTION}()")
    statements.append(f'CREATE TRIGGER "{no_truncate}" BEFORE TRUNCATE ON "{table}" FOR EACH STATEMENT '
                      f"EXECUTE FUNCTION {PG_FUNCTION}()")
    return statements


def create_guards(bind, tables: Mapping[str, Guard] | None = None) -> None:
    """Install the triggers on `tables` (default: GUARDED); `bind` is a Connection or Session."""
    tables = GUARDED if tables is None else tables
    postgres = _dialect(bind) == "postgresql"
    if postgres:
        bind.execute(text(_PG_CREATE_FUNCTION))
    for table, guard in tables.items():
        for statement in (_pg_create if postgres else _sqlite_create)(table, guard):
            bind.execute(text(statement))


def drop_guards(bind, tables: Mapping[str, Guard] | None = None) -> None:
    """Remove the triggers from `tables` (default: GUARDED); the PostgreSQL function stays (others may use it)."""
    tables = GUARDED if tables is None else tables
    postgres = _dialect(bind) == "postgresql"
    for table in tables:
        for name in _names(table):
            bind.execute(text(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"' if postgres
                              else f'DROP TRIGGER IF EXISTS "{name}"'))


def drop_function(bind) -> None:
    """Remove the PostgreSQL trigger function (the downgrade of the migration that created it)."""
    if _dialect(bind) == "postgresql":
        bind.execute(text(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"))


def installed(bind) -> set[str]:
    """Names of the guard triggers present in the database."""
    if _dialect(bind) == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    wanted = {name for table in GUARDED for name in _names(table)}
    return {row[0] for row in bind.execute(text(query))} & wanted


def expected_names(table: str, *, postgres: bool) -> set[str]:
    """The trigger names a guarded table has on this dialect."""
    names = _names(table)
    return set(names if postgres else names[:2])


@contextmanager
def suspended(session) -> Iterator[None]:
    """Drop the guards, run the block, put them back — in the caller's transaction. For the test suite's
    reset between tests (tests/conftest.py) and for nothing in the application."""
    drop_guards(session)
    try:
        yield
    finally:
        create_guards(session)


def _dialect(bind) -> str:
    return (bind.get_bind() if hasattr(bind, "get_bind") else bind).dialect.name
