"""One error tree: what went wrong, in words safe to show, and how each edge answers it.

Domain code raises a subclass (keeping its own name, such as `InvalidEnrollment`); the web app
turns any of them into `{"detail": message}` with `status`, the CLI into one line and
`exit_code`. An error that means something else at one place (a refused contact fix is a 422
there) is still caught where it happens.
"""

from __future__ import annotations


class RemindersError(Exception):
    """A known failure whose message is safe to show to the person who asked."""

    status = 500
    exit_code = 1


class InvalidInput(RemindersError, ValueError):
    """What was sent is not valid (a bad phone number, plan or password); fix it and retry.

    Still a ValueError, so that a pydantic validator that lets it through reports a 422."""

    status = 422
    exit_code = 2


class Refused(RemindersError):
    """Valid, but not possible in the current state (already cancelled, closed already)."""

    status = 409
    exit_code = 1


class NotFound(RemindersError, LookupError):
    """No such record (or none this person may see)."""

    status = 404
    exit_code = 1


class NotReady(RemindersError):
    """The deployment is not set up for this yet (settings, clinic, database)."""

    status = 503
    exit_code = 1
