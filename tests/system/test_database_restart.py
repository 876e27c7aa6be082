"""PostgreSQL restarts under a running deployment (issue 10): nothing is sent twice, nothing is
lost, and delivery resumes within a minute at the default leases.

The machine's own PostgreSQL serves every other test (and other suites beside this one), so
these tests restart a server of their own: a cluster made with `initdb` in a temporary folder,
on a free port, with the same binaries.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from fakes import FakeSmtp, FakeTwilio
from stack import Deployment
from test_never_twice import SHORT_LEASES, after_session, attempts, come_due, enroll

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))


class PrivateServer:
    """A PostgreSQL server of this test's own, which it may stop and start at will."""

    def __init__(self, root: Path) -> None:
        if not BINARIES:
            pytest.fail("PostgreSQL's server binaries are needed (Debian's postgresql package)")
        self.bin = Path(BINARIES[-1])
        self.data = root / "data"
        self.log = root / "server.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/reminders"
        self._as_owner: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root: the server runs as postgres
            owner = pwd.getpwnam("postgres")
            os.chown(root, owner.pw_uid, owner.pw_gid)
            self._as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_owner, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{tool}: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: every open connection is cut, as in a restart or a failover."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self) -> None:
        admin = sqlalchemy.create_engine(
            self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text("CREATE DATABASE reminders"))
        admin.dispose()


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    root = Path(tempfile.mkdtemp(prefix="reminders-pg-"))
    try:
        server = PrivateServer(root)
        server.start()
        server.create_database()
        yield server
        with contextlib.suppress(AssertionError):
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def restartable(
    server: PrivateServer,
    redis_url: str,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    """A worker and a scheduler at the production leases, on the test's own server."""
    fake_twilio.reset()
    fake_smtp.reset()
    stack = Deployment(
        "pg-restart", server.url, redis_url, fake_twilio, fake_smtp, request.config.rootpath
    )
    for name in SHORT_LEASES:
        stack.env.pop(name)
    stack.init()
    stack.start()
    yield stack
    stack.stop()


def restart(server: PrivateServer, stack: Deployment) -> float:
    """Stop the server, start it again; returns when it was back (monotonic time)."""
    server.stop()
    stack.engine.dispose()  # the test's own connections are as stale as the workers'
    server.start()
    return time.monotonic()


def test_an_email_taken_while_postgresql_restarts_is_recorded_once(
    server: PrivateServer, restartable: Deployment
) -> None:
    # Given an email on its way, the mail server slow to answer the final dot
    stack = restartable
    enroll(stack, "email")
    stack.smtp.answer_late_next(1, on="DATA")
    come_due(stack)
    stack.smtp.wait_for_command("DATA", timeout=60)

    # When PostgreSQL goes down while the server takes it, so that the worker cannot record
    # it, and comes back once the worker has tried
    server.stop()
    stack.engine.dispose()
    stack.smtp.wait_for(1, timeout=30)
    stack.wait_until(
        lambda: "OperationalError" in stack.logs(), timeout=60, what="the worker to fail"
    )
    server.start()
    back = time.monotonic()

    # Then it reached the server once, and its row ends settled within a minute
    message = after_session(stack, "email", "sent", timeout=120)
    settled = time.monotonic() - back
    assert settled < 60, f"recorded {settled:.1f} s after PostgreSQL came back"
    assert len(stack.smtp.messages) == 1
    assert message.provider_id in (None, stack.smtp.messages[0]["Message-ID"])
    final = [outcome for outcome, _ in attempts(stack)]
    assert final.count("sent") + final.count("unsure") == 1, final
    assert not {"in_flight", "handed_over"} & set(final), final
    print(f"\nemail recorded {settled:.1f} s after PostgreSQL came back")


def test_texts_due_across_a_postgresql_restart_go_out_once_within_a_minute(
    server: PrivateServer, restartable: Deployment
) -> None:
    # Given three texts due, and the workers' pooled connections all open
    stack = restartable
    phones = [f"+1403555{300 + i:04d}" for i in range(3)]
    for i, phone in enumerate(phones):
        enroll(stack, "sms", phone=phone, name=f"Pat{i}")

    # When PostgreSQL restarts just before they come due
    back = restart(server, stack)
    come_due(stack)

    # Then each goes out once, the first within a minute of the restart
    stack.twilio.wait_for(1, timeout=120)
    first = time.monotonic() - back
    assert first < 60, f"first text {first:.1f} s after PostgreSQL came back"
    stack.twilio.wait_for(len(phones), timeout=120)
    stack.wait_until(
        lambda: all(m.status == "sent" for m in stack.messages(step_key="after-session")),
        timeout=120,
        what="every text recorded as sent",
    )
    assert sorted(m["to"] for m in stack.twilio.messages) == sorted(phones)
    assert all(p.poll() is None for p in stack.processes.values()), stack.logs()[-3000:]
    print(f"\nfirst text {first:.1f} s after PostgreSQL came back")
