"""JSON API: the bodies the template routes accept and the answers they give (pydantic models).

The routes themselves are in reminders.api.templates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_VERSION = 1_000_000


class Parts(BaseModel):
    """The parts of a message, as Jinja2 template source; a missing part is empty.

    `email_body` is the email written once as structured text (paragraphs, "- " lists,
    [words](link), **bold**); when it is not empty, the email text and HTML parts are made
    from it and whatever was sent for them is not used. Empty: they are taken as written."""

    model_config = ConfigDict(extra="forbid")

    sms: str = ""
    email_subject: str = ""
    email_text: str = ""
    email_html: str = ""
    email_body: str = ""


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(examples=["after-session"])
    locale: str = Field(examples=["en"])
    parts: Parts


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: Parts


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apply_to_pending: bool = Field(
        False,
        description="Also move messages not sent yet from older versions to the new one.",
    )


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_version: int = Field(ge=1, le=MAX_VERSION, description="The old version to publish again.")
    apply_to_pending: bool = False


class SmsOut(BaseModel):
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


class ChangeOut(BaseModel):
    kind: str  # same | added | removed
    text: str


class PartChangesOut(BaseModel):
    part: str  # sms | email_subject | email | email_html
    label: str
    added: int  # words
    removed: int
    changes: list[ChangeOut]


class PreviewOut(BaseModel):
    ok: bool
    problems: list[str]
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description='The same problems by the part they are about; "message": the whole.',
    )
    parts: Parts  # rendered with sample data; "" where a part cannot be rendered
    sources: Parts  # as they would be saved: with the email parts made from email_body
    sms: SmsOut | None
    published_version: int | None
    changes: list[PartChangesOut]  # in words, against the published version


class VersionSummary(BaseModel):
    version: int
    status: str  # draft | published | retired
    created_at: datetime
    created_by: str


class VersionOut(VersionSummary):
    parts: Parts


class LocaleOut(BaseModel):
    locale: str
    published_version: int | None
    draft_version: int | None


class TemplateOut(BaseModel):
    key: str
    variables: list[str]
    locales: list[LocaleOut]


class TemplateList(BaseModel):
    templates: list[TemplateOut]
    sample_variables: dict[str, Any]


class WaitingOut(BaseModel):
    version: int
    messages: int


class TemplateDetail(BaseModel):
    key: str
    locale: str
    variables: list[str]
    published: VersionOut | None
    draft: VersionOut | None
    history: list[VersionSummary]  # newest first, the draft included
    waiting: list[WaitingOut]  # messages not sent yet, by the version they are pinned to


class PublishOut(BaseModel):
    published: VersionOut
    retired_version: int | None
    repinned: int  # messages not sent yet moved onto the new version


class DiffOut(BaseModel):
    key: str
    locale: str
    from_version: int
    to_version: int
    diff: str  # unified diff, parts labelled key/locale/vN/part; "" when equal


class Problem(BaseModel):
    detail: str


class Rejected(BaseModel):
    detail: str
    problems: list[str]
    fields: dict[str, list[str]]  # the same problems by part; "message": the whole
