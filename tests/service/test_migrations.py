"""Upgrading a database that already holds patients and messages, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from reminders.db import make_engine, migrate
from reminders.models import Base

NOW = "2026-11-24 21:00:00"
ROWS = [
    "INSERT INTO aftercare_plan (id, key, name, description, updated_at) VALUES (1, 'p', 'Plan', '', :now)",
    "INSERT INTO patient (id, first_name, last_name, phone, email, language, time_zone, channel, consent_at,"
    " consent_method, consent_recorded_by, created_at) VALUES (1, 'A', 'B', '+14035550123', NULL, 'en',"
    " 'America/Edmonton', 'sms', :now, 'verbal', 'cli', :now)",
    "INSERT INTO enrollment (id, patient_id, plan_id, therapist_name, session_end, status, idempotency_key,"
    " created_at) VALUES (1, 1, 1, 'Sam', :now, 'active', NULL, :now)",
    "INSERT INTO message_template (id, key) VALUES (1, 'after-session')",
    "INSERT INTO template_version (id, template_id, locale, version, status, sms, email_subject, email_text,"
    " email_html, created_at, created_by) VALUES (1, 1, 'en', 1, 'published', 'hi', '', '', '', :now, 'init')",
    "INSERT INTO message (id, enrollment_id, patient_id, step_key, channel, locale, template_version_id, checkin,"
    " status, due_at, next_attempt_at, max_lateness_seconds, attempts, created_at, updated_at) VALUES"
    " (1, 1, 1, 'after-session', 'sms', 'en', 1, false, 'scheduled', :now, :now, 3600, 0, :now, :now)",
]


def database_at(
    revision: str, rows: list[str], backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[str, Engine]:
    """A database on `backend` migrated to `revision` and holding `rows` (:now is NOW)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        make: Callable[[str], str] = request.getfixturevalue("postgres_database")
        url = make(f"at{revision}")
    migrate(url, revision)
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in rows:
            connection.execute(text(statement), {"now": NOW})
    return url, engine


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_it_upgrades_a_database_with_data_in_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given a database at the first schema, holding an enrollment and its message
    url, engine = database_at("0001", ROWS, backend, tmp_path, request)

    # When it is upgraded to the newest schema
    migrate(url)

    # Then the rows are all there, and the new tables and columns too
    with engine.connect() as connection:
        assert (
            connection.execute(text("SELECT status FROM message WHERE id = 1")).scalar()
            == "scheduled"
        )
        assert (
            connection.execute(text("SELECT therapist_id FROM enrollment WHERE id = 1")).scalar()
            is None
        )
    tables = set(inspect(engine).get_table_names())
    assert {"reply", "flag", "app_user", "api_token", "clinic_alert"} <= tables
    if backend == "postgresql":  # and the audit log is append-only there
        with engine.connect() as connection:
            triggers = connection.execute(
                text(
                    "SELECT tgname FROM pg_trigger"
                    " WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"
                )
            ).scalars()
            assert "audit_event_append_only" in set(triggers)
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migrations_build_exactly_the_models_tables(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given a database built by the migrations alone
    _url, engine = database_at("head", [], backend, tmp_path, request)

    # When Alembic compares it with the models (columns, types, indexes, constraints)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()

    # Then there is nothing a new migration would have to add, drop or change
    assert differences == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize(
    ("table", "column", "word"),
    [
        ("message", "status", "sendng"),
        ("message", "channel", "whatsapp"),
        ("reply", "kind", "panic"),
        ("delivery_attempt", "outcome", "maybe"),
    ],
)
def test_the_database_refuses_a_word_outside_its_vocabulary(
    backend: str, table: str, column: str, word: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given an upgraded database holding a message (and a reply and an attempt on it)
    rows = [
        *ROWS,
        "INSERT INTO reply (id, patient_id, channel, received_at, text, kind) VALUES"
        " (1, 1, 'sms', :now, '4', 'score')",
        "INSERT INTO delivery_attempt (id, message_id, started_at, transport, outcome) VALUES"
        " (1, 1, :now, 'console', 'sent')",
    ]
    url, engine = database_at("0012", rows, backend, tmp_path, request)
    migrate(url)

    # When a statement that bypasses the models writes a word no vocabulary has
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {table} SET {column} = :word WHERE id = 1"), {"word": word}
        )

    # Then the row keeps its word
    with engine.connect() as connection:
        kept = connection.execute(text(f"SELECT {column} FROM {table} WHERE id = 1")).scalar()
    engine.dispose()
    assert kept in {"scheduled", "sms", "score", "sent"}
