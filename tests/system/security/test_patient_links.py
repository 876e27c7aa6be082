"""The patient's pages behind email links, through the real web app: check-in answers that
only a button press records (and that can be changed for a day), unsubscribe by RFC 8058
one-click, the `List-Unsubscribe` header as the mail server receives it, and pages in the
patient's language that a phone can use."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from browser import browser_page
from sqlalchemy import select, update
from stack import Deployment

from reminders.models import ClinicSettings, Flag, Message, OptOut, Reply

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
NEXT_MORNING = datetime(2026, 11, 25, 10, 1, tzinfo=EDMONTON)
PUBLIC = "https://clinic.example"
EMAIL = "alexandra@example.com"


def checkin_email(stack: Deployment, language: str = "en") -> tuple[Message, list[str]]:
    """An email patient's next-morning check-in, sent; with its links, as the web app's URLs:
    the check-in page first, then one per score 0-10."""
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(email=EMAIL, channel="email", language=language, session_end=SESSION_END)
    stack.set_clock(NEXT_MORNING)
    message = stack.wait_until(
        lambda: [m for m in stack.messages(step_key="next-morning") if m.status == "sent"],
        what="the check-in email sent",
    )[0]
    html = stack.smtp.wait_for(1, timeout=30)[-1].get_body(("html",)).get_content()
    links = [
        href.replace("&amp;", "&").replace(PUBLIC, stack.web_url())
        for href in re.findall(r'href="([^"]+)"', html)
        if "/checkin/" in href
    ]
    page = next(link for link in links if "?" not in link)
    scores = [next(link for link in links if link.endswith(f"?score={n}")) for n in range(11)]
    return message, [page, *scores]


def answer(link: str, score: int, **headers: str) -> httpx.Response:
    return httpx.post(link.split("?")[0], data={"score": str(score)}, headers=headers, timeout=10)


def replies(stack: Deployment) -> list[tuple[str, int | None, int | None]]:
    with stack.session() as session:
        rows = session.scalars(select(Reply).order_by(Reply.id))
        return [(r.channel, r.score, r.checkin_message_id) for r in rows]


def open_flags(stack: Deployment) -> list[str]:
    with stack.session() as session:
        return list(
            session.scalars(select(Flag.reason).where(Flag.closed_at.is_(None)).order_by(Flag.id))
        )


def visible(html: str) -> str:
    """The page's text, tags dropped and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_private(page: httpx.Response) -> None:
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text


def test_it_records_nothing_when_a_check_in_link_is_opened(stack: Deployment) -> None:
    # Given a check-in email with its page link and its 0-10 links
    _, (page_link, *score_links) = checkin_email(stack)

    # When the page link and the "8" link are opened (by the patient, a scanner, a preview)
    page = httpx.get(page_link, timeout=10)
    confirm = httpx.get(score_links[8], timeout=10)

    # Then nothing is recorded
    assert (page.status_code, confirm.status_code) == (200, 200)
    assert replies(stack) == [] and open_flags(stack) == []

    # And the page asks the question in English, names the clinic, and offers 11 buttons that
    # each post a score
    assert '<html lang="en">' in page.text
    assert "Bow River Physiotherapy" in page.text and "How is your pain today?" in page.text
    assert re.search(r'<form method="post" action="/checkin/[^"]+"', page.text)
    buttons = re.findall(r'<button type="submit" name="score" value="(\d+)"', page.text)
    assert buttons == [str(n) for n in range(11)]
    assert_private(page)

    # And the "8" link's page has 8 chosen and a single Send button that posts it
    assert "You chose 8 out of 10." in visible(confirm.text)
    assert re.findall(r'value="(\d+)" checked', confirm.text) == ["8"]
    assert confirm.text.count("<button") == 1 and ">Send</button>" in confirm.text
    assert '<form method="post"' in confirm.text
    assert_private(confirm)


def test_it_records_the_answer_when_the_patient_sends_it(stack: Deployment) -> None:
    # Given a check-in email
    message, (page_link, *_) = checkin_email(stack)

    # When the patient sends 4 from the check-in page
    sent = answer(page_link, 4)

    # Then 4 is recorded for that check-in, and the page says so
    assert sent.status_code == 200
    assert "You answered 4 out of 10." in visible(sent.text)
    assert replies(stack) == [("email", 4, message.id)]
    assert_private(sent)

    # And opening the link again shows the answer and records nothing more
    again = httpx.get(page_link, timeout=10)
    assert "You answered 4 out of 10." in visible(again.text)
    assert replies(stack) == [("email", 4, message.id)]


def test_it_replaces_the_answer_within_24_hours_and_the_flags_follow(stack: Deployment) -> None:
    # Given a patient who sent 9 (flagged for the therapist)
    message, (page_link, *score_links) = checkin_email(stack)
    assert answer(page_link, 9).status_code == 200
    assert open_flags(stack) == ["score 8 or more"]

    # When, 23 hours later, they open the "3" link and send it
    stack.set_clock(NEXT_MORNING + timedelta(hours=23))
    confirm = httpx.get(score_links[3], timeout=10)
    changed = answer(score_links[3], 3)

    # Then the same reply now says 3, and the flag the 9 raised is closed
    assert "You answered 9 out of 10." in visible(confirm.text)
    assert changed.status_code == 200
    assert "You answered 3 out of 10." in visible(changed.text)
    assert replies(stack) == [("email", 3, message.id)]
    assert open_flags(stack) == []

    # When they change it once more, to 8
    assert answer(page_link, 8).status_code == 200

    # Then the reply says 8 and the flag is open again
    assert replies(stack) == [("email", 8, message.id)]
    assert open_flags(stack) == ["score 8 or more"]


def test_it_refuses_a_change_after_24_hours_with_a_clear_page(stack: Deployment) -> None:
    # Given a patient who sent 4
    message, (page_link, *score_links) = checkin_email(stack)
    assert answer(page_link, 4).status_code == 200

    # When, a day and a minute later, they open a number link and send 7
    stack.set_clock(NEXT_MORNING + timedelta(hours=24, minutes=1))
    opened = httpx.get(score_links[7], timeout=10)
    refused = answer(score_links[7], 7)

    # Then both pages say the answer of 4 stands and can no longer be changed
    for page in (opened, refused):
        text = visible(page.text)
        assert "Your answer can no longer be changed" in text
        assert "You answered 4 out of 10 on Wednesday, November 25 at 10:01" in text
        assert "<button" not in page.text
    assert refused.status_code == 409
    assert replies(stack) == [("email", 4, message.id)]


def test_it_shows_a_french_patient_french_pages(stack: Deployment) -> None:
    # Given a French-speaking patient's check-in email
    message, (page_link, *score_links) = checkin_email(stack, language="fr")

    # When they open it, choose 4 and send it, then open the unsubscribe link
    page = httpx.get(page_link, timeout=10)
    confirm = httpx.get(score_links[4], timeout=10)
    sent = answer(page_link, 4)
    email = stack.smtp.messages[-1]
    unsubscribe_link = email["List-Unsubscribe"].strip("<>").replace(PUBLIC, stack.web_url())
    unsubscribe = httpx.get(unsubscribe_link, timeout=10)

    # Then every page is in French, marked as French
    for each in (page, confirm, sent, unsubscribe):
        assert '<html lang="fr">' in each.text
    assert "Comment va votre douleur aujourd'hui?" in visible(page.text).replace("&#39;", "'")
    assert "Vous avez choisi 4 sur 10." in visible(confirm.text)
    assert ">Envoyer</button>" in confirm.text
    assert "Vous avez répondu 4 sur 10." in visible(sent.text)
    assert "jusqu'au jeudi 26 novembre à 10 h 01" in visible(sent.text).replace("&#39;", "'")
    assert "Me désabonner" in unsubscribe.text
    assert replies(stack) == [("email", 4, message.id)]


def test_it_escapes_what_it_shows(stack: Deployment) -> None:
    # Given a clinic whose name looks like markup
    with stack.session() as session:
        session.execute(update(ClinicSettings).values(name='Bow <b>"River"</b> & Co'))
    _, (page_link, *_) = checkin_email(stack)

    # When the check-in page is opened
    page = httpx.get(page_link, timeout=10)

    # Then the name is shown as text, never as markup
    assert "Bow &lt;b&gt;&#34;River&#34;&lt;/b&gt; &amp; Co" in page.text
    assert "<b>" not in page.text


def test_it_refuses_a_check_in_answer_posted_from_another_site(stack: Deployment) -> None:
    # Given a check-in email
    message, (page_link, *_) = checkin_email(stack)

    # When another site's page posts an answer with the patient's link, as browsers mark it
    from_origin = answer(page_link, 9, Origin="https://evil.example")
    from_fetch = answer(page_link, 9, **{"Sec-Fetch-Site": "cross-site"})

    # Then nothing is recorded
    assert (from_origin.status_code, from_fetch.status_code) == (403, 403)
    assert "Your answer was not sent" in from_origin.text
    assert replies(stack) == []

    # When our own page posts it (a no-referrer page sends "Origin: null")
    ours = answer(page_link, 2, Origin="null", **{"Sec-Fetch-Site": "same-origin"})

    # Then it is recorded
    assert ours.status_code == 200
    assert replies(stack) == [("email", 2, message.id)]


def after_session_email(stack: Deployment) -> tuple[str, str]:
    """The first email's raw `List-Unsubscribe` header as the mail server got it, and the
    link as the web app's URL."""
    stack.set_clock(SESSION_END + timedelta(minutes=31))
    stack.enroll(email=EMAIL, channel="email", session_end=SESSION_END)
    email = stack.smtp.wait_for(1, timeout=30)[0]
    raw = dict(email.raw_items())
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = raw["List-Unsubscribe"]
    return header, header.strip("<>").replace(PUBLIC, stack.web_url())


def test_it_sends_list_unsubscribe_exactly_as_rfc_2369_and_8058_want(stack: Deployment) -> None:
    # Given an email patient
    # When the first email reaches the mail server
    header, _ = after_session_email(stack)

    # Then the raw header is one angle-bracketed https URI: no encoded-word, no folding
    assert re.fullmatch(r"<https://clinic\.example/unsubscribe/[A-Za-z0-9_.-]+>", header), header
    email = stack.smtp.messages[0]
    assert header.strip("<>") in email.get_body(("plain",)).get_content()


def test_it_unsubscribes_on_a_one_click_post_and_not_on_a_get(stack: Deployment) -> None:
    # Given an email patient who got the first email
    _, link = after_session_email(stack)

    # When the unsubscribe link is opened (by the patient, a scanner, a preview)
    page = httpx.get(link, timeout=10)

    # Then a page with a button is shown, and nothing changes
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert ">Unsubscribe</button>" in page.text and '<html lang="en">' in page.text
    assert_private(page)
    with stack.session() as session:
        assert session.scalars(select(OptOut)).all() == []
    assert "cancelled" not in {m.status for m in stack.messages()}

    # When the mail client sends the RFC 8058 one-click POST, with no other context
    done = httpx.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)

    # Then the patient is unsubscribed at once, with no page to confirm, and later emails
    # are cancelled
    assert done.status_code == 200 and "no more aftercare emails" in done.text
    assert "<button" not in done.text
    with stack.session() as session:
        assert session.scalars(select(OptOut.source)).all() == ["email-link"]
    later = {m.status for m in stack.messages() if m.step_key != "after-session"}
    assert later == {"cancelled"}


def test_it_gives_a_phone_big_buttons_and_sends_what_is_tapped(stack: Deployment) -> None:
    # Given a check-in email, opened on a phone 390 px wide
    message, (page_link, *score_links) = checkin_email(stack)
    with browser_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(page_link)

        # Then the 11 buttons are full width and at least 44 px tall, with no sideways scroll
        buttons = page.locator("form.scale button")
        assert buttons.count() == 11
        form = page.locator("form.scale").bounding_box()
        assert form is not None
        for n in range(11):
            box = buttons.nth(n).bounding_box()
            assert box is not None and box["height"] >= 44 and box["width"] >= form["width"] - 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        # When the patient taps 4
        buttons.nth(4).click()

        # Then the answer is recorded and confirmed
        page.get_by_text("You answered 4 out of 10.").wait_for()
        assert replies(stack) == [("email", 4, message.id)]

        # When they open the email's "6" link and tap Send
        page.goto(score_links[6])
        assert page.locator('input[name="score"][value="6"]').is_checked()
        page.get_by_role("button", name="Send").click()

        # Then the answer is changed to 6
        page.get_by_text("You answered 6 out of 10.").wait_for()
    assert replies(stack) == [("email", 6, message.id)]
