"""The dashboard's outcomes panel: median pain at day 1, 3 and 7 after the session, and the
share of patients improving by 2 points or more by day 7."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from factories import new_user
from in_process import signed_in_client
from stack import Deployment

from reminders.models import Enrollment, Reply
from reminders.reports.outcomes import CheckInScore, bucket_of, outcomes

EDMONTON = ZoneInfo("America/Edmonton")
SESSION_END = datetime(2026, 11, 24, 14, 0, tzinfo=EDMONTON)
NOW = SESSION_END + timedelta(days=10, hours=12)


def page_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def add_scores(stack: Deployment, enrollment_id: int, *scores: tuple[float, int | None]) -> None:
    """Replies (days after the enrollment's session, score): a None score is a "worse"."""
    with stack.session() as session:
        enrollment = session.get_one(Enrollment, enrollment_id)
        for days, score in scores:
            session.add(
                Reply(
                    patient_id=enrollment.patient_id,
                    channel="sms",
                    received_at=enrollment.session_end + timedelta(days=days),
                    text="worse" if score is None else str(score),
                    kind="worse" if score is None else "score",
                    score=score,
                )
            )


def dashboard(stack: Deployment, role: str = "therapist") -> str:
    _, email = new_user(stack, role)
    with signed_in_client(stack, email) as client:
        found = client.get("/")
    assert found.status_code == 200
    return page_text(found.text)


# The pure computation -------------------------------------------------------------------


def score(
    patient: int, days: float, value: int, session_end: datetime = SESSION_END
) -> CheckInScore:
    return CheckInScore(patient, session_end, session_end + timedelta(days=days), value)


def test_it_puts_each_score_in_the_day_its_answer_arrived() -> None:
    assert bucket_of(0) == bucket_of(1.99) == "day 1"
    assert bucket_of(2) == bucket_of(4.99) == "day 3"
    assert bucket_of(5) == bucket_of(9.99) == "day 7"
    assert bucket_of(10) is None and bucket_of(-0.1) is None


def test_it_takes_each_patients_latest_score_in_a_bucket_and_medians_over_patients() -> None:
    # Given patient 1 answering 7 then 6 on day 1, and patients 2 and 3 once each
    found = outcomes([score(1, 0.5, 7), score(1, 1.5, 6), score(2, 1, 8), score(3, 1, 3)])

    # Then day 1's median is over three patients, with patient 1's later 6; the other days
    # have none
    day_1, day_3, day_7 = found.medians
    assert (day_1.median, day_1.patients) == (6, 3)
    assert (day_3.median, day_3.patients, day_7.median, day_7.patients) == (None, 0, None, 0)
    assert found.improved_share is None


def test_an_even_count_has_the_middle_twos_mean() -> None:
    found = outcomes([score(1, 3, 5), score(2, 3, 6)])
    assert found.medians[1].median == 5.5


def test_it_counts_an_improvement_of_two_points_from_the_first_score_to_day_7() -> None:
    found = outcomes(
        [
            *(score(1, 1, 6), score(1, 7, 4)),  # down 2: improved
            *(score(2, 1, 6), score(2, 7, 5)),  # down 1: not
            score(3, 7, 2),  # a day-7 score only: nothing to compare
            *(score(4, 5.5, 8), score(4, 9, 6)),  # first on day 5, again on day 9: down 2
        ]
    )
    assert (found.improved, found.compared) == (2, 3)
    assert found.medians[2].median == 4.5  # 2, 4, 5 and 6


def test_it_counts_a_patient_once_from_their_latest_session() -> None:
    # Given a patient enrolled twice: their earlier session's day-1 answer is also joined to
    # the later session (before it, so left out), and the later one's joined twice
    earlier, later = SESSION_END - timedelta(days=20), SESSION_END
    rows = [
        score(1, 1, 9, earlier),
        score(1, 1, 4, later),
        score(1, 1, 4, later),
        CheckInScore(1, earlier, later + timedelta(days=1), 4),
    ]

    # Then it is one patient's score 4 on day 1
    day_1 = outcomes(rows).medians[0]
    assert (day_1.median, day_1.patients) == (4, 1)


# Through the running app ------------------------------------------------------------------


def test_the_dashboard_shows_median_pain_and_the_share_improving(stack: Deployment) -> None:
    # Given, 100 days ago, a patient whose scores of 0 must not count
    old = SESSION_END - timedelta(days=100)
    stack.set_clock(old + timedelta(minutes=5))
    old_enrollment = stack.enroll(phone="403-555-0109", first_name="Olga", session_end=old)
    add_scores(stack, old_enrollment, (1, 0), (3, 0), (7, 0))
    # And four patients enrolled after this session, answering:
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    ids = [
        stack.enroll(phone=f"403-555-010{n}", first_name=name, session_end=SESSION_END)
        for n, name in enumerate(("Ana", "Ben", "Cleo", "Dev"), start=1)
    ]
    #   Ana 7 then 6 on day 1 (6 counts), 5 on day 3, 3 on day 7: down 4 from her first 7
    add_scores(stack, ids[0], (0.5, 7), (1.5, 6), (3, 5), (7, 3))
    #   Ben 8, 7, 7 and a "worse": down 1
    add_scores(stack, ids[1], (1, 8), (3, 7), (4, None), (6, 7))
    #   Cleo 4, 6, 2: down 2, just enough
    add_scores(stack, ids[2], (1.5, 4), (3, 6), (8, 2))
    #   Dev 5 at exactly day 2 (day 3's bucket), then 0 on day 10.5, after day 7's bucket
    add_scores(stack, ids[3], (2, 5), (10.5, 0))
    stack.set_clock(NOW)

    # When a therapist opens the dashboard
    text = dashboard(stack)

    # Then day 1 is the median of 6, 8, 4; day 3 of 5, 7, 6, 5; day 7 of 3, 7, 2
    assert "Patients enrolled in the last 90 days" in text
    assert (
        "Median pain, day 1 (0 to under 2 days after the session) 6 out of 10, over 3 patients"
        in text
    )
    assert (
        "Median pain, day 3 (2 to under 5 days after the session) 5.5 out of 10, over 4 patients"
        in text
    )
    assert (
        "Median pain, day 7 (5 to under 10 days after the session) 3 out of 10, over 3 patients"
        in text
    )
    # And Ana and Cleo improved by 2 points or more, of the three with a first and a day-7 score
    assert (
        "Improved by 2 points or more by day 7 67% (2 of 3 patients with a first and a day-7"
        " score)" in text
    )
    assert "not enough answers yet" not in text


def test_the_panel_says_when_there_are_no_answers_yet(stack: Deployment) -> None:
    # Given a patient enrolled who has not answered
    stack.set_clock(SESSION_END + timedelta(minutes=5))
    stack.enroll(phone="403-555-0101", session_end=SESSION_END)

    # When a therapist opens the dashboard
    text = dashboard(stack)

    # Then each median and the share say so, in words
    assert "Median pain, day 1 (0 to under 2 days after the session) not enough answers yet" in text
    assert text.count("not enough answers yet") == 4
    assert "Improved by 2 points or more by day 7 not enough answers yet" in text


def test_received_times_are_compared_as_instants() -> None:
    # A reply stored in UTC, a session in clinic time: 1.5 days apart whatever the zones
    found = outcomes(
        [CheckInScore(1, SESSION_END, (SESSION_END + timedelta(days=1.5)).astimezone(UTC), 3)]
    )
    assert found.medians[0].patients == 1
