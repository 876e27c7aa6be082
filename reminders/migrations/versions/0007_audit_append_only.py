"""audit append-only: on PostgreSQL a trigger refuses UPDATE and DELETE of audit_event rows

The audit log is evidence: nothing may change or remove an event once written. Row triggers
do not fire on TRUNCATE, which stays possible for an operator (and for the test suite's
reset). SQLite gets no trigger: it is for trying the service and for tests, and it has no
TRUNCATE to empty the table with.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "audit_event_append_only"
TRIGGER = "audit_event_append_only"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit is append-only: % on audit_event refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON audit_event"
        f" FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON audit_event")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
