"""create_app(settings): each web app serves from its own settings (its database here), however
many are built in one process, and the process's own settings stay as the environment says."""

from __future__ import annotations

from pathlib import Path

from factories import PASSWORD
from in_process import CLIENT_ADDRESS, settings_of
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from reminders.accounts import create_user
from reminders.clock import real_now
from reminders.config import Settings, get_settings
from reminders.content.defaults import load_defaults
from reminders.db import make_engine, migrate, reset_engine
from reminders.web.app import create_app


def clinic_with_an_admin(tmp_path: Path, admin: str, redis_url: str) -> Settings:
    """A database set up as `reminders init` does, with one admin, and settings for it."""
    url = f"sqlite:///{tmp_path / admin.replace(' ', '-')}.db"
    migrate(url)
    settings = settings_of({"DATABASE_URL": url, "REDIS_URL": redis_url})
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_defaults(session, settings)
        create_user(
            session=session,
            email=f"{admin.split()[0].lower()}@clinic.example",
            name=admin,
            role="admin",
            password=PASSWORD,
            now=real_now(),
            actor="test",
        )
    engine.dispose()
    return settings


def test_each_app_serves_from_its_own_database(tmp_path: Path, redis_url: str) -> None:
    # Given two clinics' databases, each with its own admin, and an app built for each
    north = clinic_with_an_admin(tmp_path, "Ada North", redis_url)
    south = clinic_with_an_admin(tmp_path, "Bea South", redis_url)
    process_settings = get_settings()
    try:
        # When someone who forgot their password asks each app who the admins are
        pages = {}
        for settings in (north, south):
            with TestClient(create_app(settings), client=CLIENT_ADDRESS) as client:
                pages[settings.database_url] = client.get("/login/forgot")

        # Then each names its own admin only, read from its own database
        assert [page.status_code for page in pages.values()] == [200, 200]
        assert "Ada North" in pages[north.database_url].text
        assert "Bea South" not in pages[north.database_url].text
        assert "Bea South" in pages[south.database_url].text
        assert "Ada North" not in pages[south.database_url].text
        # And outside the apps' requests the process's settings are the environment's
        assert get_settings() is process_settings
    finally:
        reset_engine()  # the apps' connections
