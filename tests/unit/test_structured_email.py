"""An email written once as structured text: the text and HTML parts made from it, how it is
checked (problems said of the email itself), and the words an edit changes."""

from __future__ import annotations

from reminders.content import template_editing as editing
from reminders.content.rendering import SAMPLE_VARIABLES, render
from reminders.content.structured_email import email_parts
from reminders.content.word_diff import Change, message_changes, word_diff

CHECKIN = SAMPLE_VARIABLES["checkin_url"]
UNSUBSCRIBE = SAMPLE_VARIABLES["unsubscribe_url"]
BODY = """Hi {{ first_name }},

Some soreness is **normal** for 1 to 3 days.
Please:

- drink water
- move gently

1. rest
2. call us

[Tell us how you feel]({{ checkin_url }})

Unsubscribe: {{ unsubscribe_url }}"""


def made(body: str, subject: str = "Your visit", locale: str = "en") -> tuple[str, str]:
    text, html = email_parts(body, subject=subject, locale=locale)
    return render(text, SAMPLE_VARIABLES), render(html, SAMPLE_VARIABLES, html=True)


def test_it_makes_a_plain_text_part_from_paragraphs_lists_and_links() -> None:
    text, _ = made(BODY)

    assert text == (
        "Hi Alexandra,\n\nSome soreness is normal for 1 to 3 days.\nPlease:\n\n"
        "- drink water\n- move gently\n\n1. rest\n2. call us\n\n"
        f"Tell us how you feel ({CHECKIN})\n\nUnsubscribe: {UNSUBSCRIBE}"
    )


def test_it_makes_an_html_part_in_the_email_layout_with_styles_inline() -> None:
    _, html = made(BODY, subject="Your visit & you, {{ first_name }}", locale="fr")

    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert "<title>Your visit &amp; you,</title>" in html
    assert ">Bow River Physiotherapy</p>" in html  # who it is from, at the top
    assert '<p style="margin:0 0 12px 0;">Hi Alexandra,</p>' in html
    assert "<strong>normal</strong> for 1 to 3 days.<br>\nPlease:</p>" in html
    assert '<li style="margin:0 0 4px 0;">drink water</li>' in html
    assert html.count("<ol ") == 1 and html.count("<li ") == 4
    assert f'<a href="{CHECKIN}" style="color:#0b5cad;' in html
    assert (
        f'<a href="{UNSUBSCRIBE}" style="color:#0b5cad;text-decoration:underline;">{UNSUBSCRIBE}</a>'
        in html
    )


def test_it_shows_html_typed_into_the_text_as_text_and_makes_no_script_links() -> None:
    _, html = made("<script>alert(1)</script> [click](javascript:alert(1)) {{ first_name }}")

    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html and "[click](javascript:alert(1)) Alexandra" in html


def test_it_escapes_what_a_patient_detail_holds_in_the_html_part() -> None:
    text, html = email_parts("Hi {{ first_name }}", subject="", locale="en")
    variables = {**SAMPLE_VARIABLES, "first_name": "<b>Zoé</b>"}

    assert "Hi &lt;b&gt;Zoé&lt;/b&gt;" in render(html, variables, html=True)
    assert render(text, variables) == "Hi <b>Zoé</b>"


def test_it_adds_no_empty_lines_or_paragraphs_for_if_blocks() -> None:
    body = "Hi,\n{% if clinic_closed %}\nWe are closed: call 811.\n{% endif %}\nBye.\n\n{% if flagged %}\n\nFlagged.\n\n{% endif %}\n\nEnd."
    for closed in (True, False):
        variables = {**SAMPLE_VARIABLES, "clinic_closed": closed, "flagged": closed}
        text, html = email_parts(body, subject="", locale="en")
        shown_text, shown_html = render(text, variables), render(html, variables, html=True)
        if closed:
            assert shown_text == "Hi,\nWe are closed: call 811.\nBye.\n\nFlagged.\n\nEnd."
            assert "Hi,<br>\nWe are closed: call 811.<br>\nBye.</p>" in shown_html
        else:
            assert shown_text == "Hi,\nBye.\n\nEnd."
            assert "Hi,<br>\nBye.</p>" in shown_html
        assert "<p></p>" not in shown_html.replace(' style="margin:0 0 12px 0;"', "")


def test_it_saves_the_parts_made_from_the_structured_email() -> None:
    parts = {"sms": "", "email_subject": "Hello", "email_body": BODY, "email_html": "ignored"}

    checked = editing.validate(parts, key="day-7", locale="en")

    assert checked.problems == []
    text, html = email_parts(BODY, subject="Hello", locale="en")
    assert checked.sources == {**parts, "email_text": text, "email_html": html}


def test_it_says_problems_of_the_structured_email_once_and_next_to_it() -> None:
    def problems(body: str) -> dict[str, list[str]]:
        parts = {"email_subject": "Hello", "email_body": body}
        return editing.validate(parts, key="day-7", locale="en").fields

    assert problems("Hi,\n\n{{ unsubscribe_url }}\n\n{% if %}") == {
        "email_body": [
            "The email has a syntax error on line 5: Expected an expression, got 'end of statement block'"
        ]
    }
    unknown = problems("Hi {{ firstname }}, {{ unsubscribe_url }}")
    assert list(unknown) == ["email_body"] and len(unknown["email_body"]) == 1
    assert "The email uses {{ firstname }}, which is not a variable" in unknown["email_body"][0]
    assert problems("Hi {{ first_name }}") == {
        "email_body": ["The email must include the unsubscribe link {{ unsubscribe_url }}."]
    }
    huge = problems("{{ unsubscribe_url }} " + "word " * 30_000)
    assert huge == {"email_body": ["The email is 150,022 bytes; the most is 102,400 (100 KB)."]}


def test_it_says_which_words_an_edit_adds_and_removes() -> None:
    changes = word_diff(
        "Hi {{ first_name }}, soreness is normal.", "Hi {{ first_name }}, some soreness is common."
    )

    assert changes == [
        Change("same", "Hi {{ first_name }}, "),
        Change("added", "some "),
        Change("same", "soreness is "),
        Change("removed", "normal."),
        Change("added", "common."),
    ]


def test_it_compares_each_part_with_the_published_version_in_words() -> None:
    published = {"sms": "Reply 0 to 10.", "email_subject": "Hi", "email_text": "Old words here."}
    edited = {
        "sms": "Reply 0 to 10 please.",
        "email_subject": "Hi",
        "email_body": "New words here.",
    }

    found = {p.part: (p.added, p.removed) for p in message_changes(published, edited)}

    assert found == {"sms": (2, 1), "email_subject": (0, 0), "email": (1, 1)}
    nothing_yet = message_changes(None, {"sms": "One two"})
    assert [(p.part, p.added) for p in nothing_yet] == [
        ("sms", 2),
        ("email_subject", 0),
        ("email", 0),
    ]
