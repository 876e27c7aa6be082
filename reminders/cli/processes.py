"""Commands that run the service: init, up, demo, worker, scheduler, web."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import typer
from rich.console import Console

from reminders import clock, log_privacy
from reminders.broker import require_redis
from reminders.cli import demo_story
from reminders.cli.errors import NOT_READY, UserError, user_errors
from reminders.config import Settings, get_settings
from reminders.content.defaults import load_defaults
from reminders.db import migrate, session_scope

console = Console(stderr=True)
DEMO_SPEED = 3000.0  # simulated seconds per real second: a week in under 4 minutes


def setup_logging(level: str) -> None:
    """The scheduler's and the web's logging (log_privacy.configure)."""
    log_privacy.configure(level)


def ready(*, redis: bool = True, transports: bool = True) -> Settings:
    settings = get_settings()
    if transports:
        settings.require_transports()
    if redis:
        require_redis(settings.redis_url)
    return settings


def initialise(settings: Settings) -> None:
    migrate()
    with session_scope() as session:
        loaded = load_defaults(session, settings)
    created = ", clinic settings created" if loaded.clinic else ""
    console.print(
        f"database ready: {loaded.plans} plan(s), {loaded.template_versions} template version(s) added{created}"
    )


def init() -> None:
    """Create or upgrade the database and load the default plan and templates (idempotent)."""
    with user_errors():
        initialise(ready(redis=False, transports=False))


def worker(
    pool: str = typer.Option(
        "",
        help="threads (default: many deliveries waiting on the provider at once in one"
        " process) or prefork (one process per delivery); default WORKER_POOL.",
    ),
    concurrency: int = typer.Option(
        0,
        min=0,
        max=256,
        help="Deliveries at once: threads (default WORKER_CONCURRENCY, 32) or prefork processes"
        " (default one per CPU core).",
    ),
    loglevel: str = typer.Option("", help="Celery log level; default LOG_LEVEL (INFO)."),
) -> None:
    """Run a Celery worker that delivers due messages."""
    from celery.bin.celery import celery

    with user_errors():
        settings = ready()
        if pool not in ("", "threads", "prefork"):
            raise UserError(f"--pool must be threads or prefork, not {pool!r}", NOT_READY)
    pool = pool or settings.worker_pool
    if pool == "threads":
        concurrency = concurrency or settings.worker_concurrency
    # The database and Twilio connection pools are sized from these (deliveries_per_process),
    # in this process and in prefork's children, which inherit the environment.
    os.environ["WORKER_POOL"] = pool
    if concurrency:
        os.environ["WORKER_CONCURRENCY"] = str(concurrency)
    get_settings.cache_clear()
    args = [
        "-A",
        "reminders.tasks",
        "worker",
        f"--pool={pool}",
        "-Q",
        f"{settings.alert_queue},{settings.task_queue}",
        f"--loglevel={(loglevel or settings.log_level).upper()}",
    ]
    if concurrency:
        args.append(f"--concurrency={concurrency}")
    # Celery configures the root logger itself; the libraries' levels set here hold in this
    # process and in the pool's forked children, which is why Celery runs in-process (as
    # `python -m celery` would) rather than exec'd in a fresh interpreter.
    log_privacy.quiet_libraries()
    celery.main(args=args, prog_name="celery", auto_envvar_prefix="CELERY")


def scheduler() -> None:
    """Run the dispatcher (every second) and the reaper."""
    from reminders import scheduler as process

    with user_errors():
        settings = ready(transports=False)
    setup_logging(settings.log_level)
    process.run(settings)


def web(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        0, min=0, max=64, help="Web processes sharing the port (0: one per core)."
    ),
) -> None:
    """Serve the web app (pages, API, Twilio webhooks, email links). Every process is
    stateless (sessions, limits and claims live in the database and Redis), so any number
    can share the port."""
    import uvicorn

    with user_errors():
        settings = ready(redis=False, transports=False)
    setup_logging(settings.log_level)
    # log_config=None: uvicorn's records (access lines too) go through the handler and the
    # filters set up above, instead of a dictConfig of its own without them.
    uvicorn.run(
        "reminders.web.app:app",
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        workers=workers or os.cpu_count() or 1,
    )


def up(
    demo: bool = typer.Option(
        False, "--demo", help="Also enroll a sample patient on a compressed clock."
    ),
    host: str = typer.Option("127.0.0.1", help="Web interface to listen on."),
    port: int = typer.Option(8000, envvar="PORT", help="Web port (or PORT)."),
    phone: str = typer.Option(
        "", help="With --demo: the demo patient's mobile (your own, to watch it arrive)."
    ),
    email: str = typer.Option("", help="With --demo: the demo patient's email."),
) -> None:
    """Run everything on one machine: web, worker and scheduler (Ctrl-C stops all)."""
    with user_errors():
        settings = ready()
        _require_free_port(host, port)
        initialise(settings)
        speed = settings.clock_speed or (DEMO_SPEED if demo else None)
        if speed and settings.environment == "production":
            raise UserError("a compressed clock is refused in production", NOT_READY)
        _record_clock(settings, speed, demo)
    # Links in emails and alerts point at this web app unless PUBLIC_BASE_URL says otherwise.
    os.environ["WEB_PORT"] = str(port)
    if demo and settings.email_transport == "console" and not settings.clinic_alert_email:
        # the demo's emergency alerts someone: printed like the rest, never sent
        os.environ["CLINIC_ALERT_EMAIL"] = "front-desk@clinic.example"
    me = [sys.executable, "-m", "reminders"]
    children = {
        "worker": subprocess.Popen([*me, "worker", "--concurrency", "2"]),
        "scheduler": subprocess.Popen([*me, "scheduler"]),
        "web": subprocess.Popen(
            [*me, "web", "--host", host, "--port", str(port), "--workers", "1"]
        ),
    }
    asked = _stop_on_signal(children)
    console.print(f"web on http://{host}:{port}  (Ctrl-C stops everything)")
    stop_story = threading.Event()
    if demo and speed:
        _tell_the_story(settings, speed, children, asked, phone, email, stop_story)
    try:
        _supervise(children, asked)
    finally:
        stop_story.set()


def _tell_the_story(
    settings: Settings,
    speed: float,
    children: dict[str, subprocess.Popen[bytes]],
    asked: list[int],
    phone: str,
    email: str,
    stop: threading.Event,
) -> None:
    """The demo: once a worker is ready (its start would otherwise eat hours of the story),
    enroll the sample patient at 09:00, start the clock, and let the patient answer."""
    console.print("waiting for the worker before the demo clock starts...")
    if not demo_story.worker_ready(
        settings, gone=lambda: bool(asked) or children["worker"].poll() is not None
    ):
        return  # stopped, or the worker ended: _supervise says which
    enrollment_id = demo_story.enroll_patient(
        settings, phone or "+1 403 555 0123", email or "demo.patient@example.com"
    )
    demo_story.start_clock(settings, speed)
    console.print(f"demo enrollment {enrollment_id} created; its week plays from 09:00")
    demo_story.play_replies(enrollment_id, stop)


def demo(
    phone: str = typer.Option("", help="The demo patient's mobile (your own, to watch it arrive)."),
    email: str = typer.Option("", help="The demo patient's email."),
    host: str = typer.Option("127.0.0.1", help="Web interface to listen on."),
    port: int = typer.Option(8000, envvar="PORT", help="Web port (or PORT)."),
) -> None:
    """`up --demo`: everything, plus a sample patient whose week of messages plays in minutes."""
    up(demo=True, host=host, port=port, phone=phone, email=email)


def _record_clock(settings: Settings, speed: float | None, demo: bool) -> None:
    with session_scope() as session:
        if not speed:
            clock.use_real_time(session)
            return
        if demo:  # held at 09:00 clinic time until the worker is ready (demo_story)
            clock.set_clock(session, simulated=demo_story.story_start(settings), speed=0)
        else:
            clock.set_clock(session, simulated=clock.real_now(), speed=speed)
    console.print(f"compressed clock: {speed:g} simulated seconds per real second")


def _require_free_port(host: str, port: int) -> None:
    """Refuse at once, in one line, a port another program holds (rather than start the worker
    and scheduler and bury the web's failure in their output)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port",
                NOT_READY,
            ) from None


def _stop_on_signal(children: dict[str, subprocess.Popen[bytes]]) -> list[int]:
    """From now on SIGINT and SIGTERM stop the children; the list returned says if one came."""
    asked: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        asked.append(signum)
        terminate(children)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return asked


def _supervise(
    children: dict[str, subprocess.Popen[bytes]], asked: list[int], grace: float = 20.0
) -> None:
    """Wait until the operator stops us (SIGINT, SIGTERM) or a child ends on its own, then
    stop the rest within `grace` seconds. Exit 0 when the operator asked (however each child took it: a
    Ctrl-C reaches the whole foreground group, so a child may end of SIGINT, and one still
    running at the deadline is killed); exit 1 when a child ended on its own, whatever its code,
    since the service was then not running in full."""
    while not asked and all(child.poll() is None for child in children.values()):
        time.sleep(0.5)
    operator_stopped = bool(asked)
    ended_alone = [name for name, child in children.items() if child.poll() is not None]
    terminate(children)
    deadline = time.monotonic() + grace
    for name, child in children.items():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            console.print(f"killed the {name}: it did not stop within {grace:g} s")
    if operator_stopped:
        raise typer.Exit(0)
    console.print(f"the {', '.join(ended_alone)} ended on its own, so everything stopped")
    raise typer.Exit(1)


def terminate(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()


def register(app: typer.Typer) -> None:
    for command in (init, up, demo, worker, scheduler, web):
        app.command()(command)
