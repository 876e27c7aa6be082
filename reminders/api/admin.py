"""JSON API: admin only (clinic settings, plans, users, the audit log); 403 for therapists.

API tokens (/api/tokens) are the exception: everyone lists and revokes their own, and an
admin anyone's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reminders import audit, clock
from reminders.accounts import InvalidAccount, create_user, deactivate, reset_password
from reminders.api.common import (
    MAX_ID,
    Id,
    Limit,
    Offset,
    actor,
    api_router,
    problem,
    saved,
)
from reminders.api.schemas import (
    AuditOut,
    ClinicSettingsIn,
    ClinicSettingsOut,
    Page,
    PlanData,
    PlanOut,
    UserIn,
    UserOut,
)
from reminders.api_tokens import (
    TOKEN_DAYS,
    TOKEN_MAX_DAYS,
    TokenStatus,
    issue_token,
    revoke_token,
    token_status,
    tokens_of,
)
from reminders.models import AftercarePlan, ApiToken, AuditEvent, ClinicSettings, User
from reminders.planning.plan_editing import replace_plan, step_as_data
from reminders.request_context import AdminUser, CurrentUser, SessionDep

router = api_router("admin")
PlanKey = Annotated[str, Path(max_length=60, pattern=r"^[^\x00-\x1f/]+$")]
SETTINGS_FIELDS = tuple(ClinicSettingsIn.model_fields)


# clinic settings -------------------------------------------------------------------------


def _settings_row(session: Session) -> ClinicSettings:
    row = session.get(ClinicSettings, 1)
    if row is None:
        raise problem(404, "The clinic is not set up yet: run `reminders init`.")
    return row


def _settings_out(row: ClinicSettings) -> ClinicSettingsOut:
    return ClinicSettingsOut.model_validate(
        {name: getattr(row, name) for name in (*SETTINGS_FIELDS, "updated_at")}
    )


@router.get("/settings")
def read_settings(user: AdminUser, session: SessionDep) -> ClinicSettingsOut:
    """The clinic's name, phone, time zone, alert email, quiet hours and caps."""
    return saved(session, _settings_out(_settings_row(session)))


@router.put("/settings")
def write_settings(
    body: ClinicSettingsIn, user: AdminUser, session: SessionDep
) -> ClinicSettingsOut:
    """Replace the clinic settings; they apply to messages planned from now on."""
    row = _settings_row(session)
    changed = [name for name in SETTINGS_FIELDS if getattr(row, name) != getattr(body, name)]
    for name in changed:
        setattr(row, name, getattr(body, name))
    if changed:
        row.updated_at = clock.now(session)
        audit.record(
            session,
            actor=actor(user),
            action="settings.updated",
            subject_type="clinic_settings",
            subject_id=row.id,
            fields=changed,
        )
    return saved(session, _settings_out(row))


# plans -----------------------------------------------------------------------------------


def _plan_out(plan: AftercarePlan) -> PlanOut:
    return PlanOut.model_validate(
        {
            "key": plan.key,
            "name": plan.name,
            "description": plan.description,
            "updated_at": plan.updated_at,
            "steps": [step_as_data(row) for row in plan.steps],
        }
    )


def _plan(session: Session, key: str) -> AftercarePlan:
    plan = session.scalar(
        select(AftercarePlan)
        .where(AftercarePlan.key == key)
        .options(selectinload(AftercarePlan.steps))
    )
    if plan is None:
        raise problem(404, f"There is no plan {key!r}.")
    return plan


@router.get("/plans")
def list_plans(user: AdminUser, session: SessionDep) -> list[PlanOut]:
    """Every aftercare plan with its steps."""
    plans = session.scalars(
        select(AftercarePlan).options(selectinload(AftercarePlan.steps)).order_by(AftercarePlan.key)
    )
    return saved(session, [_plan_out(p) for p in plans])


@router.get("/plans/{key}")
def get_plan(key: PlanKey, user: AdminUser, session: SessionDep) -> PlanOut:
    """One plan, in the form PUT takes back."""
    return saved(session, _plan_out(_plan(session, key)))


@router.put("/plans/{key}")
def put_plan(key: PlanKey, body: PlanData, user: AdminUser, session: SessionDep) -> PlanOut:
    """Replace a plan's name and steps; messages already planned keep their times."""
    plan = _plan(session, key)
    replace_plan(
        session,
        plan=plan,
        data=body.model_dump(exclude_none=True),
        actor=actor(user),
        now=clock.now(session),
    )
    session.flush()
    return saved(session, _plan_out(plan))


# users -----------------------------------------------------------------------------------


def _user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/users")
def list_users(user: AdminUser, session: SessionDep) -> list[UserOut]:
    """Everyone who can sign in (and who could), by email."""
    return saved(
        session, [_user_out(u) for u in session.scalars(select(User).order_by(User.email))]
    )


@router.post("/users", status_code=201)
def add_user(body: UserIn, user: AdminUser, session: SessionDep) -> UserOut:
    """Create an admin or therapist account. The password needs at least 12 characters and
    must not be easy to guess (zxcvbn); a 422 says why one is refused."""
    email = body.email.strip().lower()
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise problem(409, "A user with that email exists already.")
    made = create_user(
        session=session,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        now=clock.now(session),
        actor=actor(user),
    )
    return saved(session, _user_out(made))


@router.post("/users/{user_id}/deactivate")
def deactivate_user(user_id: Id, user: AdminUser, session: SessionDep) -> UserOut:
    """Stop an account from signing in or using its tokens (kept for the audit log); its
    sessions end at once, in every browser."""
    found = session.get(User, user_id)
    if found is None:
        raise problem(404, f"There is no user {user_id}.")
    if found.id == user.id:
        raise problem(409, "You cannot deactivate your own account.")
    deactivate(session=session, user=found, now=clock.now(session), actor=actor(user))
    return saved(session, _user_out(found))


class TemporaryPasswordOut(BaseModel):
    user_id: int
    email: str
    temporary_password: str = Field(
        description="Shown once: good for one sign-in, which can only choose a new password"
    )
    expires_at: datetime


@router.post("/users/{user_id}/reset-password")
def reset_user_password(user_id: Id, user: AdminUser, session: SessionDep) -> TemporaryPasswordOut:
    """Give someone who forgot their password a temporary one (shown once, good for one
    sign-in within 24 hours, which must choose a new password). Their sessions end now."""
    found = session.get(User, user_id)
    if found is None:
        raise problem(404, f"There is no user {user_id}.")
    if found.id == user.id:
        raise problem(409, "Change your own password at /account/password.")
    try:
        temporary = reset_password(
            session=session, user=found, now=clock.now(session), actor=actor(user)
        )
    except InvalidAccount as exc:
        raise problem(409, f"Cannot reset: {exc}.") from None
    out = TemporaryPasswordOut(
        user_id=found.id,
        email=found.email,
        temporary_password=temporary.password,
        expires_at=temporary.expires_at,
    )
    return saved(session, out)


# API tokens ------------------------------------------------------------------------------


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, description="What the token is for")
    expires_in_days: int = Field(TOKEN_DAYS, ge=1, le=TOKEN_MAX_DAYS)


class TokenOut(BaseModel):
    id: int
    user_id: int
    user_email: str
    name: str
    status: TokenStatus
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown once: Authorization: Bearer TOKEN")


def _token_out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        user_id=row.user_id,
        user_email=row.user.email,
        name=row.name,
        status=token_status(row),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


OptionalUserId = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="an admin: this user's tokens (default: yours)"),
]


@router.get("/tokens", tags=["tokens"])
def list_tokens(
    user: CurrentUser, session: SessionDep, user_id: OptionalUserId = None
) -> list[TokenOut]:
    """Your API tokens, newest first, with their expiry and when each was last used; an
    admin may ask for anyone's."""
    if user_id is not None and user_id != user.id:
        if user.role != "admin":
            raise problem(403, "Only an admin can do this.")
        if session.get(User, user_id) is None:
            raise problem(404, f"There is no user {user_id}.")
    rows = tokens_of(session, user_id or user.id)
    return saved(session, [_token_out(row) for row in rows])


@router.post("/tokens", status_code=201, tags=["tokens"])
def add_token(
    body: TokenIn, request: Request, user: CurrentUser, session: SessionDep
) -> NewTokenOut:
    """A new token for yourself (shown once), from a signed-in page session: a token cannot
    make another token, or one leaked token would outlive its own expiry."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        raise problem(403, "A token cannot make tokens: sign in, or use `reminders users token`.")
    row, token = issue_token(
        session=session,
        user=user,
        name=body.name,
        now=clock.now(session),
        days=body.expires_in_days,
    )
    out = NewTokenOut(**_token_out(row).model_dump(), token=token)
    return saved(session, out)


@router.delete("/tokens/{token_id}", tags=["tokens"])
def delete_token(token_id: Id, user: CurrentUser, session: SessionDep) -> TokenOut:
    """Revoke one token at once (yours, or anyone's for an admin); it then gets 401. Kept,
    revoked, for the list and the audit log; revoking it again changes nothing."""
    row = revoke_token(
        session=session, token_id=token_id, by=user, now=clock.now(session), actor=actor(user)
    )
    session.flush()
    return saved(session, _token_out(row))


# audit -----------------------------------------------------------------------------------


@router.get("/audit")
def list_audit(
    user: AdminUser, session: SessionDep, limit: Limit = 100, offset: Offset = 0
) -> Page[AuditOut]:
    """Who did what and when, newest first."""
    total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [AuditOut.model_validate(e, from_attributes=True) for e in rows]
    return saved(session, Page(items=items, total=total, limit=limit, offset=offset))
