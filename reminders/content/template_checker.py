"""The helper process that compiles and renders admins' templates, with limits.

The Jinja sandbox stops templates from reaching Python internals, but not from asking for a
billion loop turns or a gigabyte string, so that work runs here, in a separate process with
a memory cap and a time limit: a bad template becomes a problem in the list, never a stuck
or dead web process. Requests and answers are length-prefixed JSON over pipes.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select as io_select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from reminders.content.rendering import SAMPLE_VARIABLES, TemplateProblem, render

CHECK_SECONDS = 3.0  # for all parts together, in the helper process
CHECKER_MEMORY_BYTES = 1 << 30
CHECKER_RECYCLE_BYTES = 384 << 20  # resident size after which the helper is replaced
MAX_RENDERED_CHARS = 1_000_000


_CheckJob = tuple[str, str, frozenset[str], bool]  # label, source, allowed variables, html
_CheckResult = tuple[list[str], str | None]  # problems, rendered text (None if it failed)


def _check_part(label: str, source: str, allowed: frozenset[str], html: bool) -> _CheckResult:
    """Syntax, variables, then one sandboxed render with sample data. Runs in the helper."""
    try:
        try:
            tree = _parser.parse(source)
            unknown = meta.find_undeclared_variables(tree) - allowed
        except TemplateSyntaxError as exc:
            return [f"The {label} has a syntax error on line {exc.lineno}: {exc.message}"], None
        if unknown:
            names = ", ".join("{{ " + name + " }}" for name in sorted(unknown))
            plural = "are not variables" if len(unknown) > 1 else "is not a variable"
            return [
                f"The {label} uses {names}, which {plural} messages can use. "
                f"The variables are: {', '.join(sorted(allowed))}."
            ], None
        try:
            text = render(source, SAMPLE_VARIABLES, html=html)
        except TemplateProblem as exc:
            return [f"The {label} cannot be rendered safely ({str(exc).rstrip('.')})."], None
        if len(text) > MAX_RENDERED_CHARS:
            return [f"The {label} renders to more than {MAX_RENDERED_CHARS:,} characters."], None
        return [], text
    except MemoryError:
        return [f"The {label} needs too much memory to render."], None
    except RecursionError:
        return [f"The {label} nests too deeply to render."], None
    except Exception as exc:  # an admin's template must never take the checker down
        return [f"The {label} cannot be rendered ({type(exc).__name__}: {str(exc)[:160]})."], None


_parser = SandboxedEnvironment()


def _serve() -> None:
    """The helper process: a capped address space, then one batch of parts per request.

    Requests and answers are length-prefixed JSON on stdin and stdout.
    """
    import resource

    with contextlib.suppress(ValueError, OSError):  # no cap where the platform has none
        resource.setrlimit(resource.RLIMIT_AS, (CHECKER_MEMORY_BYTES, CHECKER_MEMORY_BYTES))
    stdin, stdout = sys.stdin.buffer, sys.stdout.fileno()
    with contextlib.suppress(OSError):  # the web process went away
        _write_frame(stdout, "ready")
        while len(header := stdin.read(_HEADER.size)) == _HEADER.size:
            jobs = json.loads(stdin.read(_HEADER.unpack(header)[0]))
            answer = [_check_part(label, src, frozenset(ok), html) for label, src, ok, html in jobs]
            _write_frame(stdout, answer)
            # Compiled templates are cached by rendering: start afresh before that adds up
            if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 > CHECKER_RECYCLE_BYTES:
                return


_HEADER = struct.Struct(">Q")


def _write_frame(fd: int, value: object) -> None:
    data = json.dumps(value).encode("ascii")
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class _Checker:
    """One helper process per web process, started on first use, replaced when it is killed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self._stop)

    def check(self, jobs: list[_CheckJob]) -> list[_CheckResult] | None:
        """Results per job; None when the batch took too long or killed the helper."""
        request = [(label, src, sorted(ok), html) for label, src, ok, html in jobs]
        with self._lock:
            for _attempt in range(2):  # a helper that died since the last call gets one retry
                try:
                    process = self._started()
                    assert process.stdin is not None and process.stdout is not None
                    _write_frame(process.stdin.fileno(), request)
                    answer = _read_frame(process.stdout.fileno(), CHECK_SECONDS)
                except _TooSlow:
                    self._stop()
                    return None
                except (OSError, ValueError, EOFError):
                    self._stop()
                    continue
                return [(list(problems), text) for problems, text in answer]
            return None

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        package_root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *sys.path])}
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from reminders.content.template_checker import _serve; _serve()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self._process = process
        assert process.stdout is not None
        try:
            if _read_frame(process.stdout.fileno(), 60) != "ready":
                raise OSError("the template checker did not start")
        except _TooSlow:
            raise OSError("the template checker did not start") from None
        return process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class _TooSlow(Exception):
    pass


def _read_frame(fd: int, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    header = _read_exactly(fd, _HEADER.size, deadline)
    return json.loads(_read_exactly(fd, _HEADER.unpack(header)[0], deadline))


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while size:
        left = deadline - time.monotonic()
        if left <= 0 or not io_select.select([fd], [], [], left)[0]:
            raise _TooSlow
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the template checker stopped")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


_checker = _Checker()
