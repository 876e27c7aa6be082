"""Turning known failures into one line and an exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import OperationalError, ProgrammingError

from reminders.broker import redacted
from reminders.config import get_settings
from reminders.errors import InvalidInput, NotReady, RemindersError

P = ParamSpec("P")
R = TypeVar("R")
BAD_INPUT = InvalidInput.exit_code  # 2
NOT_READY = NotReady.exit_code  # 1


class UserError(Exception):
    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except RemindersError as exc:  # bad input 2; refused, not found, not ready 1
        raise UserError(str(exc), exc.exit_code) from None
    except (OperationalError, ProgrammingError) as exc:  # not created, not reachable
        url = redacted(get_settings().database_url)
        cause = str(exc.orig or exc).strip().splitlines()[0][:160]
        raise UserError(
            f"cannot use the database at DATABASE_URL={url} ({cause}); "
            "run `reminders init` to create it, or check DATABASE_URL",
            NOT_READY,
        ) from None


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with user_errors():
            return func(*args, **kwargs)

    return wrapper
