"""The web app in this process (tests/in_process.py) for the tests of tests/service.

`stack` here is an InProcessWeb: the same database set-up, reset, data helpers and fakes as
the system tests' stack, with the web app served by a TestClient (`web_client(stack)`) in
this process, and no worker, scheduler or web process. Tests that need one are in tests/system.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Task
from fakes import FakeSmtp, FakeTwilio
from in_process import InProcessWeb


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def web_app(
    request: pytest.FixtureRequest,
    redis_url: str,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[InProcessWeb]:
    """The web app over each database, shared by the tests using it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'reminders.db'}"
    else:
        url = request.getfixturevalue("postgres_database")("web")
    web = InProcessWeb(
        f"web-{request.param}",
        url,
        redis_url,
        fake_twilio,
        fake_smtp,
        Path(str(request.config.rootpath)),
    )
    web.init()
    yield web
    web.stop()


@pytest.fixture
def stack(web_app: InProcessWeb, monkeypatch: pytest.MonkeyPatch) -> InProcessWeb:
    """The shared web app's database emptied of patients and messages, its fakes reset. A
    request that queues a task (an emergency's clinic alert) fails the test: no worker runs
    here, and this process's Celery app points at the environment's Redis, not the test's."""
    web_app.reset()
    monkeypatch.setattr(Task, "apply_async", _no_worker_here)
    return web_app


def _no_worker_here(*_args: object, **_kwargs: object) -> None:
    # pytest.fail, a BaseException: the web app's fallback for a broker that is down
    # (`except Exception`) must not hide it
    pytest.fail("this test queues a task, which needs the worker: it belongs in tests/system")
