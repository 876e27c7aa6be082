"""A 0-10 pain score (Numeric Pain Rating Scale) in a reply, as patients write it.

"4", "4/10", "about a four", "3-4" (the higher: a patient between two is asked about the worse),
"was 8 now 3" (the most recent wins), "no pain" (0). Numbers that are times, dates, phone
numbers, durations, counts or the scale itself ("1-10", "sur 10") are not scores.
"""

from __future__ import annotations

import math
import re

_NUMBER_NAMES = "zero/zéro|one/un/une|two/deux|three/trois|four/quatre|five/cinq|six|seven/sept|eight/huit|nine/neuf|ten/dix"
WORD_NUMBERS = {
    w: n
    for n, names in enumerate(_NUMBER_NAMES.replace("é", "e").split("|"))
    for w in names.split("/")
}
_DIGITS = r"\d+(?:[.,]\d+)?"
_NUMBER = rf"{_DIGITS}|\b(?:{'|'.join(sorted(WORD_NUMBERS, key=len, reverse=True))})\b"
_SCALE = re.compile(
    r"(?:on )?(?:a |the |une |l )?(?:scale|echelle)(?: \w+){0,2} (?:of |from |de )?(?:0|1|zero|one)?"
    r"\s*(?:-|to|a|sur|/)?\s*(?:10|ten|dix)\b"
    r"|\b(?:from |de |between |entre )?(?:0|1)\s*(?:-|to|a|à)\s*10\b"
    r"|\b(?:out of|over|sur)\s*(?:10|ten|dix)\b(?!\s*(?:/|out))"
)
_OUT_OF_TEN = re.compile(
    rf"(?<![\w.,])({_NUMBER})\s*(?:/|out of|outta|out a|over|sur)\s*(?:10|ten|dix)\b"
)
_MONTHS = (
    r"jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sept?|september"
    r"|oct|october|nov|november|dec|december|janvier|fev|fevrier|mars|avr|avril|mai|juin|juil"
    r"|juillet|aout|septembre|octobre|novembre|decembre"
)
_UNITS = (
    r"days?|hours?|hrs?|h|mins?|minutes?|weeks?|wks?|months?|years?|yrs?|times|x|am|pm|a\.m|p\.m"
    r"|o ?clock|jours?|heures?|semaines?|mois|ans?|annees?|fois|sets?|reps?|mg|ml|km|kg|lbs?|pills?"
    r"|advils?|tylenols?|ibuprofens?|needles?|aiguilles?|st|nd|rd|th|e|er|eme|ieme|sessions?"
    r"|seances?|treatments?|traitements?|kids?|enfants?|glasses|verres|cups?|tasses?|steps?|km|kms"
)
_RANGE = rf"(?:{_DIGITS})(?:\s*(?:-|to|or|a|ou)\s*(?:{_DIGITS}))?"
_NOT_SCORES = re.compile(
    "|".join(
        [
            r"(?:\+?\d[ ().-]*){7,}",  # phone numbers
            r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}",  # dates: 2024-05-03, 3/5/24
            r"\d{1,2}\s*[:h]\s*\d{2}",  # times: 3:30, 14h30
            r"\d+\s*/\s*(?!10\b)\d+",  # fractions and day/month dates other than "/10"
            rf"{_DIGITS}\s*(?:%|percent\b|pour ?cent\b|\$)",
            rf"{_RANGE}\s*(?:{_UNITS})\b",  # "2 days", "3-4 hours", "48h", "4th", "5 pm"
            rf"\b(?:{_MONTHS})\.?\s*\d{{1,2}}\b|\b\d{{1,2}}\s*(?:{_MONTHS})\b",  # "may 3", "3 mai"
            r"(?:\b(?:day|jour|week|semaine|session|visit|visite|number|numero|no|room|ext|unit)\s*|[#$]\s*)\d+",
            # a time to call or come: "call me back at 4", "rappelez-moi vers 4", "after 5"
            r"\b(?:le|the) \d{1,2}(?:st|nd|rd|th|e|er)?\s*(?:\?|$)",  # "mon rdv c'est le 7?"
            r"\b(?:call|text|phone|ring|reach|rappel\w*|appel\w*|come|coming|appointment|appt|rdv"
            r"|available|free|home|off|work|book\w*|pick\w*|see you|voir|there|be|arrive\w*|leave|partir)\b(?: \w+){0,4}?"
            r" (?:at|around|after|before|by|until|till|vers|a|apres|avant|jusqu a)\s+\d+",
            r"\b(?:at|around|after|before|until|till|vers|apres|avant)\s+\d{1,2}\s*(?:ish)?\s*(?:tonight|tomorrow|today|demain|ce soir)\b",
        ]
    )
)
_LOOSE_NUMBER = re.compile(rf"(?<![\w.,])({_DIGITS})(?:ish)?(?![\w])")
_PAST_BEFORE = re.compile(
    r"\b(?:was|were|been|from|before|yesterday|hier|avant|etait|j etais|last|earlier|previous\w*"
    r"|used to|started at|went from|passe de|depuis|initially|at first|had|avais|au debut)\s*(?:a |an |at |around |about |like |un |une |de |a )?$"
)
_PAST_AFTER = re.compile(
    r"^\s*(?:\w+ )?(?:yesterday|hier|before|avant|last time|last night|earlier|ago|the other day"
    r"|hier soir|la semaine passee|avant hier|au debut|at first)\b"
)
_NOW_BEFORE = re.compile(
    r"\b(?:now|today|aujourd hui|maintenant|currently|down to|to|a|rendu a|rendue a|tonight"
    r"|right now|presently|ce soir|actuellement|et la|et now|is|est|la|pis la|rendu)\s*(?:a |an |at |around |about |like |un |une )?$"
)
# Words allowed around a spelled-out number ("about a four", "pain is four today", "je dirais
# quatre"); a word number anywhere else ("one of them", "les deux bras", "rien de neuf") is not.
_AROUND_WORD_NUMBER = re.compile(
    r"about|around|roughly|maybe|probably|like|an?|its?|is|s|i|m|d|id|would|say|pain|my|the|today"
    r"|now|tonight|still|at|thanks|thank|you|thx|merci|environ|peut|etre|peutetre|la|douleur|est"
    r"|je|dirais|aujourd|hui|aujourdhui|maintenant|ce|c|ca|soir|matin|this|morning|evening|ok|okay"
    r"|level|niveau|or|to|ou|et|and|mon|ma|de|better|worse|mieux|pire|than|yesterday|hier|que|was"
    r"|from|down|a|il|y|l|hi|hello|bonjour|allo|salut|please|svp|sore|soreness|pain|ish|just|only"
    r"|grave|pis|la|sur|out|of"
)
_NO_PAIN = re.compile(
    r"\b(?:no|zero|without|aucune?|pas de|plus de|sans|not any|pu de|n ai plus|n ai pas)"
    r"(?: more| real| longer any| any| de| la)? (?:pain|soreness|douleurs?|mal)\b"
    r"(?! (?:in|dans|a la|au|thoraci\w*|de poitrine) )(?! thoraci)"
    r"|\bpain[ -]?free\b|\b(?:pain|douleur|soreness) (?:is |est )?(?:all |completely |toute )?(?:gone|disparue?|partie)\b"
    r"|\b(?:doesn t|don t|does not|ne) (?:\w+ )?(?:hurt|fait (?:plus|pas) mal)\b|\bplus mal du tout\b"
    r"|\bfait plus mal\b|\bfeel nothing\b"
)


def find_score(plain_text: str, words: str) -> int | None:
    """A 0-10 pain score in the reply (`plain_text` from wording.plain, `words` its bare words),
    or None. Halves round up ("7.5" -> 8); above 10 ("12/10") reads as 10."""
    text = _SCALE.sub(" ", _OUT_OF_TEN.sub(_out_of_ten, plain_text))
    text = _NOT_SCORES.sub(" ", text)
    text = _AT_A_TIME.sub(_keep_if_pain, text)
    numbers = [(m.start(), m.end(), _value(m.group(1))) for m in _LOOSE_NUMBER.finditer(text)]
    numbers += [
        (m.start(), m.end(), float(WORD_NUMBERS[m.group(0)]))
        for m in re.finditer(rf"\b(?:{'|'.join(WORD_NUMBERS)})\b", text)
        if _word_number_counts(words)
    ]
    numbers.sort()
    if not numbers:
        return 0 if _NO_PAIN.search(words) else None
    chosen = _most_recent(text, numbers)
    if chosen is None:
        return None
    return _round(chosen)


def _most_recent(text: str, numbers: list[tuple[int, int, float]]) -> float | None:
    """The score that describes now: one marked "now"/"today", else the last not marked as past
    ("3 (was 7 yesterday)" -> 3), the higher of an ascending range ("3-4" -> 4)."""
    current, unmarked = [], []
    for start, end, value in numbers:
        before, after = text[max(0, start - 30) : start], text[end : end + 30]
        if _NOW_BEFORE.search(before) and not _PAST_AFTER.match(after):
            current.append(value)
        elif not (_PAST_BEFORE.search(before) or _PAST_AFTER.match(after)):
            unmarked.append(value)
    in_scale = [v for v in (current or unmarked or [n[2] for n in numbers]) if 0 <= v <= 10]
    if not in_scale:
        return None
    if not current and len(in_scale) == 2 and in_scale[1] > in_scale[0] and len(numbers) == 2:
        return in_scale[1]  # an ascending pair is a range: "3-4", "3 or 4", "entre 5 et 6"
    return in_scale[-1]


_AT_A_TIME = re.compile(r"\b(?:at|vers)\s+\d{1,2}\b")
_PAIN_BEFORE = re.compile(
    r"\b(?:pain|douleur|mal|sore\w*|score|level|niveau|rate|i m|it s|is|sitting|still)\s*$"
)


def _keep_if_pain(match: re.Match[str]) -> str:
    """ "at 7" is a time ("crashed on the couch at 7"), unless pain comes just before ("pain at 7")."""
    before = match.string[max(0, match.start() - 20) : match.start()]
    return match.group(0) if _PAIN_BEFORE.search(before) else " "


def _out_of_ten(match: re.Match[str]) -> str:
    """ "4/10" -> " 4 "; "12/10" says "the worst pain", so it reads as 10."""
    number = match.group(1)
    value = WORD_NUMBERS[number] if number in WORD_NUMBERS else min(10.0, _value(number))
    return f" {value:g} "


def _word_number_counts(words: str) -> bool:
    """Spelled-out numbers count only in short replies made of score words."""
    tokens = words.split()
    return bool(tokens) and all(
        t in WORD_NUMBERS or _AROUND_WORD_NUMBER.fullmatch(t) for t in tokens
    )


def _value(number: str) -> float:
    return float(number.replace(",", "."))


def _round(value: float) -> int:
    return math.floor(value + 0.5)
