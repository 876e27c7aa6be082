"""Alembic environment: the URL comes from the caller's Config (see reminders.db.migrate)."""

from __future__ import annotations

from alembic import context

from reminders.db import make_engine
from reminders.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
engine = make_engine(url)
with engine.connect() as connection:
    if url.startswith("sqlite"):
        # SQLite alters a table by copying it; with foreign keys enforced, dropping the
        # old copy fails while other tables point at it. Off for the migration only
        # (outside any transaction, where SQLite honours it).
        connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
