"""Aftercare plans: which message goes out when, as data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base


class AftercarePlan(Base):
    __tablename__ = "aftercare_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime]

    steps: Mapped[list[PlanStep]] = relationship(
        back_populates="plan", order_by="PlanStep.position", cascade="all, delete-orphan"
    )


class PlanStep(Base):
    """One message of a plan: an offset from the session end, or a local day and wall time."""

    __tablename__ = "plan_step"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("aftercare_plan.id"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(60))
    message_key: Mapped[str] = mapped_column(String(60))
    offset_seconds: Mapped[int | None]
    day: Mapped[int | None]
    at_time: Mapped[str | None] = mapped_column(String(5))  # "19:00", local
    not_sooner_than_seconds: Mapped[int] = mapped_column(default=0)
    max_lateness_seconds: Mapped[int]
    channels: Mapped[str] = mapped_column(String(20))  # "sms,email"
    checkin: Mapped[bool] = mapped_column(default=False)

    plan: Mapped[AftercarePlan] = relationship(back_populates="steps")
