"""How the patient says it is going, in words: worse or lasting, better, and red flags that are
not emergencies (clinical-content.md, "When to report"), which the therapist should look at."""

from __future__ import annotations

import re

from reminders.replies.context import present

_WORSE = re.compile(
    r"\b(?:worse|worst|wrose|worsen\w*|more (?:pain|painful|sore\w*)|hurts? more|hurting more"
    r"|getting bad|pire|plus mal|encore plus|plus douloureu\w*|empire\w*|aggrav\w*|s aggrave"
    r"|not improving|no improvement|aucune amelioration|pas d amelioration"
    r"|(?:not|hasn t|hasn t|isn t|pas) (?:\w+ )?(?:gone|went away|parti\w*|passe\w*|disparu\w*)"
    r"|no it s not gone|same as before|pas mieux|pas better|not (?:\w+ ){0,2}better|no better|pas vraiment mieux"
    r"|amelior\w* pas|s amelior\w* pas|killing me|nonstop|tue|me tue|insupportable|unbearable"
    r"|(?:sore|hurt\w*|aching|ache|pain\w*|mal|douleur\w*|courbatur\w*) (?:\w+ ){0,3}(?:for|depuis|since) (?:[4-9]|\d\d|four|five|six|seven|a week|quatre|cinq|une semaine) ?(?:days|jours|semaine)?)\b"
)
# Soreness that lasts: worth the therapist's look unless the reply also says it is better.
_LASTING = re.compile(
    r"\b(?:still|toujours|encore) (?:\w+ ){0,2}(?:sore|hurt\w*|painful|aching|in pain|bad|tender|stiff"
    r"|mal|douloureu\w*|sensible|raide|courbatur\w*|pareil)\b"
)
_BETTER = re.compile(
    r"\b(?:bett?er|bettr|beter|improv\w*|good|great|fine|all good|less (?:pain|sore\w*)"
    r"|eas(?:ing|ed)|healing|recovered|much better|mieux|amelior\w*|moins (?:mal|de douleur|douloureu\w*)"
    r"|bien|correct|super|pas pire|numero un|en forme|tip top|gone|disparu\w*|amazing|awesome|excellent"
    r"|looser|loose|new (?:person|man|woman)|no complaints|tout est beau|relieved|relief|soulag\w*"
    r"|i m (?:ok|okay|alright|fine)|ca va(?! pas)|doing ok|all right)\b"
)
_RED_FLAG = re.compile(
    "|".join(
        [
            r"\bnumb(?:ness|ed|ing)?\b|\bpins and needles\b|\btingl\w*|\bweakness\b|\bweak\b|\bcan t (?:lift|move|grip)\b",
            r"\bfeve\w*|\bpus\b|\binfect\w*|\booz\w*|\bchills\b|\bfrissons?\b",
            r"\b(?:red|redness|swollen|swelling|puffy|hot to the touch|warm to the touch)\b",
            r"\bbruis\w* (?:\w+ ){0,3}(?:spread\w*|bigger|growing|larger|grows)|\bspreading bruis\w*",
            r"\b(?:still|toujours|encore) (?:\w+ ){0,2}(?:dizzy|etourdi\w*|vertig\w*)",
            r"\bengourd\w*|\bfourmi\w*|\bpicot\w*|\bfaiblesse\b|\bfaible\b|\bfievre\w*|\bfebrile\b",
            r"\b(?:rouge|rougeur\w*|enfle\w*|gonfle\w*|chaud au toucher)\b",
            r"\b(?:bleu|ecchymose)s? (?:\w+ ){0,3}(?:etend\w*|grossi\w*|elargi\w*|agrandi\w*)",
        ]
    )
)


def says_worse(words: str) -> bool:
    """Worse or lasting soreness: "worse", "still sore 4 days later", "toujours mal", "not better",
    "no it's not gone"; but not "no worse"."""
    if any(
        m.group(0).startswith(("not", "no ", "pas", "hasn", "isn", "same"))
        or present(words, m.start(), m.end())
        for m in _WORSE.finditer(words)
    ):
        return True
    lasting = any(present(words, m.start(), m.end()) for m in _LASTING.finditer(words))
    return lasting and not says_better(words)


def says_better(words: str) -> bool:
    return any(present(words, m.start(), m.end()) for m in _BETTER.finditer(words))


def mentions_red_flag(words: str) -> bool:
    """Numbness, weakness, fever, infection signs, a spreading bruise, lasting dizziness."""
    return any(present(words, m.start(), m.end()) for m in _RED_FLAG.finditer(words))
