"""Rendering admin-editable templates safely, and what an SMS will cost to send."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminders.content.rendering import (
    SAMPLE_VARIABLES,
    TemplateProblem,
    gsm7_spelling,
    render,
    sms_cost,
)
from reminders.sending.composing import sms_text

GSM_EXTENSION = "{}[]~^|€\\"
MESSAGES = Path(__file__).resolve().parents[2] / "templates" / "messages"


def sample(**overrides: object) -> dict[str, object]:
    return {**SAMPLE_VARIABLES, **overrides}


# --- rendering ----------------------------------------------------------------------------


def test_it_renders_the_fixed_variables_and_trims_surrounding_whitespace() -> None:
    text = render(
        "\n  {{ clinic_name }}: Hi {{ first_name }}, call {{ clinic_phone }}.\n", sample()
    )
    assert text == "Bow River Physiotherapy: Hi Alexandra, call 403-555-0100."


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ first_name.__class__.__base__.__subclasses__() }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ self._TemplateReference__context }}",
        "{{ '{0.__class__}'.format(first_name) }}",
        "{{ first_name|attr('__class__') }}",
        "{{ checkin_urls.__class__.__mro__ }}",
    ],
)
def test_it_refuses_templates_that_reach_for_python_internals(source: str) -> None:
    with pytest.raises(TemplateProblem, match="unsafe"):
        render(source, sample())


def test_it_refuses_escapes_in_html_templates_too() -> None:
    with pytest.raises(TemplateProblem, match="unsafe"):
        render("<p>{{ ''.__class__.__mro__ }}</p>", sample(), html=True)


def test_it_refuses_a_range_the_sandbox_considers_too_big_as_a_template_problem() -> None:
    # Given an admin's template that asks for a huge range (the sandbox refuses it)
    # Then saving or sending sees a TemplateProblem, not a bare OverflowError
    with pytest.raises(TemplateProblem):
        render("{{ range(10000000)|list|length }}", sample())


@pytest.mark.parametrize(
    "source", ["{{ 1 / 0 }}", "{{ first_name + 1 }}"], ids=["zero-division", "type-error"]
)
def test_it_reports_a_template_that_fails_while_rendering_as_a_template_problem(
    source: str,
) -> None:
    with pytest.raises(TemplateProblem):
        render(source, sample())


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("Hi {{ firstname }}", "firstname"),
        ("Hi {{ patient.first_name }}", "patient"),
        ("{% if diagnosis %}x{% endif %}", "diagnosis"),
        ("{{ config }}", "config"),
    ],
)
def test_it_refuses_variables_that_are_not_provided(source: str, name: str) -> None:
    with pytest.raises(TemplateProblem, match=f"'{name}' is undefined"):
        render(source, sample())


def test_it_refuses_a_missing_check_in_link_rather_than_printing_nothing() -> None:
    with pytest.raises(TemplateProblem, match="no element 11"):
        render("{{ checkin_urls[11] }}", sample())


def test_it_refuses_a_template_that_does_not_parse() -> None:
    with pytest.raises(TemplateProblem, match="template error"):
        render("Hi {{ first_name ", sample())


def test_it_escapes_a_first_name_with_markup_in_html_emails() -> None:
    html = render("<p>Hi {{ first_name }},</p>", sample(first_name="<b>Bob</b>"), html=True)
    assert html == "<p>Hi &lt;b&gt;Bob&lt;/b&gt;,</p>"


def test_it_escapes_quotes_and_ampersands_in_html_attributes() -> None:
    html = render(
        '<a title="{{ clinic_name }}">x</a>', sample(clinic_name='Smith & "Sons"'), html=True
    )
    assert html == '<a title="Smith &amp; &#34;Sons&#34;">x</a>'


def test_it_escapes_a_first_name_in_the_default_after_session_html_email() -> None:
    source = (MESSAGES / "after-session" / "email_html.en.j2").read_text(encoding="utf-8")

    html = render(source, sample(first_name="<b>Bob</b>"), html=True)

    assert "Hi &lt;b&gt;Bob&lt;/b&gt;," in html
    assert "<b>Bob</b>" not in html


def test_it_leaves_text_parts_unescaped() -> None:
    text = render("Hi {{ first_name }} & co", sample(first_name="<b>Bob</b>"))
    assert text == "Hi <b>Bob</b> & co"


# --- SMS cost -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_it_counts_gsm7_segments_of_160_then_153_septets(length: int, segments: int) -> None:
    cost = sms_cost("a" * length)
    assert (cost.encoding, cost.units, cost.segments) == ("GSM-7", length, segments)


def test_it_counts_an_empty_message_as_one_segment() -> None:
    assert sms_cost("").segments == 1


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_it_counts_a_gsm7_extension_character_as_two_septets(char: str) -> None:
    cost = sms_cost(char)
    assert (cost.encoding, cost.units, cost.segments) == ("GSM-7", 2, 1)


def test_it_counts_all_extension_characters_as_two_septets_each() -> None:
    assert sms_cost(GSM_EXTENSION).units == 2 * len(GSM_EXTENSION)


def test_it_tips_into_a_second_segment_on_an_extension_character() -> None:
    # 159 plain characters and one "€": 161 septets
    cost = sms_cost("a" * 159 + "€")
    assert (cost.units, cost.segments) == (161, 2)


@pytest.mark.parametrize("char", ["é", "è", "à", "ù", "Ç", "Ñ", "ü", "£", "\n", "@", "$"])
def test_it_keeps_french_and_other_basic_gsm7_characters_at_one_septet(char: str) -> None:
    cost = sms_cost(char * 160)
    assert (cost.encoding, cost.units, cost.segments) == ("GSM-7", 160, 1)


@pytest.mark.parametrize(
    "char",
    ["ê", "ç", "’", "“", "\u00a0"],
    ids=["e-circumflex", "c-cedilla", "curly-apostrophe", "curly-quote", "nbsp"],
)
def test_it_switches_to_ucs2_for_one_character_outside_gsm7(char: str) -> None:
    # Given an otherwise plain 100-character message: 1 GSM-7 segment
    plain = "a" * 99

    # When one character outside GSM-7 is added
    cost = sms_cost(plain + char)

    # Then the whole message is UCS-2 and needs 2 segments of 67
    assert (cost.encoding, cost.units, cost.segments) == ("UCS-2", 100, 2)


@pytest.mark.parametrize(
    ("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_it_counts_ucs2_segments_of_70_then_67_units(length: int, segments: int) -> None:
    cost = sms_cost("ê" * length)
    assert (cost.encoding, cost.units, cost.segments) == ("UCS-2", length, segments)


def test_it_counts_an_emoji_as_two_utf16_units() -> None:
    cost = sms_cost("😀")
    assert (cost.encoding, cost.units, cost.segments) == ("UCS-2", 2, 1)


def test_it_tips_into_a_second_ucs2_segment_on_an_emoji() -> None:
    # 69 units of text and an emoji of 2: 71 units
    cost = sms_cost("ê" * 69 + "👍")
    assert (cost.units, cost.segments) == (71, 2)


# --- first names in texts -----------------------------------------------------------------

# A first text as clinics write it: what to expect, the 911 line and the opt-out line.
FIRST_TEXT = (
    "{{ clinic_name }}: Hi {{ first_name }}, soreness for up to 3 days is normal. Drink water, "
    "move gently, no hard exercise for 24 h. Trouble breathing, chest pain, coughing up blood "
    "or fainting: call 911. Reply STOP to opt out."
)


@pytest.mark.parametrize(
    ("name", "spelled"),
    [
        ("François", "Francois"),
        ("Anaïs", "Anais"),
        ("Benoît", "Benoit"),
        ("Joël", "Joel"),
        ("Zoë", "Zoe"),
        ("Ève", "Eve"),
        ("Noëlle-Françoise", "Noelle-Francoise"),
        ("Łukasz", "Lukasz"),
        ("D\u2019Arcy", "D'Arcy"),
    ],
)
def test_it_spells_only_the_letters_gsm7_lacks_without_their_accents(
    name: str, spelled: str
) -> None:
    assert gsm7_spelling(name) == spelled


@pytest.mark.parametrize("name", ["Chloé", "Élodie", "Hélène", "Jürgen", "Søren", "Ñuño", "Åsa"])
def test_it_keeps_a_name_gsm7_can_write_as_it_is(name: str) -> None:
    assert gsm7_spelling(name) == name


@pytest.mark.parametrize("name", ["Дмитрий", "李明", "محمد", "Zoë 李"])
def test_it_keeps_a_name_in_another_script_whole_rather_than_half_spelled(name: str) -> None:
    assert gsm7_spelling(name) == name


@pytest.mark.parametrize(
    ("name", "spelled"),
    [("François", "Francois"), ("Anaïs", "Anais"), ("Benoît", "Benoit"), ("Joël", "Joel")],
)
def test_it_sends_an_accented_first_name_in_gsm7_so_a_text_costs_two_segments_not_four(
    name: str, spelled: str
) -> None:
    # Given a first text that fits two GSM-7 segments
    variables = sample(first_name=name)

    # When it is rendered with the name as written, and as it is sent
    as_written = sms_cost(render(FIRST_TEXT, variables))
    sent = sms_text(FIRST_TEXT, variables, locale="en", first_sms=True)

    # Then one letter outside GSM-7 would make it UCS-2 in four segments; as sent it is two
    assert (as_written.encoding, as_written.segments) == ("UCS-2", 4)
    assert (sms_cost(sent).encoding, sms_cost(sent).segments) == ("GSM-7", 2)
    assert sent == render(FIRST_TEXT, sample(first_name=spelled))


def test_it_leaves_the_name_as_written_when_the_template_itself_needs_ucs2() -> None:
    # Given a template with a curly apostrophe, which is outside GSM-7 whatever the name
    source = "Hi {{ first_name }}, don\u2019t lift anything heavy today."

    # When it is sent to François
    sent = sms_text(source, sample(first_name="François"), locale="en", first_sms=False)

    # Then spelling the name would save nothing, so it stays as written
    assert sent == "Hi François, don\u2019t lift anything heavy today."


def test_it_keeps_a_name_in_another_script_in_the_text() -> None:
    sent = sms_text(FIRST_TEXT, sample(first_name="Дмитрий"), locale="en", first_sms=True)
    assert "Hi Дмитрий," in sent and sms_cost(sent).encoding == "UCS-2"


def test_it_counts_the_opt_out_line_added_to_a_first_text_in_its_cost() -> None:
    # Given a template without the opt-out line, 150 characters long for François
    source = "Hi {{ first_name }}, " + "x" * 136

    # When it is the patient's first text, and when it is a later one
    first = sms_text(source, sample(first_name="François"), locale="fr", first_sms=True)
    later = sms_text(source, sample(first_name="François"), locale="fr", first_sms=False)

    # Then the first ends with the French opt-out line, which tips it into a second segment
    assert first.endswith("\nRépondez ARRET pour vous désabonner.")
    assert (sms_cost(later).encoding, sms_cost(later).segments) == ("GSM-7", 1)
    assert (sms_cost(first).encoding, sms_cost(first).segments) == ("GSM-7", 2)
    assert first.startswith("Hi Francois,")
