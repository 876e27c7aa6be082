"""Shared fixtures: real Redis, real SQLite and PostgreSQL, real worker and scheduler processes.

Only Twilio and SMTP are faked, by real servers on 127.0.0.1 (tests/fakes). Tests that
need Redis or PostgreSQL fail, never skip, when those servers are missing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fakes import FakeSmtp, FakeTwilio
from sqlalchemy import create_engine, text
from stack import Deployment

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
HOW_TO_START = "see .ci/run for the commands that start Redis and PostgreSQL"
DEPLOYMENT_FIXTURES = ("deployment", "own_stack")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgresql_only` run against PostgreSQL (production's database) and not
    SQLite as well: what they check (pages in a browser) does not differ between databases,
    which the API and service tests cover on both."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("postgresql_only")
        and (callspec := getattr(item, "callspec", None)) is not None
        and any(callspec.params.get(name) == "sqlite" for name in DEPLOYMENT_FIXTURES)
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [item for item in items if item not in gone]


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} ({exc}); {HOW_TO_START}", pytrace=False)
    return REDIS_URL


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Callable[[str], str]]:
    """Makes fresh databases for this test run (URL returned); all dropped afterwards."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is required at {POSTGRES_ADMIN_URL} ({exc}); {HOW_TO_START}", pytrace=False
        )
    made: list[str] = []

    def make(label: str) -> str:
        name = f"reminders_test_{os.getpid()}_{label}_{len(made)}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as fake:
        yield fake


def _deployment(
    request: pytest.FixtureRequest,
    name: str,
    url: str,
    redis_url: str,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> Iterator[Deployment]:
    deployment = Deployment(
        name, url, redis_url, fake_twilio, fake_smtp, Path(str(request.config.rootpath))
    )
    deployment.init()
    deployment.start()
    yield deployment
    deployment.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest,
    redis_url: str,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """A running worker and scheduler against each database, shared by the tests using it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'reminders.db'}"
    else:
        url = request.getfixturevalue("postgres_database")("shared")
    yield from _deployment(request, request.param, url, redis_url, fake_twilio, fake_smtp)


@pytest.fixture
def stack(deployment: Deployment) -> Iterator[Deployment]:
    """The shared deployment, emptied of patients and messages, its fakes reset."""
    deployment.reset()
    yield deployment
    deployment.stop_extras()  # a test that failed before stopping what it added
    deployment.ensure_running()


@pytest.fixture(params=["sqlite", "postgresql"])
def own_stack(
    request: pytest.FixtureRequest,
    redis_url: str,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
    tmp_path: Path,
) -> Iterator[Deployment]:
    """A deployment of its own, for tests that kill, flush or add processes."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'own.db'}"
    else:
        url = request.getfixturevalue("postgres_database")("own")
    fake_twilio.reset()
    fake_smtp.reset()
    yield from _deployment(request, f"own-{request.param}", url, redis_url, fake_twilio, fake_smtp)
