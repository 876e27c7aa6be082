"""The clinic's own settings and the deployment's clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from reminders.models.base import Base


class ClinicSettings(Base):
    """One row: who the messages come from and the sending rules (quiet hours, caps)."""

    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40))
    time_zone: Mapped[str] = mapped_column(String(64))
    alert_email: Mapped[str] = mapped_column(String(254), default="")
    quiet_hours_start: Mapped[str] = mapped_column(String(5))  # "21:00", local time
    quiet_hours_end: Mapped[str] = mapped_column(String(5))  # "08:00", local time
    cap_per_day: Mapped[int | None]
    cap_per_week: Mapped[int | None]
    # When the clinic reads replies: "mon-fri", "08:00", "18:00" (clinic local time).
    open_days: Mapped[str] = mapped_column(String(40), default="mon-fri", server_default="mon-fri")
    opens_at: Mapped[str] = mapped_column(String(5), default="08:00", server_default="08:00")
    closes_at: Mapped[str] = mapped_column(String(5), default="18:00", server_default="18:00")
    updated_at: Mapped[datetime]


class ClockSetting(Base):
    """A compressed clock for demos and staging, shared by every process of a deployment.

    Simulated now = anchor_simulated + (real now - anchor_real) * speed. No row: real time.
    """

    __tablename__ = "clock_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    anchor_real: Mapped[datetime]
    anchor_simulated: Mapped[datetime]
    speed: Mapped[float]
