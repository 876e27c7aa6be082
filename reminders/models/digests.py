"""Daily digests: one row per digest a therapist was sent (or is being sent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reminders.models.base import Base, Words
from reminders.vocabulary import NoticeStatus, check_constraint


class DigestRun(Base):
    """The claim and the outcome of one therapist's digest. A digest covers what came in up to
    `covers_until`; the next one starts there. A row `sending` or `sent` is the claim that two
    schedulers respect; a `failed` one is tried again by the next pass."""

    __tablename__ = "digest_run"
    __table_args__ = (CheckConstraint(check_constraint("status", NoticeStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    covers_until: Mapped[datetime]  # clinic clock: what the digest counted up to
    status: Mapped[NoticeStatus] = mapped_column(Words(NoticeStatus, 8))
    claimed_at: Mapped[datetime]  # real time, like every claim
    finished_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(40))  # the provider's code when it failed
