"""JSON API: templates. Admins only: list, read, preview, save a draft, publish, diff, roll back.

Errors are JSON: 404 for an unknown key, language or version; 400 for a change that cannot be
made now (nothing to publish); 422 with a `problems` list (and `fields`: the same by part) for
content that fails validation (nothing is saved); 413 for a request body over MAX_BODY_BYTES.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select

from reminders.api.common import limited_body
from reminders.api.template_schemas import (
    MAX_VERSION,
    ChangeOut,
    DiffOut,
    DraftRequest,
    LocaleOut,
    PartChangesOut,
    Parts,
    PreviewOut,
    PreviewRequest,
    Problem,
    PublishOut,
    PublishRequest,
    Rejected,
    RollbackRequest,
    SmsOut,
    TemplateDetail,
    TemplateList,
    TemplateOut,
    VersionOut,
    VersionSummary,
    WaitingOut,
)
from reminders.content import template_editing as editing
from reminders.content import word_diff
from reminders.content.rendering import SAMPLE_VARIABLES, SmsCost
from reminders.models import MessageTemplate, TemplateVersion
from reminders.request_context import AdminUser, SessionDep
from reminders.vocabulary import TemplateStatus

MAX_BODY_BYTES = 1024 * 1024  # four parts at their largest, JSON-escaped, fit well under this
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


router = APIRouter(prefix="/api", tags=["templates"], route_class=limited_body(MAX_BODY_BYTES))


# --- the error answers each route documents -------------------------------------------------


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
CHANGES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    404: {"model": Problem},
    413: {"model": Problem},
    422: {"model": Rejected, "description": "Content with problems (nothing is saved)"},
}


# --- routes ---------------------------------------------------------------------------------


@router.get("/templates", response_model=TemplateList)
def list_templates(session: SessionDep, admin: AdminUser) -> TemplateList:
    """Every message template, its variables, and the published and draft version per language."""
    return TemplateList(
        templates=[
            TemplateOut(
                key=summary.key,
                variables=list(summary.variables),
                locales=[
                    LocaleOut(locale=s.locale, published_version=s.published, draft_version=s.draft)
                    for s in summary.locales
                ],
            )
            for summary in editing.overview(session=session)
        ],
        sample_variables=SAMPLE_VARIABLES,
    )


@router.post("/templates/preview", response_model=PreviewOut, responses=NOT_FOUND)
def preview_template(body: PreviewRequest, session: SessionDep, admin: AdminUser) -> Any:
    """Render the parts with sample data: problems (by part too), the SMS encoding and
    segments, and the words changed since the published version. Saves nothing."""
    if (missing := _missing(session, body.key, body.locale)) is not None:
        return missing
    required = editing.required_parts(session=session, key=body.key)
    shown = editing.preview(
        body.parts.model_dump(), key=body.key, locale=body.locale, required=required
    )
    published = editing.published_version(session=session, key=body.key, locale=body.locale)
    before = _version(published).parts.model_dump() if published else None
    return PreviewOut(
        ok=shown.ok,
        problems=shown.problems,
        fields=shown.fields,
        parts=Parts(**shown.parts),
        sources=Parts(**shown.sources),
        sms=_sms(shown.sms),
        published_version=published.version if published else None,
        changes=[
            PartChangesOut(
                part=found.part,
                label=found.label,
                added=found.added,
                removed=found.removed,
                changes=[ChangeOut(kind=c.kind, text=c.text) for c in found.changes],
            )
            for found in word_diff.message_changes(before, shown.sources)
        ],
    )


@router.get("/templates/{key}/{locale}", response_model=TemplateDetail, responses=NOT_FOUND)
def get_template(key: str, locale: str, session: SessionDep, admin: AdminUser) -> Any:
    """The published version and the open draft with their content, and the version history."""
    if (missing := _missing(session, key, locale)) is not None:
        return missing
    versions = editing.history(session=session, key=key, locale=locale)
    published = next((v for v in versions if v.status == TemplateStatus.PUBLISHED), None)
    draft = next((v for v in versions if v.status == TemplateStatus.DRAFT), None)
    waiting = editing.waiting_messages(session=session, key=key, locale=locale)
    return TemplateDetail(
        key=key,
        locale=locale,
        variables=list(editing.variables_for(key)),
        published=_version(published) if published else None,
        draft=_version(draft) if draft else None,
        history=[_summary(v) for v in versions],
        waiting=[WaitingOut(version=v, messages=n) for v, n in sorted(waiting.items())],
    )


@router.get(
    "/templates/{key}/{locale}/versions/{version}", response_model=VersionOut, responses=NOT_FOUND
)
def get_template_version(
    key: str,
    locale: str,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    session: SessionDep,
    admin: AdminUser,
) -> Any:
    """One version's content, whatever its status."""
    if (missing := _missing(session, key, locale)) is not None:
        return missing
    found = editing.get_version(session=session, key=key, locale=locale, version=version)
    return _version(found)


@router.put("/templates/{key}/{locale}/draft", response_model=VersionOut, responses=CHANGES)
def save_draft(
    key: str, locale: str, body: DraftRequest, session: SessionDep, admin: AdminUser
) -> Any:
    """Create or replace the open draft. Content with problems is refused (422), nothing saved."""
    if (missing := _missing(session, key, locale)) is not None:
        return missing
    return _changed(
        lambda: editing.save_draft(
            session=session, key=key, locale=locale, parts=body.parts.model_dump(), user=admin
        ),
        "The draft was not saved",
    )


@router.post("/templates/{key}/{locale}/publish", response_model=PublishOut, responses=CHANGES)
def publish(
    key: str,
    locale: str,
    session: SessionDep,
    admin: AdminUser,
    body: PublishRequest | None = None,
) -> Any:
    """Publish the open draft; the version it replaces is retired."""
    if (missing := _missing(session, key, locale)) is not None:
        return missing
    apply = body.apply_to_pending if body else False
    return _published(
        session,
        key,
        locale,
        apply,
        lambda: editing.publish(
            session=session, key=key, locale=locale, user=admin, apply_to_pending=apply
        ),
        "The draft was not published",
    )


@router.post("/templates/{key}/{locale}/rollback", response_model=PublishOut, responses=CHANGES)
def roll_back(
    key: str, locale: str, body: RollbackRequest, session: SessionDep, admin: AdminUser
) -> Any:
    """Publish a new version with an old version's content; history is left as it was."""
    if (missing := _missing(session, key, locale)) is not None:
        return missing
    return _published(
        session,
        key,
        locale,
        body.apply_to_pending,
        lambda: editing.roll_back(
            session=session,
            key=key,
            locale=locale,
            to_version=body.to_version,
            user=admin,
            apply_to_pending=body.apply_to_pending,
        ),
        f"Version {body.to_version} was not published again",
    )


@router.get("/templates/{key}/{locale}/diff", response_model=DiffOut, responses=NOT_FOUND)
def diff(
    key: str,
    locale: str,
    session: SessionDep,
    admin: AdminUser,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_VERSION)],
) -> Any:
    """A unified diff of the parts between two versions."""
    if (missing := _missing(session, key, locale)) is not None:
        return missing
    text = editing.diff(
        session=session,
        key=key,
        locale=locale,
        from_version=from_version,
        to_version=to_version,
    )
    return DiffOut(
        key=key, locale=locale, from_version=from_version, to_version=to_version, diff=text
    )


# --- helpers --------------------------------------------------------------------------------


def _missing(session: SessionDep, key: str, locale: str) -> JSONResponse | None:
    """404 for a key or language that does not exist (what was typed is not echoed back
    unless it looks like a key: it may not even be valid text)."""
    if locale not in editing.LOCALES:
        return _error(404, f"There is no such language; use {' or '.join(editing.LOCALES)}.")
    if not KEY_PATTERN.fullmatch(key) or (
        session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == key)) is None
    ):
        shown = f" called {key!r}" if KEY_PATTERN.fullmatch(key) else " with that name"
        return _error(404, f"There is no template{shown}.")
    return None


def _changed(change: Callable[[], TemplateVersion], refused: str) -> Any:
    try:
        return _version(change())
    except editing.TemplateRejected as exc:
        count = len(exc.problems)
        return JSONResponse(
            {
                "detail": f"{refused}: {count} problem{'s' if count != 1 else ''}. "
                + " ".join(exc.problems),
                "problems": exc.problems,
                "fields": exc.fields,
            },
            status_code=422,
        )
    except editing.TemplateEditError as exc:
        return _error(400, str(exc))
    except editing.TemplateNotFound as exc:
        return _error(404, str(exc))


def _published(
    session: SessionDep,
    key: str,
    locale: str,
    apply: bool,
    change: Callable[[], TemplateVersion],
    refused: str,
) -> Any:
    waiting = editing.waiting_messages(session=session, key=key, locale=locale) if apply else {}
    published = editing.published_version(session=session, key=key, locale=locale)
    before = published.version if published else None
    answer = _changed(change, refused)
    if not isinstance(answer, VersionOut):
        return answer
    return PublishOut(
        published=answer,
        retired_version=before,
        repinned=sum(waiting.values()),
    )


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _sms(cost: SmsCost | None) -> SmsOut | None:
    return None if cost is None else SmsOut(**vars(cost))


def _summary(version: TemplateVersion) -> VersionSummary:
    return VersionSummary(
        version=version.version,
        status=version.status,
        created_at=_utc(version.created_at),
        created_by=version.created_by,
    )


def _version(version: TemplateVersion) -> VersionOut:
    return VersionOut(
        **_summary(version).model_dump(),
        parts=Parts(
            sms=version.sms,
            email_subject=version.email_subject,
            email_text=version.email_text,
            email_html=version.email_html,
            email_body=version.email_body,
        ),
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
