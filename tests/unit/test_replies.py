"""How a patient's reply is understood, when it is flagged to the therapist, and what answers it."""

from __future__ import annotations

import pytest

from reminders.replies import Reading, flag_reasons, keyword_reply_key, read_reply

REPLIES: list[tuple[str, str, int | None]] = [
    # --- pain scores, as patients write them -------------------------------------------------
    ("4", "score", 4),
    ("  4   ", "score", 4),
    ("4/10", "score", 4),
    ("4 / 10", "score", 4),
    ("4 out of 10", "score", 4),
    ("about a 4", "score", 4),
    ("maybe 3", "score", 3),
    ("3-4", "score", 4),  # between two scores: the higher one
    ("3 or 4", "score", 4),
    ("3 à 4", "score", 4),
    ("7.5", "score", 8),  # halves round up
    ("7,5", "score", 8),  # French decimal comma
    ("four", "score", 4),
    ("FOUR", "score", 4),
    ("about a four", "score", 4),
    ("pain is four today", "score", 4),
    ("zero", "score", 0),
    ("ten", "score", 10),
    ("quatre", "score", 4),
    ("deux sur 10", "score", 2),
    ("Douleur 3 sur 10, merci", "score", 3),
    ("pain is 6 today", "score", 6),
    ("6 thanks", "score", 6),
    ("I'm a 5 today 🙂", "score", 5),
    ("5️⃣", "score", 5),
    ("8 😭", "score", 8),
    ("0/10", "score", 0),
    ("10/10", "score", 10),
    ("12/10", "score", 10),  # "worse than the worst": read as the top of the scale
    ("took 2 advil, pain 3", "score", 3),
    ("2 days ago it was bad, now 3", "score", 3),
    ("worse than yesterday, 6", "score", 6),
    ("yes 4", "score", 4),
    ("I have no trouble breathing and no chest pain, 3/10", "score", 3),
    # --- numbers that are not scores -----------------------------------------------------------
    ("15", "other", None),
    ("100%", "other", None),
    ("Call me at 403-555-1234", "other", None),
    ("403 555 1234", "other", None),
    ("2024-05-03", "other", None),
    ("3/5", "other", None),
    ("see you may 3", "other", None),
    ("le 3 mai", "other", None),
    ("at 3pm", "other", None),
    ("3:30", "other", None),
    ("sore for 3 days", "other", None),
    ("rien de neuf", "other", None),  # "neuf" is "new" here, not 9
    ("les deux bras me font mal", "other", None),  # "both arms hurt", not 2
    # --- better and worse in words ------------------------------------------------------------
    ("better", "better", None),
    ("much better", "better", None),
    ("beter", "better", None),
    ("improving", "better", None),
    ("good", "better", None),
    ("Thanks, feeling better!", "better", None),
    ("still sore but better", "better", None),
    ("not worse, better", "better", None),
    ("mieux", "better", None),
    ("ça va mieux", "better", None),
    ("CA VA MIEUX", "better", None),
    ("Oui ça va mieux", "better", None),
    ("worse", "worse", None),
    ("wrose", "worse", None),
    ("getting worse", "worse", None),
    ("more pain", "worse", None),
    ("not better", "worse", None),
    ("pire", "worse", None),
    ("plus mal", "worse", None),
    ("ça empire", "worse", None),
    ("ça s'empire", "worse", None),
    ("pas mieux", "worse", None),
    ("pas pire", "better", None),  # Quebec French for "not bad"
    # --- emergencies, English -----------------------------------------------------------------
    ("STOP I can't breathe", "emergency", None),
    ("Help! I can’t breathe", "emergency", None),
    ("cant breath", "emergency", None),
    ("short of breath", "emergency", None),
    ("Not sure. Shortness of breath since lunch", "emergency", None),
    ("trouble breathing", "emergency", None),
    ("hard to breathe", "emergency", None),
    ("difficulty breathing", "emergency", None),
    ("CHEST PAIN", "emergency", None),
    ("my chest feels tight", "emergency", None),
    ("coughing up blood", "emergency", None),
    ("I fainted!!", "emergency", None),
    ("passed out", "emergency", None),
    ("collapsed", "emergency", None),
    ("won't stop bleeding", "emergency", None),
    ("bleeding won't stop", "emergency", None),
    ("still bleeding", "emergency", None),
    ("can't stop the bleeding", "emergency", None),
    ("No, chest pain", "emergency", None),  # the comma ends the "no"
    ("no I cant breathe", "emergency", None),
    ("never had chest pain like this", "emergency", None),
    ("3/10 but short of breath", "emergency", None),
    # --- emergencies, French --------------------------------------------------------------------
    ("essoufflé", "emergency", None),
    ("ESSOUFFLEE", "emergency", None),
    ("J'ai de la difficulté à respirer", "emergency", None),
    ("j'ai du mal à respirer", "emergency", None),
    ("je peux pas respirer", "emergency", None),
    ("douleur à la poitrine", "emergency", None),
    ("douleur dans la poitrine", "emergency", None),
    ("douleur thoracique", "emergency", None),
    ("je tousse du sang", "emergency", None),
    ("cracher du sang", "emergency", None),
    ("je me suis évanouie", "emergency", None),
    ("j'ai perdu connaissance", "emergency", None),
    ("ça saigne encore", "emergency", None),
    ("saignement qui n'arrête pas", "emergency", None),
    # the other ways people say it (each one was once read as "other")
    ("breathing", "emergency", None),
    ("chest", "emergency", None),
    ("it hurts to breathe", "emergency", None),
    ("painful to breathe", "emergency", None),
    ("pain when breathing in", "emergency", None),
    ("having a hard time breathing", "emergency", None),
    ("I can barely breathe", "emergency", None),
    ("out of breath all day", "emergency", None),
    ("can not catch my breath", "emergency", None),
    ("breathless", "emergency", None),
    ("chest feels heavy", "emergency", None),
    ("new dry cough and I feel unwell", "emergency", None),
    ("feel faint", "emergency", None),
    ("I feel like I might pass out", "emergency", None),
    ("bleeding heavily from the needle spot", "emergency", None),
    ("heavy bleeding", "emergency", None),
    ("mal à respirer", "emergency", None),
    ("je respire mal", "emergency", None),
    ("perte de connaissance ce matin", "emergency", None),
    ("saignement abondant", "emergency", None),
    ("poitrine serrée", "emergency", None),
    # --- negated, so not emergencies ------------------------------------------------------------
    ("breathing is fine", "better", None),
    ("no chest pain", "other", None),
    ("no trouble breathing", "other", None),
    ("not short of breath", "other", None),
    ("i don't have any chest pain", "other", None),
    ("chest pain is gone", "emergency", None),  # it happened since the session,
    ("pas de douleur à la poitrine", "other", None),
    ("aucune douleur thoracique", "other", None),
    ("j ai pas de difficulte a respirer", "other", None),
    ("not out of breath", "other", None),
    ("no heavy bleeding, 2", "score", 2),
    # --- opt-out keywords and plain-language requests --------------------------------------------
    ("STOP", "opt_out", None),
    ("Stop.", "opt_out", None),
    ("stop!!!", "opt_out", None),
    ("Stop 🛑", "opt_out", None),
    ("stopall", "opt_out", None),
    ("STOP STOP", "opt_out", None),
    ("stop it", "opt_out", None),
    ("remove me", "opt_out", None),
    ("unsubscribe", "opt_out", None),
    ("unsubscibe", "opt_out", None),
    ("cancel", "opt_out", None),
    ("End", "opt_out", None),
    ("quit", "opt_out", None),
    ("revoke", "opt_out", None),
    ("opt out", "opt_out", None),
    ("opt-out", "opt_out", None),
    ("OPTOUT", "opt_out", None),
    ("ARRET", "opt_out", None),
    ("ARRÊT", "opt_out", None),
    ("Arrete svp", "opt_out", None),
    ("stop texting me", "opt_out", None),
    ("STOP TEXTING ME!!!", "opt_out", None),
    ("please stop", "opt_out", None),
    ("no more texts", "opt_out", None),
    ("unsubscribe me", "opt_out", None),
    ("please don't text me", "opt_out", None),
    ("arrêtez", "opt_out", None),
    ("arrêtez les messages", "opt_out", None),
    ("désabonner", "opt_out", None),
    ("ne m'envoyez plus de messages", "opt_out", None),
    ("je ne veux plus recevoir de messages", "opt_out", None),
    # "stop ..." that names no message, and keywords that are not the whole message
    ("stop the pain please", "other", None),
    ("cancel my appointment", "other", None),
    ("the end", "other", None),
    ("don't worry, I'll text later", "other", None),
    # --- opt-in and help keywords ----------------------------------------------------------------
    ("START", "opt_in", None),
    ("unstop", "opt_in", None),
    ("yes", "opt_in", None),
    ("Yes please", "opt_in", None),
    ("oui", "other", None),
    ("HELP", "help", None),
    ("Info", "help", None),
    ("aide", "help", None),
    # --- nothing to read ----------------------------------------------------------------------
    ("Thanks for the reminder", "other", None),
    ("ok", "other", None),
    ("🙂", "other", None),
    ("", "other", None),
]


@pytest.mark.parametrize(("text", "kind", "score"), REPLIES)
def test_it_reads_real_world_replies(text: str, kind: str, score: int | None) -> None:
    assert read_reply(text) == Reading(kind, score)


def test_it_keeps_a_table_of_at_least_sixty_replies() -> None:
    assert len(REPLIES) >= 60
    assert len({text for text, _, _ in REPLIES}) == len(REPLIES)


def test_it_flags_a_score_of_8_or_more() -> None:
    assert flag_reasons(Reading("score", 8), None, "8") == ["score 8 or more"]
    assert flag_reasons(Reading("score", 10), 10, "10/10") == ["score 8 or more"]
    assert flag_reasons(Reading("score", 7), None, "7") == []


def test_it_flags_a_score_that_rose_by_2_or_more() -> None:
    assert flag_reasons(Reading("score", 5), 3, "5") == ["score rose by 2 since the last answer"]
    assert flag_reasons(Reading("score", 9), 2, "9") == [
        "score 8 or more",
        "score rose by 7 since the last answer",
    ]


def test_it_does_not_flag_a_rise_of_1_or_a_fall() -> None:
    assert flag_reasons(Reading("score", 5), 4, "5") == []
    assert flag_reasons(Reading("score", 2), 6, "2") == []


def test_it_flags_a_reply_that_says_it_is_worse() -> None:
    text = "worse than yesterday, 6"
    assert flag_reasons(read_reply(text), 6, text) == ["says it is worse or not going away"]
    assert flag_reasons(read_reply("pire"), None, "pire") == ["says it is worse or not going away"]
    assert flag_reasons(read_reply("not better"), None, "not better") == [
        "says it is worse or not going away"
    ]
    assert flag_reasons(read_reply("4, no worse"), 4, "4, no worse") == []
    assert flag_reasons(read_reply("better"), None, "better") == []


def test_it_flags_an_emergency_as_a_possible_red_flag() -> None:
    text = "STOP I can't breathe"
    assert flag_reasons(read_reply(text), 3, text) == ["possible red flag"]
    assert flag_reasons(read_reply("douleur thoracique"), None, "") == ["possible red flag"]


def test_it_does_not_flag_keywords_or_other_replies() -> None:
    for text in ("STOP", "HELP", "START", "Thanks for the reminder"):
        assert flag_reasons(read_reply(text), 3, text) == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("STOP", "reply-stop"),
        ("ARRÊT", "reply-stop"),
        ("START", "reply-start"),
        ("HELP", "reply-help"),
        ("AIDE", "reply-help"),
        ("I can't breathe", "reply-emergency"),
        ("4/10", "reply-thanks"),
        ("better", "reply-thanks"),
        ("worse", "reply-ack"),
        ("STOP who is this", "reply-confirm-stop"),
        ("Thanks for the reminder", "reply-ack"),
        ("stop the pain please", "reply-ack"),
    ],
)
def test_it_picks_the_template_that_answers_at_once(text: str, key: str) -> None:
    assert keyword_reply_key(read_reply(text)) == key


@pytest.mark.parametrize(
    "text",
    [
        "new numbness in my arm",
        "my hand feels numb",
        "fever and pus",
        "the bruise is spreading",
        "the bruise is getting bigger",
        "a bit red and swollen where the needle went, 4",
        "I feel weak",
        "j'ai de la fièvre",
        "engourdissement dans le bras",
        "c'est rouge et enflé",
    ],
)
def test_it_flags_other_red_flags_without_calling_them_emergencies(text: str) -> None:
    reading = read_reply(text)
    assert reading.kind in ("other", "score")
    assert flag_reasons(reading, None, text) == [
        "mentions numbness, weakness, fever, infection or a spreading bruise"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "no numbness, 3/10",
        "no fever",
        "pas de fièvre",
        "3",
        "better",
        "I have a new number",
        "a hot bath helped, 2",
        "la chaleur m'a aidé",
    ],
)
def test_it_does_not_flag_a_red_flag_denied_or_not_said(text: str) -> None:
    assert flag_reasons(read_reply(text), None, text) == []
