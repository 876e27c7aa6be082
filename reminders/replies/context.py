"""Whether a symptom a reply names is really there: negation and hypotheticals, as ConText does.

ConText/NegEx (Chapman et al.) look for a trigger ("no", "denies", "without") a few words
before a finding, within one clause, and for "is fine"-like words after it. We do the same on
plain words in English and French, tuned for recall: when in doubt, the symptom counts. A
trigger that "can't" or "like" follows no longer applies ("I don't know why I can't breathe").
"""

from __future__ import annotations

import re

_WINDOW = 5  # words before a finding that a trigger may stand in
_TRIGGERS = frozenset(
    [
        "no",
        "not",
        "without",
        "sans",
        "pas",
        "aucun",
        "aucune",
        "ni",
        "none",
        "nor",
        "denies",
        "deny",
        "zero",
        "free",
    ]
)
_CONTRACTED = frozenset(
    ["don", "doesn", "didn", "isn", "wasn", "aren", "weren", "haven", "hasn", "hadn", "ain"]
)
# Words that end a trigger's reach: what follows them is a new statement.
_BREAKERS = frozenset(
    [
        "can",
        "couldn",
        "won",
        "like",
        "that",
        "which",
        "because",
        "since",
        "and",
        "et",
        "que",
        "why",
        "pourquoi",
        "when",
        "quand",
        "so",
        "donc",
        "now",
        "maintenant",
        "today",
        "aujourd",
        "but",
        "mais",
        "i",
        "je",
        "j",
        "my",
        "ma",
        "mon",
        "it",
        "ca",
        "he",
        "she",
        "il",
        "elle",
    ]
)
# Words after a finding that say it is not there. "gone" is not one of them: a breathing or
# chest symptom since the session that has passed still calls for the 911 answer.
_GOOD_AFTER = re.compile(
    r"^(?:\w+ ){0,2}(?:is |s |are |re |feels? |felt |seems? |was |est |va |me semble |semble )?"
    r"(?:fine|ok|okay|normal|normale|good|great|correct|bien|clear|ben correct|same as usual|as usual|as always|like always"
    r"|comme d habitude|comme d hab)\b|^(?:pas|plus|jamais)\b"
)
# History (ConText "historical"): "a collapsed lung in 2019", "chest pain years ago".
_LONG_AGO = re.compile(
    r"^(?:\w+ ){0,4}(?:in (?:19|20)\d\d|(?:\w+ )?years? ago|as a (?:kid|child)|when i was|il y a \w+ ans"
    r"|en (?:19|20)\d\d|dans le temps|quand j etais)\b"
)
_QUESTION = re.compile(r"^\s*(?:is|are|does|do|should|can|could|est ce|c est tu|est il|normal)\b")
_HYPOTHETICAL = re.compile(
    r"\b(?:what if|in case|en cas|si jamais"
    r"|if (?:i |it |they |things |my |the )?(?:ever|later|start\w*|get\w*|develop\w*|notice\w*|become\w*|have any)"
    r"|(?<!unsure )(?:if|si) (?:i|je|j)\s*$"
    r"|si (?:je |j )(?:commence|developpe|deviens|remarque|ressens)"
    r"|(?:watch|look) (?:out )?for|signs? of|symptoms? of|signes? de|symptomes? de"
    r"|possible to get|can (?:you|i|one|people) get|could (?:you|i) get|risk of|chance of|risque de"
    r"|(?<!unsure )si (?:je|j) (?:manque|ai|sens|commence|developpe|deviens|remarque|ressens|fais))\b"
)


def present(
    words: str,
    start: int,
    end: int,
    *,
    good_after: re.Pattern[str] | None = None,
    check_after: bool = True,
) -> bool:
    """Whether the finding at words[start:end] is affirmed: not negated, not hypothetical.

    `good_after` adds words that, right after the finding, say it has passed ("stopped");
    `check_after=False` skips them, for findings that carry their own trouble ("can't breathe
    good" is not fine).
    """
    before = words[:start].rsplit("|", 1)[-1]
    after = words[end:].split("|", 1)[0]
    if _HYPOTHETICAL.search(before):
        return False
    if _negated_before(before.split()[-_WINDOW - 1 :]):
        return False
    after = after.strip()
    if _LONG_AGO.match(after):
        return False
    if not check_after or _QUESTION.match(before):
        return True  # "is chest tightness normal?" asks; it does not say all is well
    return not (_GOOD_AFTER.match(after) or (good_after is not None and good_after.match(after)))


def _negated_before(window: list[str]) -> bool:
    for index in range(len(window) - 1, 0 if len(window) > _WINDOW else -1, -1):
        word = window[index]
        if word in _BREAKERS:
            return False
        contracted = word == "t" and index > 0 and window[index - 1] in _CONTRACTED
        if word in _TRIGGERS or contracted:
            return True
    return False
