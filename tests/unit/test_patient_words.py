"""The patient pages say everything in every language a patient may have."""

from __future__ import annotations

import re

from reminders.web.patient_words import LOCALES, WORDS


def test_every_sentence_is_in_every_language_with_the_same_blanks() -> None:
    assert set(WORDS) == set(LOCALES)
    english = WORDS["en"]
    for locale in LOCALES:
        assert set(WORDS[locale]) == set(english), locale
        for key, text in WORDS[locale].items():
            assert text.strip(), (locale, key)
            blanks = set(re.findall(r"\{(\w+)\}", text))
            assert blanks == set(re.findall(r"\{(\w+)\}", english[key])), (locale, key)
