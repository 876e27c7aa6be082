"""Admins editing message templates: draft, publish, history, diff, roll back.

Versions are history: a published version is never edited. Each key and language has at most
one open draft; publishing it retires the version it replaces, and rolling back publishes a
new version that copies an old one. Messages keep the version they were planned with, unless
the admin asks to move the ones not yet sent onto the new version.

Content is checked (validate, preview) in reminders.content.template_checks, which compiles and
renders it in a helper process; versions are read (history, diff) in
reminders.content.template_history. Those names are re-exported here for callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reminders import audit
from reminders.clock import now
from reminders.content.defaults import EDITABLE_PARTS, EMAIL_BODY, LOCALES, PARTS
from reminders.content.template_checks import (
    FIRST_SMS_KEYS,
    MAX_EMAIL_PART_BYTES,
    MAX_SMS_CHARS,
    PART_LABELS,
    Preview,
    Validation,
    preview,
    validate,
    variables_for,
)
from reminders.content.template_history import (
    LocaleState,
    TemplateNotFound,
    TemplateSummary,
    diff,
    get_version,
    history,
    overview,
    published_version,
    required_parts,
    template_for,
    versions_of,
    waiting_messages,
)
from reminders.errors import InvalidInput, Refused
from reminders.models import WAITING, Message, TemplateVersion, User
from reminders.vocabulary import TemplateStatus

__all__ = [
    "EDITABLE_PARTS",
    "EMAIL_BODY",
    "FIRST_SMS_KEYS",
    "LOCALES",
    "MAX_EMAIL_PART_BYTES",
    "MAX_SMS_CHARS",
    "PARTS",
    "PART_LABELS",
    "LocaleState",
    "Preview",
    "TemplateEditError",
    "TemplateNotFound",
    "TemplateRejected",
    "TemplateSummary",
    "Validation",
    "diff",
    "get_version",
    "history",
    "overview",
    "preview",
    "publish",
    "published_version",
    "required_parts",
    "roll_back",
    "save_draft",
    "validate",
    "variables_for",
    "waiting_messages",
]


class TemplateEditError(Refused):
    """A change that cannot be made as asked; the message says why, in plain words."""


class TemplateRejected(InvalidInput, TemplateEditError):
    """Content that fails validation; `problems` lists every reason, `fields` the same
    reasons by the part they are about ("message" for the whole)."""

    def __init__(self, problems: list[str], fields: dict[str, list[str]] | None = None) -> None:
        self.problems = list(problems)
        self.fields = dict(fields or {})
        super().__init__("; ".join(self.problems))


def save_draft(
    *, session: Session, key: str, locale: str, parts: Mapping[str, str], user: User
) -> TemplateVersion:
    """Create or update the one open draft; refuses (TemplateRejected) content with problems.

    With a structured email (`email_body`), the email's text and HTML parts are made from it.
    """
    template_for(session, key, locale)
    checked = validate(
        parts, key=key, locale=locale, required=required_parts(session=session, key=key)
    )
    if checked.problems:
        raise TemplateRejected(checked.problems, checked.fields)
    template = template_for(session, key, locale, lock=True)
    versions = versions_of(session, template, locale)
    saved_at = now(session)
    draft = next((v for v in versions if v.status == TemplateStatus.DRAFT), None)
    if draft is None:
        draft = TemplateVersion(
            template_id=template.id,
            locale=locale,
            version=_next_number(versions),
            status=TemplateStatus.DRAFT,
            created_at=saved_at,
            created_by=user.email,
        )
        session.add(draft)
    for name in EDITABLE_PARTS:
        setattr(draft, name, checked.sources[name])
    draft.created_at, draft.created_by = saved_at, user.email
    session.flush()
    _audit(session, user, "template.draft_saved", draft, key=key)
    return draft


def publish(
    *, session: Session, key: str, locale: str, user: User, apply_to_pending: bool = False
) -> TemplateVersion:
    """Publish the open draft and retire the version it replaces.

    With `apply_to_pending`, messages not sent yet that are pinned to an older version of this
    key and language move to the new one; sent messages never change.
    """
    template = template_for(session, key, locale, lock=True)
    versions = versions_of(session, template, locale)
    draft = next((v for v in versions if v.status == TemplateStatus.DRAFT), None)
    if draft is None:
        raise TemplateEditError(
            f"There is no draft of {key} ({locale}) to publish; save one first."
        )
    _recheck(session, draft, key)
    newest = max((v.version for v in versions if v is not draft), default=0)
    if draft.version <= newest:  # a roll back was published while this draft was open
        draft.version = newest + 1
    retired = _retire_published(versions)
    draft.status = TemplateStatus.PUBLISHED
    session.flush()
    moved = _repin(session, template.id, locale, draft) if apply_to_pending else 0
    _audit(
        session,
        user,
        "template.published",
        draft,
        key=key,
        retired_version=retired,
        apply_to_pending=apply_to_pending,
        repinned=moved,
    )
    return draft


def roll_back(
    *,
    session: Session,
    key: str,
    locale: str,
    to_version: int,
    user: User,
    apply_to_pending: bool = False,
) -> TemplateVersion:
    """Publish a NEW version with the content of `to_version`; history is never edited.

    The open draft, if any, stays a draft. `apply_to_pending` as for `publish`.
    """
    template = template_for(session, key, locale, lock=True)
    versions = versions_of(session, template, locale)
    old = next((v for v in versions if v.version == to_version), None)
    if old is None:
        raise TemplateNotFound(f"{key} ({locale}) has no version {to_version}.")
    if old.status == TemplateStatus.DRAFT:
        raise TemplateEditError(
            f"Version {to_version} is the open draft, never published: publish it instead."
        )
    if old.status == TemplateStatus.PUBLISHED:
        raise TemplateEditError(f"Version {to_version} is already the published version.")
    _recheck(session, old, key)
    saved_at = now(session)
    retired = _retire_published(versions)
    copy = TemplateVersion(
        template_id=template.id,
        locale=locale,
        version=_next_number(versions),
        status=TemplateStatus.PUBLISHED,
        created_at=saved_at,
        created_by=user.email,
        **{name: getattr(old, name) for name in EDITABLE_PARTS},
    )
    session.add(copy)
    session.flush()
    moved = _repin(session, template.id, locale, copy) if apply_to_pending else 0
    _audit(
        session,
        user,
        "template.rolled_back",
        copy,
        key=key,
        copied_from=to_version,
        retired_version=retired,
        apply_to_pending=apply_to_pending,
        repinned=moved,
    )
    return copy


def _next_number(versions: list[TemplateVersion]) -> int:
    return max((v.version for v in versions), default=0) + 1


def _retire_published(versions: list[TemplateVersion]) -> int | None:
    retired = None
    for version in versions:
        if version.status == TemplateStatus.PUBLISHED:
            version.status = TemplateStatus.RETIRED
            retired = version.version
    return retired


def _recheck(session: Session, version: TemplateVersion, key: str) -> None:
    """Content is checked again before it goes live: rules may be newer than the content.
    What is checked is what is sent: the saved parts, not the structured email they came from."""
    parts = {name: getattr(version, name) for name in PARTS}
    checked = validate(
        parts, key=key, locale=version.locale, required=required_parts(session=session, key=key)
    )
    if checked.problems:
        raise TemplateRejected(checked.problems, checked.fields)


def _repin(session: Session, template_id: int, locale: str, target: TemplateVersion) -> int:
    """Move messages not sent yet from older versions of this key and language to `target`."""
    older = select(TemplateVersion.id).where(
        TemplateVersion.template_id == template_id,
        TemplateVersion.locale == locale,
        TemplateVersion.id != target.id,
    )
    result = session.execute(
        update(Message)
        .where(Message.template_version_id.in_(older), Message.status.in_(WAITING))
        .values(template_version_id=target.id, updated_at=now(session))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _audit(
    session: Session, user: User, action: str, version: TemplateVersion, **detail: Any
) -> None:
    audit.record(
        session,
        actor=user.email,
        action=action,
        subject_type="template_version",
        subject_id=version.id,
        at=now(session),
        locale=version.locale,
        version=version.version,
        **detail,
    )
