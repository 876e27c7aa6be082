"""The default plan and message templates that `reminders init` loads, rendered with sample data.

The rules come from docs/clinical-content.md and docs/DESIGN.md: short SMS, an opt-out line on
the first SMS, an unsubscribe link and the clinic's contact in every email, red flags in the
next-morning message, and no body-area details in texts (Alberta privacy advisory). What each
symptom's message says, and where it sends the patient, is checked against docs/triage.md in
tests/unit/test_triage.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from reminders.content.rendering import SAMPLE_VARIABLES, render, sms_cost
from reminders.planning.plans import parse_plan

ROOT = Path(__file__).resolve().parents[2] / "templates"
MESSAGES = ROOT / "messages"
PLAN_FILE = ROOT / "plans" / "dry-needling.toml"

PARTS = ("sms", "email_subject", "email_text", "email_html")
LOCALES = ("en", "fr")
STAFF_ONLY = {"clinic-alert"}  # goes to the clinic, in English only
FOLDERS = sorted(path.name for path in MESSAGES.iterdir() if path.is_dir())
PATIENT_FOLDERS = [name for name in FOLDERS if name not in STAFF_ONLY]
# Most GSM-7 segments an aftercare text may take with the sample data (the first text, the
# check-ins and the acknowledgement carry the 911 line and, when the clinic is closed, 811)
AFTERCARE_SEGMENTS = {"after-session": 2, "same-evening": 1, "day-3": 2, "day-7": 2}
TWO_SEGMENT_REPLIES = ("reply-ack",)  # not a keyword answer: thanks, hours, 911, 811
CHECKIN_EMAILS = ("next-morning", "day-3", "day-7")
REPLIES = [
    name for name in FOLDERS if name.startswith("reply-") and name not in TWO_SEGMENT_REPLIES
]
PATIENT_EMAILS = [
    name for name in PATIENT_FOLDERS if (MESSAGES / name / "email_text.en.j2").exists()
]

# Where a patient was needled, or what for: never in a text message. Symptoms the patient must
# act on ("chest pain") are red flags, not body-area details of the treatment, and are allowed.
BODY_AREA_WORDS = {
    "en": [
        "neck", "shoulder", "shoulders", "back", "upper back", "lower back", "spine", "hip",
        "knee", "glute", "calf", "hamstring", "arm", "leg", "elbow", "wrist", "ankle", "jaw",
        "needle", "needles", "needle site", "needling", "dry needling", "IMS", "trigger point",
        "pneumothorax", "lung",
    ],
    "fr": [
        "cou", "nuque", "épaule", "épaules", "dos", "colonne", "hanche", "genou", "fessier",
        "mollet", "bras", "jambe", "coude", "poignet", "cheville", "mâchoire", "aiguille",
        "aiguilles", "puncture", "IMS", "point gâchette", "pneumothorax", "poumon",
    ],
}  # fmt: skip


def source(folder: str, part: str, locale: str) -> Path:
    return MESSAGES / folder / f"{part}.{locale}.j2"


def rendered(folder: str, part: str, locale: str) -> str:
    text = source(folder, part, locale).read_text(encoding="utf-8")
    return render(text, dict(SAMPLE_VARIABLES), html=part == "email_html")


def existing_parts() -> list[tuple[str, str, str]]:
    return [
        (folder, part, locale)
        for folder in FOLDERS
        for locale in LOCALES
        for part in PARTS
        if source(folder, part, locale).exists()
    ]


def load_plan():
    with PLAN_FILE.open("rb") as plan_file:
        return parse_plan(tomllib.load(plan_file))


# --- every template renders ---------------------------------------------------------------


def test_it_ships_the_message_folders_the_plan_and_keyword_replies_need() -> None:
    assert set(FOLDERS) >= {
        "after-session",
        "same-evening",
        "next-morning",
        "day-3",
        "day-7",
        "reply-stop",
        "reply-start",
        "reply-help",
        "reply-emergency",
        "reply-alerted",
        "reply-ack",
        "reply-confirm-stop",
        "reply-thanks",
        "clinic-alert",
    }


@pytest.mark.parametrize(("folder", "part", "locale"), existing_parts())
def test_it_renders_every_default_template_with_the_sample_variables(
    folder: str, part: str, locale: str
) -> None:
    text = rendered(folder, part, locale)
    assert text.strip()
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("folder", PATIENT_FOLDERS)
def test_it_has_every_patient_message_in_english_and_french_with_the_same_parts(
    folder: str,
) -> None:
    english = {part for part in PARTS if source(folder, part, "en").exists()}
    french = {part for part in PARTS if source(folder, part, "fr").exists()}
    assert english
    assert english == french


@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_has_every_email_part_when_a_message_has_an_email(folder: str) -> None:
    for locale in LOCALES:
        for part in ("email_subject", "email_text", "email_html"):
            assert source(folder, part, locale).exists(), f"{folder}/{part}.{locale}.j2"


def test_it_has_the_staff_alert_in_english() -> None:
    for part in PARTS:
        assert rendered("clinic-alert", part, "en")


# --- SMS length ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", sorted(AFTERCARE_SEGMENTS))
def test_it_keeps_each_aftercare_text_to_its_gsm7_segments(folder: str, locale: str) -> None:
    cost = sms_cost(rendered(folder, "sms", locale))
    assert cost.encoding == "GSM-7"
    assert cost.segments <= AFTERCARE_SEGMENTS[folder]


@pytest.mark.parametrize("locale", LOCALES)
def test_it_keeps_the_next_morning_text_to_two_gsm7_segments(locale: str) -> None:
    cost = sms_cost(rendered("next-morning", "sms", locale))
    assert cost.encoding == "GSM-7"
    assert cost.segments <= 2


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", REPLIES)
def test_it_keeps_keyword_replies_to_160_characters(folder: str, locale: str) -> None:
    text = rendered(folder, "sms", locale)
    assert len(text) <= 160
    assert sms_cost(text).segments == 1


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", TWO_SEGMENT_REPLIES)
def test_it_keeps_the_reply_acknowledgement_to_two_gsm7_segments(folder: str, locale: str) -> None:
    cost = sms_cost(rendered(folder, "sms", locale))
    assert cost.encoding == "GSM-7"
    assert cost.segments <= 2


# --- what the texts must and must not say -------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "opt_out_line"),
    [("en", "Reply STOP to opt out."), ("fr", "Répondez ARRET pour vous désabonner.")],
)
def test_it_ends_the_first_text_with_the_opt_out_line(locale: str, opt_out_line: str) -> None:
    text = rendered("after-session", "sms", locale)
    assert text.endswith(opt_out_line)


@pytest.mark.parametrize(("locale", "keyword"), [("en", "STOP"), ("fr", "ARRET")])
def test_it_tells_how_to_stop_in_the_help_reply(locale: str, keyword: str) -> None:
    text = rendered("reply-help", "sms", locale)
    assert keyword in text
    assert SAMPLE_VARIABLES["clinic_name"] in text
    assert SAMPLE_VARIABLES["clinic_phone"] in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_FOLDERS)
def test_it_starts_every_patient_text_with_the_clinic_name(folder: str, locale: str) -> None:
    assert rendered(folder, "sms", locale).startswith(f"{SAMPLE_VARIABLES['clinic_name']}:")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_FOLDERS)
def test_it_keeps_body_areas_and_diagnoses_out_of_texts(folder: str, locale: str) -> None:
    text = rendered(folder, "sms", locale)
    found = [
        word
        for word in BODY_AREA_WORDS[locale]
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ["911", "breathing", "chest"]),
        ("fr", ["911", "respirer", "poitrine"]),
    ],
)
@pytest.mark.parametrize("part", ["sms", "email_text", "email_html"])
def test_it_names_the_breathing_and_chest_red_flags_next_morning(
    part: str, locale: str, words: list[str]
) -> None:
    text = rendered("next-morning", part, locale)
    for word in words:
        assert word in text, word


# --- what the emails must say -------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("part", ["email_text", "email_html"])
@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_puts_the_unsubscribe_link_and_clinic_contact_in_every_email(
    folder: str, part: str, locale: str
) -> None:
    text = rendered(folder, part, locale)
    assert SAMPLE_VARIABLES["unsubscribe_url"] in text
    assert SAMPLE_VARIABLES["clinic_phone"] in text
    assert SAMPLE_VARIABLES["clinic_name"] in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_links_unsubscribe_as_an_anchor_in_html_emails(folder: str, locale: str) -> None:
    html = rendered(folder, "email_html", locale)
    assert f'href="{SAMPLE_VARIABLES["unsubscribe_url"]}"' in html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", CHECKIN_EMAILS)
def test_it_offers_all_eleven_pain_scores_as_links_in_check_in_emails(
    folder: str, locale: str
) -> None:
    html = rendered(folder, "email_html", locale)
    links = re.findall(r'href="(https://clinic\.example/c/sample-token\?score=\d+)"', html)
    assert links == SAMPLE_VARIABLES["checkin_urls"]
    assert len(links) == 11


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", CHECKIN_EMAILS)
def test_it_gives_the_check_in_page_link_in_plain_text_emails(folder: str, locale: str) -> None:
    assert SAMPLE_VARIABLES["checkin_url"] in rendered(folder, "email_text", locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("folder", PATIENT_EMAILS)
def test_it_declares_the_html_language(folder: str, locale: str) -> None:
    assert f'<html lang="{locale}">' in rendered(folder, "email_html", locale)


# --- the default plan ---------------------------------------------------------------------


def test_it_parses_the_default_plan() -> None:
    plan = load_plan()
    assert plan.key == "dry-needling"
    assert [step.key for step in plan.steps] == [
        "after-session",
        "same-evening",
        "next-morning",
        "day-3",
        "day-7",
    ]
    assert [step.checkin for step in plan.steps] == [False, False, True, True, True]


def test_it_has_a_message_folder_for_every_plan_step_and_channel() -> None:
    for step in load_plan().steps:
        assert (MESSAGES / step.message_key).is_dir(), step.message_key
        for locale in LOCALES:
            if "sms" in step.channels:
                assert source(step.message_key, "sms", locale).exists()
            if "email" in step.channels:
                for part in ("email_subject", "email_text", "email_html"):
                    assert source(step.message_key, part, locale).exists()
