"""How a patient's SMS or email reply is understood, and what it calls for.

Plain functions over plain data, no I/O. Replies are read case- and accent-insensitively, in
English and Canadian French, ignoring punctuation and emoji. The raw text is kept by the caller,
so a reply read as "other" is never lost: the therapist still sees it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """What a reply says: kind is one of "score", "emergency", "opt_out", "opt_in", "help",
    "worse", "better", "other"; score (0-10, Numeric Pain Rating Scale) is set only for "score".
    """

    kind: str
    score: int | None


# --- the words patients use ------------------------------------------------------------------

_BREATH = r"brea?th\w*"  # breathe, breath, breathing, and the usual misspellings (breth, brething)
_EMERGENCY = re.compile(
    "|".join(
        [
            rf"\b(?:can ?t|cannot|can not|couldn ?t|could not|unable to) {_BREATH}",
            rf"\bshort(?:ness)? of {_BREATH}",
            rf"\b(?:trouble|difficulty|difficult|hard|struggling|problems?) (?:to |with )?{_BREATH}",
            rf"\b(?:hurts?|hurting|painful|pain|pains|sore|hard|harder) (?:to |when |while |if )?(?:i )?{_BREATH}",
            rf"\b(?:hard|rough|tough|bad) time {_BREATH}",
            rf"\bbarely (?:able to )?{_BREATH}",
            r"\b(?:can ?t|cannot|can not|couldn ?t|could not) (?:catch|get) (?:my )?breath",
            r"\bout of breath\b",
            r"\bbreathless\w*",
            r"\bchest (?:is |feels |felt )?(?:pain|hurt|tight|pressure|heavy|sore)",
            r"\b(?:new |sudden )(?:dry )?cough\w*|\bdry cough\w*",
            r"\b(?:feel|feeling|felt|going to|gonna|might|about to) (?:\w+ ){0,2}(?:faint|pass out)\b",
            r"\b(?:heavy|heavily|lots of|a lot of) (?:bleeding|blood)\b",
            r"\bbleed\w* (?:heavily|a lot|lots|badly|everywhere|profusely)\b",
            r"\b(?:pain|pains|tightness|pressure) in (?:my |the )?chest\b",
            r"\bcough\w* (?:up )?blood\b",
            r"\b(?:fainted|fainting|passed out|blacked out|collapsed)\b",
            r"\b(?:won ?t|will not|doesn ?t|does not|can ?t|cannot) stop (?:the )?bleeding\b",
            r"\bbleeding (?:that |which )?(?:won ?t|will not|doesn ?t|does not|isn ?t) stop",
            r"\bstill bleeding\b",
            r"\bessouffl\w*",
            r"\bdifficultes? a respirer\b",
            r"\b(?:j ?ai )?(?:du )?mal a respirer\b",
            r"\b(?:respire|respirer) (?:mal|difficilement|avec difficulte|avec peine)\b",
            r"\b(?:peine|difficilement) a respirer\b",
            r"\btoux seche\b|\bnouvelle toux\b",
            r"\bpoitrine (?:serree|lourde|qui fait mal|me fait mal)\b",
            r"\b(?:serrement|oppression|pression) (?:a la |dans la )?poitrine\b",
            r"\bperte de connaissance\b",
            r"\bsaignements? (?:abondants?|importants?)\b|\bsaigne (?:beaucoup|abondamment)\b",
            r"\b(?:peux|peut|pouvais|arrive) pas (?:a )?respirer\b",
            r"\bdouleurs? (?:a la |dans la |a |dans |de )?poitrine\b",
            r"\bmal (?:a|dans) la poitrine\b",
            r"\bdouleurs? thoraciques?\b",
            r"\b(?:tousse\w*|toux) (?:avec )?du sang\b",
            r"\bcrach\w* du sang\b",
            r"\bevanou\w*",
            r"\bperdu connaissance\b",
            r"\bsaigne (?:encore|toujours)\b",
            r"\bsaignements? qui (?:ne )?(?:n |s )?arrete\w* pas\b",
        ]
    )
)
# A reply that is only one of these words is read as an emergency too: "chest", "blood".
_EMERGENCY_WORD = re.compile(
    rf"{_BREATH}|chest|blood|bleeding|faint|respir\w*|poitrine|sang|saigne\w*"
)
# Red flags that are not emergencies (clinical-content.md, "When to report"): the therapist
# should look. They flag the reply; they do not change how it is read.
_RED_FLAG = re.compile(
    "|".join(
        [
            r"\bnumb(?:ness|ed|ing)?\b|\bpins and needles\b|\bweakness\b|\b(?:feels?|feeling|weak) (?:arm|leg|hand|weak)s?\b",
            r"\bfeve\w*|\bpus\b|\binfect\w*|\boozing\b",
            r"\b(?:red|redness|swollen|swelling|puffy)\b",  # not "hot", "warm": heat is advised
            r"\bbruis\w* (?:\w+ ){0,3}(?:spread\w*|bigger|growing|larger)|\bspreading bruis\w*",
            r"\bengourd\w*|\bfaiblesse\b|\bfievre\w*|\bfebrile\b",
            r"\b(?:rouge|rougeur|enfle\w*|gonfle\w*)\b",
            r"\b(?:bleu|ecchymose)s? (?:\w+ ){0,3}(?:etend\w*|grossi\w*|elargi\w*)",
        ]
    )
)
# A clear negation just before a phrase, with at most three harmless words in between ("no chest
# pain", "I don't have any trouble breathing", "pas de douleur thoracique"), or "... is gone" after.
_NEGATION = r"no|not|nor|none|(?:do|does|did|have|has|had|is|was|are)n ?t|pas|aucune?|ni"
_BETWEEN = r"any|more|longer|much|have|having|had|feel|feeling|felt|a|an|the|real|really|signs?|of|de|d|la|le|eu|vraiment"
_NEGATED_BEFORE = re.compile(rf"\b(?:{_NEGATION})(?: (?:{_BETWEEN})){{0,3}} ?$")
_GONE_AFTER = re.compile(
    r"^ (?:is |has |est |a )?(?:gone|went away|disparue?s?|partie?s?|passee?s?)\b"
)

# Whole-message keywords, once "please", "thanks", "svp", "merci"... are set aside.
_POLITE = re.compile(
    r"\b(?:please|pls|plz|thanks|thank you|thx|ty|now|just|ok|okay|svp|stp|merci|s il vous plait)\b"
)
_OPT_OUT = re.compile(
    r"stop(?: stop)*|stop ?all|stop it|remove me|unsub\w*(?: me)?|cancel|end|quit|revoke|opt ?out"
    r"|arret\w*(?: les messages)?|(?:me )?desabonn\w*(?: moi)?"
)
_OPT_IN = re.compile(r"start|unstop|yes|oui")
_HELP = re.compile(r"help(?: me)?|(?:more )?info\w*|aide")
# Plain-language requests: a "stop" word followed closely by a word for our messages. A bare
# "stop the pain please" names no message, so it is not an opt-out ("other": a person reads it).
_MESSAGES = r"(?:text\w*|txt\w*|msg\w*|messag\w*|sms|remind\w*|e ?mail\w*|send\w*|courriel\w*|textos?|rappels?|envoy\w*)"
_OPT_OUT_REQUEST = re.compile(
    r"\b(?:unsub\w*|desabonn\w*|opt ?out|(?:remove|take) me (?:off|from)"
    rf"|(?:no more|plus de|please no|don ?t|do not) {_MESSAGES}\b"
    rf"|(?:stop|quit|cease|arret\w*|ne plus|veux plus|don ?t want)(?: \w+){{0,3}} {_MESSAGES}\b)"
)

_WORSE = re.compile(
    r"\b(?:worse|worst|wrose|worsen\w*|more (?:pain|painful|sore\w*)|hurts? more"
    r"|pire|plus mal|plus douloureu\w*|empire\w*|aggrav\w*)\b"
)
_BETTER = re.compile(
    r"\b(?:bett?er|bettr|improv\w*|good|great|less (?:pain|sore\w*)|eas(?:ing|ed)"
    r"|mieux|amelior\w*|moins (?:mal|de douleur|douloureu\w*))\b"
)

# --- pain scores -----------------------------------------------------------------------------

_NUMBER_NAMES = "zero|one/un/une|two/deux|three/trois|four/quatre|five/cinq|six|seven/sept|eight/huit|nine/neuf|ten/dix"
_WORD_NUMBERS = {w: n for n, names in enumerate(_NUMBER_NAMES.split("|")) for w in names.split("/")}
_DIGITS = r"\d+(?:[.,]\d+)?"
_NUMBER = rf"{_DIGITS}|\b(?:{'|'.join(sorted(_WORD_NUMBERS, key=len, reverse=True))})\b"
_OUT_OF_TEN = re.compile(rf"(?<!\w)({_NUMBER})\s*(?:/|out of|over|sur)\s*(?:10|ten|dix)\b")
_MONTHS = (
    r"jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sept?|september"
    r"|oct|october|nov|november|dec|december|janvier|fev|fevrier|mars|avr|avril|mai|juin|juil"
    r"|juillet|aout|septembre|octobre|novembre|decembre"
)
_UNITS = (
    r"days?|hours?|hrs?|h|mins?|minutes?|weeks?|wks?|months?|years?|yrs?|times|x|am|pm|a\.m|p\.m"
    r"|jours?|heures?|semaines?|mois|ans?|annees?|fois|sets?|reps?|mg|ml|km|kg|lbs?|pills?"
    r"|advils?|tylenols?|needles?|aiguilles?|st|nd|rd|th|e|er|eme"
)
_RANGE = rf"(?:{_DIGITS})(?:\s*(?:-|to|or|a|ou)\s*(?:{_DIGITS}))?"
_NOT_SCORES = re.compile(
    "|".join(
        [
            r"(?:\+?\d[ ().-]*){7,}",  # phone numbers
            r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}",  # dates: 2024-05-03, 3/5/24
            r"\d{1,2}:\d{2}",  # times: 3:30
            r"\d+\s*/\s*\d+",  # fractions and day/month dates other than "/10" (read first)
            rf"{_DIGITS}\s*(?:%|percent\b|pour ?cent\b)",
            rf"{_RANGE}\s*(?:{_UNITS})\b",  # "2 days", "3-4 hours", "48h", "4th", "5 pm"
            rf"\b(?:{_MONTHS})\.?\s*\d{{1,2}}\b|\b\d{{1,2}}\s*(?:{_MONTHS})\b",  # "may 3", "3 mai"
            r"(?:\b(?:day|jour|week|semaine|session|visit|visite|number|numero)\s*|[#$]\s*)\d+",
        ]
    )
)
_LOOSE_NUMBER = re.compile(rf"(?<!\w)({_DIGITS})(?:ish)?(?!\w)")
# Words allowed around a spelled-out number ("about a four", "pain is four today", "je dirais
# quatre"); a word number anywhere else ("one of them", "les deux bras", "rien de neuf") is not.
_AROUND_WORD_NUMBER = re.compile(
    r"about|around|roughly|maybe|probably|like|an?|its?|is|s|i|m|d|id|would|say|pain|my|the|today"
    r"|now|tonight|still|at|thanks|thank|you|thx|merci|environ|peut|etre|peutetre|la|douleur|est"
    r"|je|dirais|aujourd|hui|aujourdhui|maintenant|ce|c|ca|soir|matin|this|morning|evening|ok|okay"
    r"|level|niveau|or|to|ou|et|and|mon|ma|de|better|worse|mieux|pire|than|yesterday|hier|que"
)


def read_reply(text: str) -> Reading:
    """How a patient's reply is understood, first match wins: emergency, opt-out, opt-in, help,
    pain score, worse, better, other.

    Emergency phrases win over everything ("STOP I can't breathe"), and so does a reply that is
    only an emergency word ("breathing", "chest", "blood"). Negation handling is kept
    small on purpose, since a false alarm costs less than a missed one: only a clear negation word
    ("no", "not", "don't", "pas (de)", "aucune") right before the phrase, with at most three
    harmless words between ("no chest pain", "I don't have any trouble breathing"), or "is gone"
    right after it, suppresses a phrase. A comma or full stop ends the negation ("No, chest
    pain"), and so does a pronoun ("no I can't breathe"). "never" and "without" do not count
    ("never had chest pain like this"), nor does "fine" before a phrase ("feeling fine but chest
    pain"); "breathing is fine" is not read as an emergency because no phrase matches it.
    """
    plain = _plain(text)
    clauses = _clauses(plain)
    bare = " ".join(token for token in clauses.split() if token != "|")
    core = " ".join(_POLITE.sub(" ", bare).split())
    if _mentions(_EMERGENCY, clauses) or _EMERGENCY_WORD.fullmatch(core):
        return Reading("emergency", None)
    if _OPT_OUT.fullmatch(core) or _OPT_OUT_REQUEST.search(clauses):
        return Reading("opt_out", None)
    if _OPT_IN.fullmatch(core):
        return Reading("opt_in", None)
    if _HELP.fullmatch(core):
        return Reading("help", None)
    score = _score(plain, bare)
    if score is not None:
        return Reading("score", score)
    if _says_worse(clauses):
        return Reading("worse", None)
    if _mentions(_BETTER, clauses):
        return Reading("better", None)
    return Reading("other", None)


def flag_reasons(reading: Reading, previous_score: int | None, text: str) -> list[str]:
    """Why the therapist should look at this reply, in plain words; empty when nothing to flag.

    A rise of 2 points is clinically meaningful on the pain scale (pubmed 11690728).
    """
    reasons: list[str] = []
    if reading.kind == "emergency":
        reasons.append("possible red flag")
    if reading.kind == "score" and reading.score is not None:
        if reading.score >= 8:
            reasons.append("score 8 or more")
        if previous_score is not None and reading.score - previous_score >= 2:
            reasons.append(f"score rose by {reading.score - previous_score} since the last answer")
    clauses = _clauses(_plain(text))
    if reading.kind == "worse" or _says_worse(clauses):
        reasons.append("says it is worse")
    if reading.kind != "emergency" and _mentions(_RED_FLAG, clauses):
        reasons.append("mentions numbness, weakness, fever, infection or a spreading bruise")
    return reasons


def keyword_reply_key(reading: Reading) -> str | None:
    """The template folder that answers this reply at once, or None when a person should read it."""
    return {
        "opt_out": "reply-stop",
        "opt_in": "reply-start",
        "help": "reply-help",
        "emergency": "reply-emergency",
        "score": "reply-thanks",
        "better": "reply-thanks",
        "worse": "reply-thanks",
    }.get(reading.kind)


def _plain(text: str) -> str:
    """Casefolded, without accents; apostrophes become spaces ("can't" -> "can t", "j'ai" -> "j ai")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"['’‘`ʼ]", " ", plain)
    return " ".join(re.sub(r"[‐‑‒–—−]", "-", plain).split())


def _clauses(plain: str) -> str:
    """Words only, with "|" where a clause ends (, . ; : ! ?), so that "No, chest pain" keeps apart."""
    tokens = re.findall(r"[a-z0-9]+|[.,;:!?]+", plain)
    return " ".join(token if token[0].isalnum() else "|" for token in tokens)


def _mentions(phrases: re.Pattern[str], clauses: str) -> bool:
    """Whether one of the phrases appears without a clear negation."""
    return any(
        not _NEGATED_BEFORE.search(clauses[: m.start()])
        and not _GONE_AFTER.match(clauses[m.end() :])
        for m in phrases.finditer(clauses)
    )


def _says_worse(clauses: str) -> bool:
    """ "worse", "pire", "more pain"... and also "not better", "pas mieux"; but not "no worse"."""
    if _mentions(_WORSE, clauses):
        return True
    return any(_NEGATED_BEFORE.search(clauses[: m.start()]) for m in _BETTER.finditer(clauses))


def _score(plain: str, bare: str) -> int | None:
    """A 0-10 pain score, or None. When a reply gives two scores ("3-4", "3 or 4") the higher one
    is taken: a patient between two scores is asked about the worse. Halves round up ("7.5" -> 8).
    """
    out_of_ten = [_value(m.group(1)) for m in _OUT_OF_TEN.finditer(plain)]
    if out_of_ten:
        # "12/10" says "the worst pain", so it is read as 10 rather than dropped.
        return min(10, max(_round(v) for v in out_of_ten))
    rest = _NOT_SCORES.sub(" ", plain)
    scores = [_round(_value(m.group(1))) for m in _LOOSE_NUMBER.finditer(rest)]
    if not scores:
        words = [w for w in bare.split() if not _AROUND_WORD_NUMBER.fullmatch(w)]
        if words and all(w in _WORD_NUMBERS for w in words):
            scores = [_WORD_NUMBERS[w] for w in words]
    in_range = [s for s in scores if 0 <= s <= 10]
    return max(in_range) if in_range else None


def _value(number: str) -> float:
    return _WORD_NUMBERS[number] if number in _WORD_NUMBERS else float(number.replace(",", "."))


def _round(value: float) -> int:
    return math.floor(value + 0.5)
