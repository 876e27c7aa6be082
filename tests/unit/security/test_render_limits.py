"""A template cannot hold a worker: each render has a deadline and a size cap."""

from __future__ import annotations

import time

import pytest

from reminders.content import rendering
from reminders.content.rendering import SAMPLE_VARIABLES, TemplateProblem, render

NESTED = (
    "{% for a in range(100000) %}{% for b in range(100000) %}{{ body }}{% endfor %}{% endfor %}"
)


@pytest.mark.parametrize(
    "source",
    [
        NESTED.replace("{{ body }}", ""),  # no output, no call inside the inner loop
        NESTED.replace("{{ body }}", "{{ first_name|length }}"),
        "{% set s = 'ab' * 50000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    ],
    ids=["empty-loops", "filter-in-loop", "loops-over-a-string"],
)
def test_a_template_that_runs_too_long_fails_with_a_clear_reason(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rendering, "RENDER_SECONDS", 0.5)
    started = time.monotonic()
    with pytest.raises(TemplateProblem, match="template took too long to render"):
        render(source, SAMPLE_VARIABLES)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10**8) %}x{% endfor %}",
        NESTED.replace("{{ body }}", "x"),
        "{{ 'a' * 100000 * 100000 }}",
        "{{ 9 ** (9 ** 9) }}",
        "{{ first_name" + "|replace('a', 'aaaaaaaaaaaaaaaa')" * 20 + " }}",
    ],
    ids=["huge-range", "huge-output", "huge-string", "huge-number", "doubling-replace"],
)
def test_a_template_that_would_make_too_much_fails_quickly(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateProblem):
        render(source, SAMPLE_VARIABLES, html=True)
    assert time.monotonic() - started < rendering.RENDER_SECONDS + 1


def test_ordinary_templates_render_as_before_and_the_deadline_is_per_render() -> None:
    source = (
        "{% for url in checkin_urls %}{{ loop.index }}:{{ url[-1] }} {% else %}none{% endfor %}"
        "{{ first_name|upper }} {{ 2 ** 10 }} {{ '-' * 3 }}{% for x in [] %}{% else %}!{% endfor %}"
    )
    expected = "1:0 2:1 3:2 4:3 5:4 6:5 7:6 8:7 9:8 10:9 11:0 ALEXANDRA 1024 ---!"
    assert render(source, SAMPLE_VARIABLES) == expected
    time.sleep(0.1)
    assert render(source, SAMPLE_VARIABLES) == expected  # a cached template, a fresh deadline
    assert rendering._deadline.get() is None  # nothing left set after rendering
