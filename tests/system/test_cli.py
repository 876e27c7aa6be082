"""The `reminders` command line as a therapist or operator uses it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import typer
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from reminders.cli import processes
from reminders.clock import set_clock
from reminders.db import make_engine
from reminders.models import Enrollment, Message, Patient

EDMONTON = ZoneInfo("America/Edmonton")
EDMONTON_DST_SESSION = "2026-03-07T15:00"  # the night before spring forward


def run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp / 'cli.db'}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "HOME": str(tmp),
    }
    return subprocess.run(
        [sys.executable, "-m", "reminders", *args],
        env={**base, **env},
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )


def freeze_clock(tmp: Path, when: datetime) -> None:
    engine = make_engine(f"sqlite:///{tmp / 'cli.db'}")
    with Session(engine) as session, session.begin():
        set_clock(session, simulated=when, speed=0)
    engine.dispose()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised clinic whose clock stands at 2026-11-24 15:00 in Edmonton."""
    tmp = tmp_path_factory.mktemp("cli")
    done = run(tmp, "init")
    assert done.returncode == 0, done.stderr
    assert "1 plan(s)" in done.stderr
    freeze_clock(tmp, datetime(2026, 11, 24, 15, 0, tzinfo=EDMONTON))
    return tmp


def counts(tmp: Path) -> tuple[int, int, int]:
    engine = create_engine(f"sqlite:///{tmp / 'cli.db'}")
    with engine.connect() as connection:
        result = tuple(
            connection.scalar(select(func.count()).select_from(m)) or 0
            for m in (Patient, Enrollment, Message)
        )
    engine.dispose()
    return result  # type: ignore[return-value]


def test_it_initialises_twice_without_loading_anything_twice(clinic: Path) -> None:
    done = run(clinic, "init")
    assert done.returncode == 0
    assert "0 plan(s), 0 template version(s) added" in done.stderr


GOOD = [
    "--first-name",
    "Ana",
    "--last-name",
    "Lee",
    "--phone",
    "(403) 555-0123",
    "--email",
    "ana@example.com",
    "--channel",
    "both",
    "--session-end",
    "2026-11-24T14:00",
]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--phone", "12345"], "phone number is not a valid number"),
        (["--phone", "not a phone"], "phone number is not a phone number"),
        (["--email", "ana@"], "email address is not valid"),
        (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--plan", "acupuncture"], "unknown plan 'acupuncture'"),
        (["--session-end", "yesterday-ish"], "is not 'now' or an ISO 8601 time"),
        (["--session-end", "2099-01-01T10:00"], "session end is in the future"),
        (["--session-end", "2020-01-01T10:00"], "session end is more than 14 days ago"),
        (["--channel", "pigeon"], "channel must be sms, email or both"),
        (["--language", "de"], "language must be en or fr"),
        (["--channel", "sms", "--phone", ""], "channel sms needs a mobile phone number"),
        (["--first-name", " "], "first name is required"),
    ],
)
def test_it_refuses_bad_input_with_one_line_and_writes_nothing(
    clinic: Path, change: list[str], message: str
) -> None:
    # Given the good arguments with one of them spoiled
    args = list(GOOD)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    before = counts(clinic)

    # When the therapist runs the command
    done = run(clinic, "enroll", *args)

    # Then exit code 2, a single line naming the problem, no traceback, nothing saved
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "403" not in done.stderr
    assert counts(clinic) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (GOOD[2:], "Missing option '--first-name'"),
        ([*GOOD, "--colour", "blue"], "No such option: --colour"),
        (GOOD[:-1], "Option '--session-end' requires an argument"),
    ],
)
def test_it_refuses_a_malformed_command_with_one_line(
    clinic: Path, args: list[str], message: str
) -> None:
    before = counts(clinic)
    done = run(clinic, "enroll", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert message in done.stderr
    assert counts(clinic) == before


def test_it_says_to_run_init_when_the_database_is_not_set_up(tmp_path: Path) -> None:
    done = run(tmp_path, "enroll", *GOOD)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot use the database at DATABASE_URL=sqlite:///")
    assert "run `reminders init`" in done.stderr


def test_it_shows_a_dry_run_as_json_with_local_offsets_across_dst(clinic: Path) -> None:
    # Given a session the evening before clocks spring forward in Edmonton
    before = counts(clinic)

    # When the therapist asks for a dry run that evening
    freeze_clock(clinic, datetime(2026, 3, 7, 15, 5, tzinfo=EDMONTON))
    try:
        done = run(
            clinic,
            "enroll",
            *GOOD[:-2],
            "--session-end",
            EDMONTON_DST_SESSION,
            "--dry-run",
            "--json",
        )
    finally:
        freeze_clock(clinic, datetime(2026, 11, 24, 15, 0, tzinfo=EDMONTON))
    assert done.returncode == 0, done.stderr
    planned = json.loads(done.stdout)

    # Then nothing is written and the times carry MST before and MDT after the change
    assert counts(clinic) == before
    assert planned["dry_run"] is True and planned["enrollment_id"] is None
    times = {(m["step"], m["channel"]): (m["due_at"], m["status"]) for m in planned["messages"]}
    assert len(times) == 10
    assert times[("after-session", "sms")][0] == "2026-03-07T15:30:00-07:00"
    assert times[("same-evening", "email")][0] == "2026-03-07T19:00:00-07:00"
    assert times[("next-morning", "sms")][0] == "2026-03-08T10:00:00-06:00"
    assert times[("day-7", "sms")][0] == "2026-03-14T10:00:00-06:00"


def dry_run_as_the_session_ends(clinic: Path, session_end: str, *args: str) -> dict:
    """`enroll --dry-run --json` for GOOD's patient, the clinic's clock at the session end."""
    freeze_clock(clinic, datetime.fromisoformat(session_end).replace(tzinfo=EDMONTON))
    try:
        done = run(
            clinic, "enroll", *GOOD[:-2], "--session-end", session_end, "--dry-run", "--json", *args
        )
    finally:
        freeze_clock(clinic, datetime(2026, 11, 24, 15, 0, tzinfo=EDMONTON))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def after_session(planned: dict) -> dict[str, tuple[datetime, str]]:
    return {
        m["channel"]: (datetime.fromisoformat(m["due_at"]), m["status"])
        for m in planned["messages"]
        if m["step"] == "after-session"
    }


@pytest.mark.parametrize("ended", ["19:30", "20:30", "21:30", "22:45"])
def test_it_dry_runs_an_evening_enrollment_with_the_after_session_message_within_30_min(
    clinic: Path, ended: str
) -> None:
    # Given a session that ended in the evening (quiet hours start at 21:00)
    session_end = datetime.fromisoformat(f"2026-11-24T{ended}").replace(tzinfo=EDMONTON)

    # When the therapist enrolls the patient as it ends, as a dry run
    planned = dry_run_as_the_session_ends(clinic, f"2026-11-24T{ended}")

    # Then the after-session text and email are both planned within 30 minutes
    for channel, (due, status) in after_session(planned).items():
        assert status == "scheduled", channel
        assert session_end <= due <= session_end + timedelta(minutes=30), channel


def test_it_dry_runs_a_2315_enrollment_with_the_after_session_message_at_0800(
    clinic: Path,
) -> None:
    # Given a session that ended at 23:15, when the patient may be asleep by the text's time
    # When the therapist enrolls the patient as it ends, as a dry run
    planned = dry_run_as_the_session_ends(clinic, "2026-11-24T23:15")

    # Then the after-session text and email wait for 08:00 the next day
    morning = datetime(2026, 11, 25, 8, 0, tzinfo=EDMONTON)
    assert after_session(planned) == {
        "sms": (morning, "scheduled"),
        "email": (morning, "scheduled"),
    }


def test_it_dry_runs_an_enrollment_with_each_texts_segments_for_the_patients_name(
    clinic: Path,
) -> None:
    # Given the same French-speaking patient named François, Francois, or in Cyrillic
    def texts(first_name: str) -> dict[str, tuple[int, str]]:
        planned = dry_run_as_the_session_ends(
            clinic, "2026-11-24T14:00", "--first-name", first_name, "--language", "fr"
        )
        emails = [m for m in planned["messages"] if m["channel"] == "email"]
        assert emails and all(
            (m["sms_segments"], m["sms_encoding"]) == (None, None) for m in emails
        )
        return {
            m["step"]: (m["sms_segments"], m["sms_encoding"])
            for m in planned["messages"]
            if m["channel"] == "sms"
        }

    # When the therapist asks for each dry run
    francois, plain, cyrillic = texts("François"), texts("Francois"), texts("Франсуа")

    # Then each of the five texts shows its cost: the name spelled Francois keeps them in
    # GSM-7 at the cost of an unaccented name; a name in another script needs UCS-2
    assert len(francois) == 5
    assert francois == plain
    assert {encoding for _, encoding in francois.values()} == {"GSM-7"}
    assert {encoding for _, encoding in cyrillic.values()} == {"UCS-2"}
    assert all(cyrillic[step][0] > segments for step, (segments, _) in francois.items())


def test_it_enrolls_and_lists_the_messages(clinic: Path) -> None:
    done = run(clinic, "enroll", *GOOD, "--json")
    assert done.returncode == 0, done.stderr
    enrolled = json.loads(done.stdout)
    assert enrolled["enrollment_id"] >= 1 and len(enrolled["messages"]) == 10

    listed = run(clinic, "messages", "--enrollment", str(enrolled["enrollment_id"]), "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(m["id"] for m in json.loads(listed.stdout)) == sorted(
        m["id"] for m in enrolled["messages"]
    )


def test_it_says_which_variable_to_set_when_redis_is_unreachable(clinic: Path) -> None:
    done = run(clinic, "scheduler", REDIS_URL="redis://:hunter2@127.0.0.1:1/0")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "cannot reach Redis at REDIS_URL=redis://:***@127.0.0.1:1/0" in done.stderr
    assert "redis-server" in done.stderr and "hunter2" not in done.stderr


def test_it_refuses_an_unsupported_database_in_one_line(tmp_path: Path) -> None:
    done = run(tmp_path, "init", DATABASE_URL="mysql://clinic@127.0.0.1/reminders")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert (
        "DATABASE_URL: use sqlite:///FILE" in done.stderr
        and "mysql is not supported" in done.stderr
    )
    assert not list(tmp_path.glob("*.db"))


def test_it_names_the_missing_twilio_setting(clinic: Path) -> None:
    done = run(
        clinic,
        "worker",
        SMS_TRANSPORT="twilio",
        TWILIO_AUTH_TOKEN="x",
        TWILIO_FROM_NUMBER="+15875550100",
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "error: TWILIO_ACCOUNT_SID is not set, but SMS_TRANSPORT needs it"


def test_it_refuses_a_compressed_clock_in_production(clinic: Path) -> None:
    done = run(
        clinic,
        "init",
        REMINDERS_ENV="production",
        SECRET_KEY="s3cret-for-test-0123456789abcdefghij",
        REMINDERS_CLOCK_SPEED="100",
    )
    assert done.returncode == 1
    assert "REMINDERS_CLOCK_SPEED" in done.stderr and done.stderr.count("\n") == 1


def test_it_refuses_to_print_patients_messages_in_production(clinic: Path) -> None:
    done = run(
        clinic,
        "worker",
        REMINDERS_ENV="production",
        SECRET_KEY="s3cret-for-test-0123456789abcdefghij",
        SMS_TRANSPORT="console",
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: SMS_TRANSPORT=console prints patients' messages")
    assert done.stderr.count("\n") == 1


def test_it_runs_the_demo_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    # Given a newcomer's first command in an empty folder: embedded defaults, console transports
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "TASK_QUEUE": f"reminders-test-demo-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
    }
    out = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen(
        [sys.executable, "-m", "reminders", "up", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        # Then the database is made, the web answers, the demo patient's messages go out from
        # the first one on (none skipped as too late while the worker started), and the
        # patient answers the first check-in
        first_answer = "demo patient texts back: '6, still sore"
        deadline = time.monotonic() + 180
        while first_answer not in (tmp_path / "up.log").read_text():
            assert up.poll() is None, (tmp_path / "up.log").read_text()[-2000:]
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-2000:]
            time.sleep(0.5)
        log = (tmp_path / "up.log").read_text()
        assert "database ready: 1 plan(s)" in log and "demo enrollment 1 created" in log
        assert "What to expect after your visit today" in log and "Reply STOP to opt out" in log
        assert "skipped" not in log and "Thank you, Alex. We got your" in log
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert (tmp_path / "reminders.db").exists()

        # When they press Ctrl-C (the whole foreground group gets SIGINT)
        os.killpg(up.pid, signal.SIGINT)
        code = up.wait(timeout=60)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
        out.close()

    # Then every process stops, with no traceback, and the command says all went well
    log = (tmp_path / "up.log").read_text()
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_it_refuses_a_port_that_is_taken_in_one_line(tmp_path: Path) -> None:
    # Given a port another program already listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "TASK_QUEUE": f"reminders-test-busy-{uuid.uuid4().hex[:8]}",
            "PYTHONUNBUFFERED": "1",
        }
        # When the service is started on it
        done = subprocess.run(
            [sys.executable, "-m", "reminders", "up", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    # Then it starts nothing and says so in one line
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another with --port\n"
    )


def test_the_supervisor_stops_the_rest_and_fails_when_one_process_ends_on_its_own() -> None:
    # Given three processes, one of which ends by itself
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    children = {
        "worker": subprocess.Popen(sleeper),
        "scheduler": subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]),
        "web": subprocess.Popen(sleeper),
    }
    # When the supervisor watches them
    with pytest.raises(typer.Exit) as ended:
        processes._supervise(children, asked=[])
    # Then it stops the others and exits 1
    assert ended.value.exit_code == 1
    assert children["worker"].returncode == -signal.SIGTERM
    assert children["web"].returncode == -signal.SIGTERM


def test_the_supervisor_exits_0_when_the_operator_stops_it_however_children_end() -> None:
    # Given one child that ends of the group's SIGINT and one that ignores SIGTERM
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(120)"
    )
    # (SIGINT's default action restored: a test run started in the background inherits it
    # ignored, and the child would never end)
    interruptible = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "print('ready', flush=True); time.sleep(120)"
    )
    children = {
        "worker": subprocess.Popen([sys.executable, "-c", interruptible], stdout=subprocess.PIPE),
        "web": subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE),
    }
    for child in children.values():
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
    children["worker"].send_signal(signal.SIGINT)
    children["worker"].wait(timeout=30)
    # When the operator has asked everything to stop
    with pytest.raises(typer.Exit) as ended:
        processes._supervise(children, asked=[signal.SIGINT], grace=1.0)
    # Then the stubborn one is killed at the deadline and the command still exits 0
    assert ended.value.exit_code == 0
    assert children["web"].returncode == -signal.SIGKILL


def spawned_children(pid: int) -> list[int]:
    """The processes `pid` started with multiprocessing's spawn (uvicorn's web workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_the_web_app_runs_as_several_processes_on_one_port(clinic: Path) -> None:
    # Given `reminders web --workers 2`
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{clinic / 'cli.db'}",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "HOME": str(clinic),
    }
    with (clinic / "web-workers.log").open("w") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "reminders", "web", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=clinic,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    workers: list[int] = []
    try:
        # When it is up
        deadline = time.monotonic() + 90
        while len(spawned_children(web.pid)) < 2 or not _answers(port):
            assert web.poll() is None, (clinic / "web-workers.log").read_text()
            assert time.monotonic() < deadline, "the web workers did not start"
            time.sleep(0.2)
        workers = spawned_children(web.pid)

        # Then two processes serve the pages, and every request is answered
        assert len(workers) == 2
        statuses = {
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code for _ in range(20)
        }
        assert statuses == {200}
    finally:
        # And Ctrl-C stops them all
        web.send_signal(signal.SIGINT)
        code = web.wait(timeout=60)
    assert code == 0
    deadline = time.monotonic() + 30  # an orphan is reaped by init a moment later
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a web worker outlived the server"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has stopped already)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
    except httpx.TransportError:
        return False
