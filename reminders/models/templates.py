"""Message templates and their versions; a message pins the version it was planned with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reminders.models.base import Base, Words
from reminders.vocabulary import TemplateStatus, check_constraint


class MessageTemplate(Base):
    __tablename__ = "message_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)

    versions: Mapped[list[TemplateVersion]] = relationship(back_populates="template")


class TemplateVersion(Base):
    """The four parts of a message in one language; status draft or published."""

    __tablename__ = "template_version"
    __table_args__ = (
        UniqueConstraint("template_id", "locale", "version"),
        CheckConstraint(check_constraint("status", TemplateStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_template.id"))
    locale: Mapped[str] = mapped_column(String(5))
    version: Mapped[int]
    status: Mapped[TemplateStatus] = mapped_column(Words(TemplateStatus, 12))
    sms: Mapped[str] = mapped_column(Text, default="")
    email_subject: Mapped[str] = mapped_column(Text, default="")
    email_text: Mapped[str] = mapped_column(Text, default="")
    email_html: Mapped[str] = mapped_column(Text, default="")
    # The email as its author wrote it, as structured text; "" when the text and HTML parts
    # were written by hand. Never sent: the two parts above are made from it when it is saved.
    email_body: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))

    template: Mapped[MessageTemplate] = relationship(back_populates="versions")
