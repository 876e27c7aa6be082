"""The patient's pages behind email links: check-in answers (0-10) and unsubscribe.

Opening a link (GET) never changes anything: mail scanners and link previews open links
too. A check-in is answered with a button (POST) and can be changed for a day
(reminders.replies.checkins); an unsubscribe link shows a button, and the same URL takes the RFC 8058
one-click POST that mail clients send from the `List-Unsubscribe` header, at once.

Tokens are signed and expire (reminders.links); a forged or expired link gets a clear page
and changes nothing. Pages are in the patient's language (the message's locale), name the
clinic, are not cached or indexed, send no Referer, and carry no script at all (CSP).

Cross-site forgery: there is no session cookie to ride on; the signed token in the URL is
the capability. The check-in POST is refused when the browser says it comes from another
site (`Sec-Fetch-Site`, or an `Origin` that is not ours). A hidden signed field would add
nothing: anyone holding the link can fetch the page that carries it. The unsubscribe POST
is not checked: RFC 8058 wants it to work from any mail system, with no context at all.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders import clock
from reminders.clinic import clinic_rules
from reminders.config import get_settings
from reminders.db import session_scope
from reminders.enrolling.contacts import contact_point
from reminders.links import CHECKIN, UNSUBSCRIBE, BadLink, ExpiredLink, read_token
from reminders.models import Message, OptOut
from reminders.replies.checkins import answer_checkin, changeable_until, current_answer
from reminders.replies.inbound import opt_out
from reminders.vocabulary import Channel
from reminders.web.patient_words import LOCALES, WORDS

router = APIRouter(tags=["email links"])

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGES = ("checkin", "confirm", "sent", "closed", "unsubscribe", "unsubscribed", "problem")
for _name in PAGES:  # a missing template stops the web app at start, not a patient's click
    TEMPLATES.get_template(f"patient/{_name}.html")
STYLE = (TEMPLATE_DIR / "patient" / "style.css").read_text(encoding="utf-8").strip()
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

HEADERS = {
    # The URL is the patient's key: no copy in caches, no Referer to other sites.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str


@dataclass(frozen=True)
class Link:
    """A link whose token checked out: its message, with what its pages need."""

    message: Message
    lang: str
    clinic: Clinic
    zone: ZoneInfo


def _page(
    template: str, lang: str, clinic: Clinic, *, title: str, status: int = 200, **values: Any
) -> HTMLResponse:
    html = TEMPLATES.get_template(f"patient/{template}.html").render(
        lang=lang, t=WORDS[lang], clinic=clinic, title=title, style=Markup(STYLE), **values
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _problem(lang: str, clinic: Clinic, reason: str, *, status: int = 400) -> HTMLResponse:
    words = WORDS[lang]
    return _page(
        "problem", lang, clinic, title=words["problem_title"], reason=words[reason], status=status
    )


def _clinic(session: Session) -> Clinic:
    rules = clinic_rules(session)
    return Clinic(rules.name, rules.phone)


def _browser_language(request: Request) -> str:
    """For a link we cannot read: the first language the browser asks for, if we have it."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "fr" if first.startswith("fr") else "en"


def _open(session: Session, request: Request, purpose: str, token: str) -> Link | HTMLResponse:
    """The link's message, or the page that says why the link does not work."""
    try:
        message_id = read_token(get_settings().secret_key, purpose, token)
    except BadLink as exc:
        reason = "link_expired" if isinstance(exc, ExpiredLink) else "link_invalid"
        return _problem(_browser_language(request), _clinic(session), reason)
    message = session.get(Message, message_id)
    if message is None or (purpose == CHECKIN and not message.checkin):
        return _problem(_browser_language(request), _clinic(session), "link_invalid")
    # The message's own language first (what the email was written in), then the patient's.
    lang = next((x for x in (message.locale, message.patient.language) if x in LOCALES), "en")
    return Link(message, lang, _clinic(session), ZoneInfo(message.patient.time_zone))


def _when(moment: datetime, link: Link) -> str:
    """A time in the patient's zone and words; the sentence adds the final period (so no
    "a.m.." in Canadian English)."""
    return format_datetime(
        moment.astimezone(link.zone),
        WORDS[link.lang]["when"],
        locale="fr_CA" if link.lang == "fr" else "en_CA",
    ).rstrip(".")


def _score(value: str | None) -> int | None:
    """A 0-10 score from a form or query value; None for anything else."""
    if value is None or not value.strip().isdigit():
        return None
    score = int(value.strip())
    return score if 0 <= score <= 10 else None


def _cross_site(request: Request) -> bool:
    """Whether the browser says this POST comes from a page of another site.

    `Origin: null` is not judged: our own pages send it, since they ask for no referrer.
    A request with neither header (not a browser, or an old one) is judged by its token.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    ours = {_origin(get_settings().link_base_url), _origin(str(request.base_url))}
    return origin.rstrip("/").lower() not in ours


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# check-in ----------------------------------------------------------------------------------


@router.get("/checkin/{token}", response_class=HTMLResponse)
def checkin_page(request: Request, token: str, score: str | None = Query(None)) -> HTMLResponse:
    """The question with 0-10 buttons; with ?score=N (the email's number links), that number
    chosen and one Send button. Records nothing: the answer is sent by the POST."""
    with session_scope() as session:
        link = _open(session, request, CHECKIN, token)
        if isinstance(link, HTMLResponse):
            return link
        words, action = WORDS[link.lang], f"/checkin/{token}"
        reply = current_answer(session, link.message)
        now = clock.now(session)
        current, until = None, ""
        if reply is not None:
            if now >= changeable_until(reply):
                return _page(
                    "closed",
                    link.lang,
                    link.clinic,
                    title=words["closed_title"],
                    score=reply.score,
                    answered=_when(reply.received_at, link),
                )
            current, until = reply.score, _when(changeable_until(reply), link)
        chosen = _score(score)
        if chosen is not None:
            return _page(
                "confirm",
                link.lang,
                link.clinic,
                title=words["confirm_title"],
                action=action,
                chosen=chosen,
                current=current,
                until=until,
            )
        title = words["question"] if current is None else words["your_answer_title"]
        return _page(
            "checkin",
            link.lang,
            link.clinic,
            title=title,
            action=action,
            current=current,
            until=until,
        )


@router.post("/checkin/{token}", response_class=HTMLResponse)
def checkin_answer(request: Request, token: str, score: str | None = Form(None)) -> HTMLResponse:
    """Record the patient's answer, or change it within a day of the first one."""
    with session_scope() as session:
        link = _open(session, request, CHECKIN, token)
        if isinstance(link, HTMLResponse):
            return link
        words = WORDS[link.lang]
        if _cross_site(request):
            return _page(
                "problem",
                link.lang,
                link.clinic,
                title=words["not_sent_title"],
                reason=words["cross_site"],
                status=403,
            )
        chosen = _score(score)
        if chosen is None:
            return _page(
                "problem",
                link.lang,
                link.clinic,
                title=words["not_sent_title"],
                reason=words["bad_score"],
                status=422,
            )
        answer = answer_checkin(session, message=link.message, score=chosen, now=clock.now(session))
        if answer.outcome == "too_late":
            return _page(
                "closed",
                link.lang,
                link.clinic,
                title=words["closed_title"],
                score=answer.score,
                answered=_when(answer.answered_at, link),
                status=409,
            )
        return _page(
            "sent",
            link.lang,
            link.clinic,
            title=words["thanks"],
            action=f"/checkin/{token}",
            score=answer.score,
            until=_when(answer.changeable_until, link),
        )


# unsubscribe -------------------------------------------------------------------------------


def _unsubscribing(message: Message) -> str | None:
    """The address an unsubscribe link stops, for everyone who shares it: the one the email
    went to (the patient's email now, for one not yet sent or sent before that was recorded)."""
    address = message.to_address or message.patient.email
    return contact_point(Channel.EMAIL, address) if address else None


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """A button to press: mail scanners follow GET links, people press buttons."""
    with session_scope() as session:
        link = _open(session, request, UNSUBSCRIBE, token)
        if isinstance(link, HTMLResponse):
            return link
        words = WORDS[link.lang]
        if session.scalar(select(OptOut.active(_unsubscribing(link.message), Channel.EMAIL))):
            return _page("unsubscribed", link.lang, link.clinic, title=words["unsubscribed_title"])
        return _page(
            "unsubscribe",
            link.lang,
            link.clinic,
            title=words["unsubscribe_title"],
            action=f"/unsubscribe/{token}",
        )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe (`List-Unsubscribe=One-Click`), and the page's button:
    honoured at once, no confirmation asked."""
    with session_scope() as session:
        link = _open(session, request, UNSUBSCRIBE, token)
        if isinstance(link, HTMLResponse):
            return link
        address = _unsubscribing(link.message)
        if address is not None:
            opt_out(
                session,
                link.message.patient,
                channel=Channel.EMAIL,
                address=address,
                source="email-link",
                now=clock.now(session),
            )
        return _page(
            "unsubscribed", link.lang, link.clinic, title=WORDS[link.lang]["unsubscribed_title"]
        )
