"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from reminders.built_once import BuiltOnce
from reminders.config import Settings, get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# Connections beyond one per delivery: anything else a worker process does (the first
# delivery's look at the clock, a health check), so that no delivery waits for a connection.
SPARE_CONNECTIONS = 4


def make_engine(url: str, *, connections: int = 5) -> Engine:
    """An engine tuned for several processes sharing one database, with `connections` (one
    per delivery a worker process runs at once) kept open, and a few spare.

    Bound values are never put in errors or logs (hide_parameters): they are patients'
    names, numbers and messages, and a failed INSERT would otherwise print them all.

    SQLite: WAL so readers never wait for the writer, a busy timeout instead of
    "database is locked" errors, and BEGIN IMMEDIATE so that a transaction that will
    write takes the write lock up front (the dispatcher's claim relies on it). A file
    database is shared by the worker's threads: a pool of connections, each used by one thread
    at a time (check_same_thread off, as SQLAlchemy does for files anyway); writers queue on
    the busy timeout, readers never wait (WAL).
    """
    if not url.startswith("sqlite"):
        # Pre-ping: a connection left dead by a PostgreSQL restart is replaced at checkout
        # rather than failing a task (which could be the one recording an accepted email).
        return create_engine(
            url,
            hide_parameters=True,
            pool_pre_ping=True,
            pool_recycle=1800,
            pool_size=connections,
            max_overflow=SPARE_CONNECTIONS,
        )
    file_database = url not in ("sqlite://", "sqlite:///:memory:") and "mode=memory" not in url
    engine = create_engine(
        url,
        hide_parameters=True,
        connect_args={"timeout": 30, "check_same_thread": False},
        **({"pool_size": connections, "max_overflow": SPARE_CONNECTIONS} if file_database else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_engines = BuiltOnce(lambda url, connections: make_engine(url, connections=connections))
# The session factory of each Settings in use, by identity: session_scope() is on the delivery's
# hot path, and an id and a dict read cost less than building the key from the settings. The
# entry holds its Settings, so no other object can take its id while the entry is here.
_factories: dict[int, tuple[Settings, sessionmaker[Session]]] = {}
_factories_lock = threading.Lock()


def _session_factory() -> sessionmaker[Session]:
    settings = get_settings()
    found = _factories.get(id(settings))
    if found is None:
        with _factories_lock:
            found = _factories.get(id(settings))
            if found is None:
                engine = _engines(settings.sqlalchemy_url, settings.deliveries_per_process)
                found = (settings, sessionmaker(engine, expire_on_commit=False))
                _factories[id(settings)] = found
    return found[1]


def get_engine() -> Engine:
    """The engine of the settings in use (get_settings), built once per database in this
    process: one for a deployment's process, one per web app a test builds on its own."""
    settings = get_settings()
    return _engines(settings.sqlalchemy_url, settings.deliveries_per_process)


def reset_engine() -> None:
    """Forget this process's engines (after a fork, each child opens its own connections)."""
    for engine in _engines.built():
        engine.dispose(close=False)
    _engines.cache_clear()
    with _factories_lock:
        _factories.clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    with _session_factory().begin() as session:
        yield session


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Bring the database schema to `revision` (default the newest; creates a SQLite file)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", (url or get_settings().sqlalchemy_url).replace("%", "%%")
    )
    command.upgrade(config, revision)
