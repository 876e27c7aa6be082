"""Every default template sends each symptom where docs/triage.md says, in both languages.

Pure: templates are rendered from templates/messages with sample data; no database, no Redis.
The triage table, the words that name a destination, the phrases a message must carry and the
phrases no template may say are read from docs/triage.md, so that the page and the templates
cannot drift apart.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reminders.content.rendering import SAMPLE_VARIABLES, VARIABLES, render, sms_cost

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "templates" / "messages"
PLANS = ROOT / "templates" / "plans"
TRIAGE = ROOT / "docs" / "triage.md"

LOCALES = ("en", "fr")
PARTS = ("sms", "email_subject", "email_text", "email_html")
EMAIL_BODIES = ("email_text", "email_html")
STAFF_ONLY = {"clinic-alert"}
FIRST_NAME = "Jacqueline"  # 10 characters: the length the segment limits are set for
HOURS = {"en": "Mon-Fri 8:00-18:00", "fr": "lun-ven 8 h-18 h"}
PHONE = str(SAMPLE_VARIABLES["clinic_phone"])
VARIANTS = [  # (clinic_closed, flagged)
    (False, False),
    (False, True),
    (True, False),
    (True, True),
]

# Texts that carry the 911 line ("Trouble breathing or chest pain: call 911.")
SMS_WITH_911_LINE = (
    "after-session",
    "same-evening",
    "next-morning",
    "day-3",
    "reply-emergency",
    "reply-alerted",
    "reply-ack",
    "reply-thanks",
    "reply-confirm-stop",
)
# Texts that may go out while the clinic is closed and then name Health Link 811
SMS_NAMING_811_WHEN_CLOSED = ("next-morning", "day-3", "day-7", "reply-ack")
# At most this many GSM-7 segments (with a 10-character first name)
SMS_SEGMENTS = {
    "after-session": 2,
    "same-evening": 1,
    "next-morning": 2,
    "day-3": 2,
    "day-7": 2,
    "reply-ack": 2,
}
# Answers sent straight back to a reply: at most 160 characters (carrier rule for keyword
# answers; the webhook also cuts every answer at 160 today)
ANSWERS_160 = (
    "reply-help",
    "reply-stop",
    "reply-start",
    "reply-confirm-stop",
    "reply-alerted",
    "reply-emergency",
    "reply-thanks",
)
ALERT_CLAIM = re.compile(
    r"\b(alert\w*|told|tell|notif\w*|inform\w*|avis[ée]e?s?|pr[ée]venu\w*|alert[ée]\w*)\b",
    re.IGNORECASE,
)
THERAPIST = {"en": "therapist", "fr": "thérapeute"}
THREE_DAYS = {"en": "3 days", "fr": "3 jours"}
# What clinical review decided: a word of the symptom's name in docs/triage.md -> where
TRIAGE_DECIDED = {
    "trouble breathing": "911",
    "chest pain": "911",
    "coughing up blood": "911",
    "new (dry) cough": "911",
    "fainting": "911",
    "bleeding": "911",
    "bruise": "clinic",
    "soreness": "clinic",
    "numbness": "clinic",
    "redness": "clinic",
    "fever": "clinic",
    "dizziness": "clinic",
}
OPT_OUT_LINES = {"en": "Reply STOP to opt out.", "fr": "Répondez ARRET pour vous désabonner."}


# --- docs/triage.md -------------------------------------------------------------------------


@dataclass(frozen=True)
class Symptom:
    name: str
    words: dict[str, tuple[str, ...]]  # locale -> phrases
    where: str  # "911" | "clinic"


@dataclass(frozen=True)
class Triage:
    symptoms: tuple[Symptom, ...]
    destinations: dict[str, dict[str, tuple[str, ...]]]  # where -> locale -> phrases
    required: dict[str, dict[str, tuple[str, ...]]]  # where -> locale -> phrases
    never: tuple[tuple[str, dict[str, tuple[str, ...]]], ...]  # (why, locale -> phrases)


def _table(markdown: str, header: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = [n for n, line in enumerate(lines) if line.strip() == header]
    assert len(start) == 1, f"docs/triage.md needs exactly one table headed {header!r}"
    rows = []
    for line in lines[start[0] + 2 :]:  # after the header and the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _phrases(cell: str) -> tuple[str, ...]:
    return tuple(
        _normal(phrase.replace("{{ clinic_phone }}", PHONE))
        for phrase in cell.split(";")
        if phrase.strip()
    )


@cache
def triage() -> Triage:
    page = TRIAGE.read_text(encoding="utf-8")
    symptoms = tuple(
        Symptom(name, {"en": _phrases(en), "fr": _phrases(fr)}, where)
        for name, en, fr, where in _table(page, "| symptom | en words | fr words | where |")
    )
    destinations = {
        where: {"en": _phrases(en), "fr": _phrases(fr)}
        for where, en, fr in _table(page, "| where | en words | fr words |")
    }
    required = {
        where: {"en": _phrases(en), "fr": _phrases(fr)}
        for where, en, fr in _table(page, "| where | en | fr |")
    }
    never = tuple(
        (why, {"en": _phrases(en), "fr": _phrases(fr)})
        for why, en, fr in _table(page, "| why | en | fr |")
    )
    return Triage(symptoms, destinations, required, never)


# --- rendering and reading templates --------------------------------------------------------


def _normal(text: str) -> str:
    """Lower case, straight apostrophes, single spaces (also no-break spaces)."""
    text = text.replace("’", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(text.casefold().split())


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", _normal(text)) is not None


def variables(locale: str, *, closed: bool, flagged: bool) -> dict[str, Any]:
    """Only the variables a template may use: anything else fails (StrictUndefined)."""
    values = {name: SAMPLE_VARIABLES[name] for name in VARIABLES}
    values.update(
        first_name=FIRST_NAME, clinic_hours=HOURS[locale], clinic_closed=closed, flagged=flagged
    )
    return values


def source(folder: str, part: str, locale: str) -> Path:
    return MESSAGES / folder / f"{part}.{locale}.j2"


def rendered(
    folder: str, part: str, locale: str, *, closed: bool = True, flagged: bool = True
) -> str:
    template = source(folder, part, locale).read_text(encoding="utf-8")
    return render(
        template,
        variables(locale, closed=closed, flagged=flagged),
        html=part == "email_html",
    )


FOLDERS = sorted(path.name for path in MESSAGES.iterdir() if path.is_dir())
PATIENT_FOLDERS = [name for name in FOLDERS if name not in STAFF_ONLY]
PATIENT_EMAILS = [name for name in PATIENT_FOLDERS if source(name, "email_text", "en").exists()]
PATIENT_PARTS = [
    (folder, part, locale)
    for folder in PATIENT_FOLDERS
    for locale in LOCALES
    for part in PARTS
    if source(folder, part, locale).exists()
]


class _HtmlText(HTMLParser):
    """The text of an HTML email: one line per block, "- " before list items."""

    BLOCKS = frozenset({"p", "h1", "h2", "h3", "div", "tr", "table", "ul", "ol", "br"})
    HIDDEN = frozenset({"head", "style", "script"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden -= 1
        elif tag == "li" or tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)


def text_lines(text: str, part: str) -> list[str]:
    if part == "email_html":
        parser = _HtmlText()
        parser.feed(text)
        text = "".join(parser.out)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line for line in lines if line and line != "-"]


def destinations(text: str, locale: str) -> set[str]:
    return {
        where
        for where, words in triage().destinations.items()
        if any(_has(text, phrase) for phrase in words[locale])
    }


def _sentences(line: str, locale: str) -> Iterator[tuple[str, set[str]]]:
    """Each sentence with the destinations it names; a question takes the next sentence's
    ("Trouble breathing? Call 911.")."""
    sentences = re.split(r"(?<=[.?!])\s+", line)
    for n, sentence in enumerate(sentences):
        found = destinations(sentence, locale)
        if not found and sentence.endswith("?") and n + 1 < len(sentences):
            found = destinations(sentences[n + 1], locale)
        yield sentence, found


def units(text: str, part: str, locale: str) -> Iterator[tuple[str, set[str]]]:
    """(sentence, destinations it sends to); list items take those of the line that
    introduces the list ("Call 911 ... if you have:")."""
    intro: set[str] = set()
    for line in text_lines(text, part):
        if line.startswith("- "):
            for sentence, found in _sentences(line[2:], locale):
                yield sentence, found or intro
            continue
        yield from _sentences(line, locale)
        intro = destinations(line, locale) if line.endswith(":") else set()


@dataclass(frozen=True)
class Finding:
    symptom: Symptom
    sentence: str
    sends_to: frozenset[str]


def findings(text: str, part: str, locale: str) -> list[Finding]:
    """Every symptom of the triage table that the text names, with where it sends it."""
    return [
        Finding(symptom, sentence, frozenset(found))
        for sentence, found in units(text, part, locale)
        for symptom in triage().symptoms
        if any(_has(sentence, phrase) for phrase in symptom.words[locale])
    ]


def routes(text: str, part: str, locale: str) -> set[tuple[str, frozenset[str]]]:
    return {(f.symptom.name, f.sends_to) for f in findings(text, part, locale)}


def first_sms_keys() -> list[tuple[str, str]]:
    """(plan file, message key of its first step that sends a text)."""
    keys = []
    for path in sorted(PLANS.glob("*.toml")):
        with path.open("rb") as plan_file:
            steps = tomllib.load(plan_file)["steps"]
        texts = [step["message"] for step in steps if "sms" in step.get("channels", ())]
        keys.append((path.name, texts[0]))
    return keys


# --- the triage page ------------------------------------------------------------------------


def test_it_reads_one_triage_table_that_sends_each_red_flag_to_911_or_the_clinic() -> None:
    # Given docs/triage.md
    # When its tables are read
    page = triage()

    # Then every row has English and French words and a destination of 911 or clinic
    assert len(page.symptoms) >= 10
    for symptom in page.symptoms:
        assert symptom.words["en"] and symptom.words["fr"], symptom.name
        assert symptom.where in {"911", "clinic"}, symptom.name

    # And each red flag goes where clinical review decided
    def where(word: str) -> str:
        rows = [symptom for symptom in page.symptoms if word in symptom.name]
        assert len(rows) == 1, word
        return rows[0].where

    assert {word: where(word) for word in TRIAGE_DECIDED} == TRIAGE_DECIDED
    # And there are words for both destinations, and required phrases for 911, clinic, closed
    assert set(page.destinations) == {"911", "clinic"}
    assert set(page.required) == {"911", "clinic", "closed"}
    assert page.never


# --- same symptom, same destination ---------------------------------------------------------


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize(("folder", "part", "locale"), PATIENT_PARTS)
def test_it_sends_every_symptom_a_template_names_where_the_triage_table_says(
    folder: str, part: str, locale: str, closed: bool, flagged: bool
) -> None:
    # Given a patient template rendered with sample data
    text = rendered(folder, part, locale, closed=closed, flagged=flagged)

    # When the symptoms it names are read with the destination each sentence gives
    found = findings(text, part, locale)

    # Then each symptom goes to its triage destination, and only there
    wrong = [
        f"{f.symptom.name!r} -> {sorted(f.sends_to) or 'nowhere'} (table: {f.symptom.where}): "
        f"{f.sentence!r}"
        for f in found
        if f.sends_to != {f.symptom.where}
    ]
    assert wrong == []


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize(("folder", "part", "locale"), PATIENT_PARTS)
def test_it_carries_the_required_phrases_of_each_destination_it_sends_to(
    folder: str, part: str, locale: str, closed: bool, flagged: bool
) -> None:
    # Given a patient template that sends symptoms to 911 or to the clinic
    text = rendered(folder, part, locale, closed=closed, flagged=flagged)
    sent_to = {where for f in findings(text, part, locale) for where in f.sends_to}

    # Then it says what the triage page requires for those destinations
    # (911: the 911 line with trouble breathing and chest pain; clinic: the clinic's phone)
    missing = [
        (where, phrase)
        for where in sorted(sent_to)
        for phrase in triage().required[where][locale]
        if not _has(text, phrase)
    ]
    assert missing == []


@pytest.mark.parametrize("part", ["email_text", "email_html"])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", ["after-session", "next-morning"])
def test_it_names_every_symptom_of_the_triage_table_in_the_red_flag_emails(
    folder: str, locale: str, part: str
) -> None:
    # Given an email that carries the full "when to get help" list
    text = rendered(folder, part, locale)

    # When the symptoms it names are read
    named = {f.symptom.name for f in findings(text, part, locale)}

    # Then every row of the triage table is there
    assert sorted(s.name for s in triage().symptoms if s.name not in named) == []


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize(("folder", "part"), sorted({(f, p) for f, p, _ in PATIENT_PARTS}))
def test_it_says_the_same_about_symptoms_in_english_and_french(
    folder: str, part: str, closed: bool, flagged: bool
) -> None:
    # Given the English and the French version of a template part
    english = rendered(folder, part, "en", closed=closed, flagged=flagged)
    french = rendered(folder, part, "fr", closed=closed, flagged=flagged)

    # When their symptoms and destinations are read
    # Then both name the same symptoms and send them to the same places
    assert routes(english, part, "en") == routes(french, part, "fr")


def _triage_sentences(text: str, part: str, locale: str) -> set[str]:
    """The sentences that name a symptom, 911 or Health Link 811."""
    words = [
        *(phrase for symptom in triage().symptoms for phrase in symptom.words[locale]),
        *triage().destinations["911"][locale],
        *triage().required["closed"][locale],
    ]
    return {
        sentence
        for sentence, _ in units(text, part, locale)
        if any(_has(sentence, phrase) for phrase in words)
    }


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_says_the_same_in_the_html_email_as_in_the_text_email(
    folder: str, locale: str, closed: bool, flagged: bool
) -> None:
    # Given both bodies of an email
    text = rendered(folder, "email_text", locale, closed=closed, flagged=flagged)
    html = rendered(folder, "email_html", locale, closed=closed, flagged=flagged)

    # When the sentences about symptoms, 911 and 811 are read from each
    # Then they are word for word the same, and send the same symptoms to the same places
    assert _triage_sentences(html, "email_html", locale) == _triage_sentences(
        text, "email_text", locale
    )
    assert routes(html, "email_html", locale) == routes(text, "email_text", locale)


# --- 911 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("plan", "key"), first_sms_keys())
def test_it_gives_the_911_line_in_the_first_text_of_every_plan(
    plan: str, key: str, locale: str
) -> None:
    # Given the first text a plan sends (a pneumothorax can start 30 minutes after needling)
    text = rendered(key, "sms", locale)

    # Then it carries the 911 line, and still ends with the opt-out line
    assert "911" in text, plan
    for phrase in triage().required["911"][locale]:
        assert _has(text, phrase), (plan, phrase)
    assert text.endswith(OPT_OUT_LINES[locale]), plan


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", SMS_WITH_911_LINE)
def test_it_gives_the_911_line_in_the_texts_of_the_first_days_and_in_answers(
    folder: str, locale: str, closed: bool, flagged: bool
) -> None:
    # Given a text sent on the day of the session, the next morning, day 3, or as an answer
    text = rendered(folder, "sms", locale, closed=closed, flagged=flagged)

    # Then it says: trouble breathing or chest pain, call 911
    missing = [p for p in triage().required["911"][locale] if not _has(text, p)]
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_it_never_claims_the_clinic_was_alerted_in_the_emergency_answer(locale: str) -> None:
    # Given the answer sent at once to a reply with emergency words (no alert may have gone)
    text = rendered("reply-emergency", "sms", locale)

    # Then it claims no alert, sends the patient to 911 or emergency now, and gives the
    # clinic's phone
    assert ALERT_CLAIM.findall(text) == []
    assert "911" in text
    assert _has(text, {"en": "emergency", "fr": "urgence"}[locale])
    assert PHONE in text


@pytest.mark.parametrize("locale", LOCALES)
def test_it_says_the_team_was_told_only_in_the_answer_sent_after_the_alert(locale: str) -> None:
    # Given every patient template
    # When the ones that claim the clinic's team was told are listed
    claiming = sorted(
        {
            folder
            for folder, part, part_locale in PATIENT_PARTS
            if part_locale == locale
            and part == "sms"
            and folder.startswith("reply-")
            and ALERT_CLAIM.search(rendered(folder, part, locale))
        }
    )

    # Then only reply-alerted does, and it also gives the 911 line
    assert claiming == ["reply-alerted"]
    text = rendered("reply-alerted", "sms", locale)
    assert all(_has(text, p) for p in triage().required["911"][locale])


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize(("folder", "part", "locale"), PATIENT_PARTS)
def test_it_never_says_what_contradicts_the_triage_page(
    folder: str, part: str, locale: str, closed: bool, flagged: bool
) -> None:
    # Given a patient template
    text = rendered(folder, part, locale, closed=closed, flagged=flagged)

    # Then it says none of the "never say" phrases (only reply-alerted may say the team was told)
    said = [
        phrase
        for why, phrases in triage().never
        if not (folder == "reply-alerted" and "reply-alerted" in why)
        for phrase in phrases[locale]
        if _has(text, phrase)
    ]
    assert said == []


# --- 811 and the clinic's hours -------------------------------------------------------------


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize("part", EMAIL_BODIES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_names_health_link_811_for_when_the_clinic_is_closed_in_every_email(
    folder: str, locale: str, part: str, closed: bool, flagged: bool
) -> None:
    # Given a patient email, sent while the clinic is open or closed
    text = rendered(folder, part, locale, closed=closed, flagged=flagged)

    # Then it names Health Link 811 for non-urgent questions when the clinic is closed
    assert [p for p in triage().required["closed"][locale] if not _has(text, p)] == []


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", SMS_NAMING_811_WHEN_CLOSED)
def test_it_names_health_link_811_in_texts_only_while_the_clinic_is_closed(
    folder: str, locale: str
) -> None:
    # Given a text that may go out on a weekend (next morning, day 3, day 7, an acknowledgement)
    # When it is rendered while the clinic is closed, and while it is open
    closed = rendered(folder, "sms", locale, closed=True)
    open_ = rendered(folder, "sms", locale, closed=False)

    # Then only the closed one names Health Link 811
    assert [p for p in triage().required["closed"][locale] if not _has(closed, p)] == []
    assert "811" not in open_


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize("part", EMAIL_BODIES)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_tells_the_truth_about_replies_in_every_email(
    folder: str, locale: str, part: str, closed: bool, flagged: bool
) -> None:
    # Given a patient email
    text = rendered(folder, part, locale, closed=closed, flagged=flagged)

    # Then it says when the clinic reads replies, that emergency words get an automatic
    # answer, and not to wait for an answer in an emergency
    assert HOURS[locale] in text
    assert _has(text, {"en": "automatic answer", "fr": "réponse automatique"}[locale])
    assert _has(
        text,
        {
            "en": "in an emergency, do not wait for an answer: call 911",
            "fr": "en cas d'urgence, n'attendez pas de réponse : appelez le 911",
        }[locale],
    )


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_it_says_when_replies_are_read_in_the_acknowledgement(
    locale: str, closed: bool, flagged: bool
) -> None:
    # Given the acknowledgement of a reply that is not an emergency, keyword or score
    text = rendered("reply-ack", "sms", locale, closed=closed, flagged=flagged)

    # Then it thanks the patient and says when the clinic reads replies
    assert _has(text, {"en": "thanks", "fr": "merci"}[locale])
    assert HOURS[locale] in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", ["reply-ack", "reply-thanks"])
def test_it_mentions_the_therapist_only_when_the_reply_was_flagged(
    folder: str, locale: str
) -> None:
    # Given an answer to a reply, flagged for the therapist or not
    flagged = rendered(folder, "sms", locale, flagged=True)
    not_flagged = rendered(folder, "sms", locale, flagged=False)

    # Then only the flagged one says the therapist will look at it
    assert _has(flagged, THERAPIST[locale])
    assert not _has(not_flagged, THERAPIST[locale])


# --- day 3 agrees with "soreness can last up to 3 days" -------------------------------------


@pytest.mark.parametrize("part", ["sms", "email_text", "email_html"])
def test_it_says_the_same_on_day_3_in_english_and_french(part: str) -> None:
    # Given the day-3 check-in in both languages
    english = rendered("day-3", part, "en")
    french = rendered("day-3", part, "fr")

    # Then both say soreness can last up to 3 days, and send worse or lasting soreness to
    # the clinic
    assert _has(english, "can last up to 3 days")
    assert _has(french, "peuvent durer jusqu'à 3 jours")
    soreness = next(s for s in triage().symptoms if s.name.startswith("soreness"))
    for text, locale in ((english, "en"), (french, "fr")):
        assert THREE_DAYS[locale] in text
        assert (soreness.name, frozenset({"clinic"})) in routes(text, part, locale)


# --- length and encoding --------------------------------------------------------------------


@pytest.mark.parametrize(("closed", "flagged"), VARIANTS)
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_FOLDERS)
def test_it_keeps_every_text_in_gsm7_and_within_its_segments(
    folder: str, locale: str, closed: bool, flagged: bool
) -> None:
    # Given a patient text with a 10-character first name and the sample clinic name
    text = rendered(folder, "sms", locale, closed=closed, flagged=flagged)

    # When it is costed
    cost = sms_cost(text)

    # Then it is GSM-7 (no UCS-2 surprise), at most 2 segments, and within its own limit
    assert cost.encoding == "GSM-7"
    assert cost.segments <= SMS_SEGMENTS.get(folder, 2)
    if folder in ANSWERS_160:
        assert len(text) <= 160


def test_it_checks_the_length_of_every_text_it_knows() -> None:
    # Given the texts with a limit of their own
    # Then each names a template folder that exists (a renamed folder is not silently unchecked)
    assert set(SMS_SEGMENTS) | set(ANSWERS_160) | set(SMS_WITH_911_LINE) <= set(PATIENT_FOLDERS)
    assert set(SMS_NAMING_811_WHEN_CLOSED) <= set(PATIENT_FOLDERS)
