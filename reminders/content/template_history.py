"""The versions of message templates as they stand: what exists per key and language, each
version, the parts that may not be emptied, messages waiting on a version, and diffs.

Read-only; changes (draft, publish, roll back) are in reminders.content.template_editing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders.content.defaults import EDITABLE_PARTS, LOCALES, PARTS
from reminders.content.template_checks import variables_for
from reminders.errors import NotFound
from reminders.models import WAITING, Message, MessageTemplate, TemplateVersion
from reminders.vocabulary import TemplateStatus


class TemplateNotFound(NotFound):
    """No such template key, language or version."""


@dataclass(frozen=True)
class LocaleState:
    locale: str
    published: int | None  # version numbers
    draft: int | None


@dataclass(frozen=True)
class TemplateSummary:
    key: str
    variables: tuple[str, ...]
    locales: list[LocaleState]  # one per language in LOCALES


def overview(*, session: Session) -> list[TemplateSummary]:
    """Every template key, with its published and draft version numbers per language."""
    templates = session.scalars(select(MessageTemplate).order_by(MessageTemplate.key)).all()
    rows = session.execute(
        select(TemplateVersion.template_id, TemplateVersion.locale, TemplateVersion.status)
        .add_columns(func.max(TemplateVersion.version))
        .where(TemplateVersion.status.in_((TemplateStatus.PUBLISHED, TemplateStatus.DRAFT)))
        .group_by(TemplateVersion.template_id, TemplateVersion.locale, TemplateVersion.status)
    ).all()
    found = {(t, loc, status): version for t, loc, status, version in rows}
    return [
        TemplateSummary(
            key=template.key,
            variables=variables_for(template.key),
            locales=[
                LocaleState(
                    locale,
                    found.get((template.id, locale, TemplateStatus.PUBLISHED)),
                    found.get((template.id, locale, TemplateStatus.DRAFT)),
                )
                for locale in LOCALES
            ],
        )
        for template in templates
    ]


def history(*, session: Session, key: str, locale: str) -> list[TemplateVersion]:
    """Every version of this key and language, newest first (the open draft included)."""
    return versions_of(session, template_for(session, key, locale), locale)


def published_version(*, session: Session, key: str, locale: str) -> TemplateVersion | None:
    """The version patients get now, if one is published."""
    versions = history(session=session, key=key, locale=locale)
    return next((v for v in versions if v.status == TemplateStatus.PUBLISHED), None)


def published_or_none(session: Session, key: str, locale: str) -> TemplateVersion | None:
    """The published version of a message, or None (no such message, or none published): for
    senders that fall back rather than fail (an answer to a reply, a clinic alert)."""
    return session.scalar(
        select(TemplateVersion)
        .join(MessageTemplate)
        .where(
            MessageTemplate.key == key,
            TemplateVersion.locale == locale,
            TemplateVersion.status == TemplateStatus.PUBLISHED,
        )
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    )


def get_version(*, session: Session, key: str, locale: str, version: int) -> TemplateVersion:
    found = session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template_for(session, key, locale).id,
            TemplateVersion.locale == locale,
            TemplateVersion.version == version,
        )
    )
    if found is None:
        raise TemplateNotFound(f"{key} ({locale}) has no version {version}.")
    return found


def required_parts(*, session: Session, key: str) -> tuple[str, ...]:
    """Parts that may not be emptied: those a published version of this key has, in any
    language (a message sent by email needs its email parts; a keyword answer its SMS)."""
    rows = session.execute(
        select(
            TemplateVersion.sms,
            TemplateVersion.email_subject,
            TemplateVersion.email_text,
            TemplateVersion.email_html,
        )
        .join(MessageTemplate)
        .where(MessageTemplate.key == key, TemplateVersion.status == TemplateStatus.PUBLISHED)
    ).all()
    return tuple(name for i, name in enumerate(PARTS) if any(row[i].strip() for row in rows))


def waiting_messages(*, session: Session, key: str, locale: str) -> dict[int, int]:
    """Messages not sent yet (scheduled or waiting to retry), counted by pinned version."""
    template = template_for(session, key, locale)
    rows = session.execute(
        select(TemplateVersion.version, func.count(Message.id))
        .join(Message, Message.template_version_id == TemplateVersion.id)
        .where(
            TemplateVersion.template_id == template.id,
            TemplateVersion.locale == locale,
            Message.status.in_(WAITING),
        )
        .group_by(TemplateVersion.version)
    ).all()
    return {version: count for version, count in rows}


def diff(*, session: Session, key: str, locale: str, from_version: int, to_version: int) -> str:
    """A unified diff of the parts (the structured email too), each labelled
    key/locale/vN/part; "" when equal."""
    old = get_version(session=session, key=key, locale=locale, version=from_version)
    new = get_version(session=session, key=key, locale=locale, version=to_version)
    chunks: list[str] = []
    for name in EDITABLE_PARTS:
        chunks.extend(
            difflib.unified_diff(
                getattr(old, name).splitlines(),
                getattr(new, name).splitlines(),
                fromfile=f"{key}/{locale}/v{from_version}/{name}",
                tofile=f"{key}/{locale}/v{to_version}/{name}",
                lineterm="",
            )
        )
    return "\n".join(chunks) + ("\n" if chunks else "")


def template_for(session: Session, key: str, locale: str, *, lock: bool = False) -> MessageTemplate:
    if locale not in LOCALES:
        raise TemplateNotFound(f"There is no language {locale[:10]!r}; use {' or '.join(LOCALES)}.")
    query = select(MessageTemplate).where(MessageTemplate.key == key)
    if lock:  # one editor of a key at a time (PostgreSQL; SQLite writers are serial anyway)
        query = query.with_for_update()
    template = session.scalar(query)
    if template is None:
        raise TemplateNotFound(f"There is no template called {key[:60]!r}.")
    return template


def versions_of(session: Session, template: MessageTemplate, locale: str) -> list[TemplateVersion]:
    return list(
        session.scalars(
            select(TemplateVersion)
            .where(TemplateVersion.template_id == template.id, TemplateVersion.locale == locale)
            .order_by(TemplateVersion.version.desc())
        )
    )
