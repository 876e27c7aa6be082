"""The web app in this process, for tests that need only it and the database.

`create_app(settings)` under Starlette's TestClient, over a real database (a SQLite file or
PostgreSQL) set up as `reminders init` sets it up, real Redis and the fake providers, with
exactly the settings tests/stack.py gives the `reminders web` process. No worker, scheduler or
web process runs: tests that need one use the Deployment (tests/system), and so do the tests
of `reminders web` itself (--workers N) and of the pages in a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from factories import PASSWORD
from fastapi import FastAPI
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from stack import RESTING_CLOCK, Deployment
from starlette.testclient import TestClient

from reminders.config import Settings
from reminders.content.defaults import load_defaults
from reminders.db import migrate, reset_engine
from reminders.web.app import create_app

# Where requests come from, as for the web process (the sign-in limits count per address).
CLIENT_ADDRESS = ("127.0.0.1", 50000)


class InProcessWeb(Deployment):
    """A deployment whose web app runs in this process and nothing else runs: the same
    database, Redis, queue names, fakes, data helpers and reset as the Deployment's."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.settings: Settings = settings_of(self.env)
        self.app = create_app(self.settings)

    def init(self) -> None:
        """What `reminders init` does, in this process: migrate, load the defaults."""
        migrate(self.url)
        with self.session() as session:
            load_defaults(session, self.settings)
        self.set_clock(RESTING_CLOCK)

    def start(self) -> None:
        """Nothing to start."""

    def web_url(self) -> str:
        raise AssertionError("the web app runs in this process: use web_client(stack)")

    def client(
        self, headers: Mapping[str, str] | None = None, *, app: FastAPI | None = None
    ) -> TestClient:
        """A client of the app (or of another `app`), as httpx.Client to the web process:
        redirects are not followed, requests come from 127.0.0.1."""
        return TestClient(
            app or self.app,
            base_url="http://127.0.0.1",
            client=CLIENT_ADDRESS,
            follow_redirects=False,
            headers=dict(headers or {}),
        )

    def stop(self) -> None:
        super().stop()
        reset_engine()  # the app's connections (one engine per database in this process)


class _Given(Settings):
    """Settings from the values given only: no environment, no `.env` file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        **_others: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_of(env: Mapping[str, str]) -> Settings:
    """The settings a process started with environment `env` (and no `.env` file) reads."""
    return _Given(**env)


def web_client(stack: Deployment, headers: Mapping[str, str] | None = None) -> httpx.Client:
    """A client of the stack's web app: the TestClient of an in-process one, else httpx over
    HTTP to its `reminders web` process (started on first use)."""
    if isinstance(stack, InProcessWeb):
        return stack.client(headers)
    return httpx.Client(base_url=stack.web_url(), headers=dict(headers or {}), timeout=20)


def csrf_in(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def login_form(client: httpx.Client) -> str:
    """The CSRF token of the sign-in form, as a browser gets it."""
    return csrf_in(client.get("/login").text)


@contextmanager
def signed_in_client(
    stack: Deployment, email: str, password: str = PASSWORD
) -> Iterator[httpx.Client]:
    """A client signed in through /login, as a browser would be."""
    with web_client(stack) as client:
        csrf = login_form(client)
        done = client.post("/login", data={"email": email, "password": password, "csrf": csrf})
        assert done.status_code == 303, done.text
        yield client
