"""How a reply's words are made comparable: case, accents, texting spellings and typos.

The result is a string of plain words separated by spaces, with "|" where a clause ends
(. , ; : ! ? and the words that turn a sentence: "but", "mais"). Negation never crosses a "|".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein
from rapidfuzz.process import extractOne

# Texting spellings, contractions and Quebec French run together, written out the long way so
# that one pattern serves all of them. Applied word-wise to casefolded text without accents.
_SPELLINGS = [
    (
        r"\b(can|couldn|don|doesn|didn|won|isn|wasn|aren|weren|haven|hasn|hadn|wouldn|shouldn|ain)t\b",
        r"\1 t",
    ),
    (r"\b(?:cannot|can not|cnt|cant)\b", "can t"),
    (r"\bdo not\b", "don t"),
    (r"\bdoes not\b", "doesn t"),
    (r"\bdid not\b", "didn t"),
    (r"\bis not\b", "isn t"),
    (r"\b(?:not|never) (?:getting |get )?enough air\b", "manque d air"),
    (r"\bno air\b", "manque d air"),
    (r"\bdair\b", "d air"),
    (r"\bj(etouff\w*|essouffl\w*|saigne\w*|tousse\w*|respire\w*|arrive|avais|ai)\b", r"j \1"),
    (r"\bjpeux\b", "je peux"),
    (r"\bjpourrais\b", "je pourrais"),
    (r"\bjsais\b", "je sais"),
    (r"\bjme\b", "je me"),
    (r"\bouta\b|\boutta\b|\bout a\b", "out of"),
    (r"\bcould not\b", "couldn t"),
    (r"\bwill not\b", "won t"),
    (r"\bnot (?:able|capable) to\b", "can t"),
    (r"\bunable to\b", "can t"),
    (r"\bim\b", "i m"),
    (r"\bive\b", "i ve"),
    (r"\bits\b", "it s"),
    (r"\bu\b", "you"),
    (r"\bur\b", "your"),
    (r"\b(?:pls|plz|pleas)\b", "please"),
    (r"\b(?:jsuis|chu|chus|jsus)\b", "je suis"),
    (r"\bj ai\b", "j ai"),
    (r"\bya\b", "il y a"),
    (r"\bpcq?\b", "parce que"),
    (r"\bpk\b", "pourquoi"),
    (r"\bpu\b", "plus"),  # Quebec: "j'en ai pu" = no more
    # French "cannot": "je (ne) peux pas respirer", "j'arrive pas à respirer", "pas capable de".
    (
        r"\b(?:ne |n )?(?:peux|peut|pouvais|pouvait|pourrais|arrive|arrivais|arrivait|reussis|reussi|suis|etais)"
        r" (?:pas|plus) (?:capable )?(?:a |de |d )?",
        "can t ",
    ),
    (r"\bpas capable (?:de |d )?", "can t "),
    # "je respire pas (bien)" is not breathing well, not a denial.
    (r"\b(respir\w*) (?:pas|plus|mal)\b", r"can t \1"),
    # "ça arrête pas de saigner": bleeding that goes on.
    (r"\b(?:n )?arrete (?:pas|plus)(?: de| d)?\b", "nonstop"),
    (r"\b(saign\w*) pas mal\b", r"\1 a lot"),  # Quebec: "ça saigne pas mal" bleeds a lot
    (r"\bpas assez d ?air\b", "manque d air"),
    # Phrases whose "no"/"not" negates nothing ("not sure", "no idea", "no better").
    (
        r"\b(?:not sure|no idea|not certain|pas sur|pas certaine?|aucune idee|je sais pas|not just|don t know|sais pas|dunno|idk)\b",
        "unsure",
    ),
    (r"\b(?:non stop|nonstop|non-stop)\b", "nonstop"),
]
_SPELLING_RES = [(re.compile(pattern), repl) for pattern, repl in _SPELLINGS]
_TURNS = re.compile(
    r"\b(?:but|though|although|however|except|yet|mais|sauf|pourtant|cependant|par contre|btw|anyway)\b"
)

# Words whose misspellings matter for safety. A word of 5 or more letters one edit away (two for
# 8 or more) from one of these, with the same first letter, is read as it.
LEXICON = [
    "breathe",
    "breath",
    "breathing",
    "breathless",
    "breathed",
    "chest",
    "bleeding",
    "bleed",
    "blood",
    "coughing",
    "cough",
    "faint",
    "fainted",
    "fainting",
    "collapsed",
    "pressure",
    "tight",
    "tightness",
    "wheezing",
    "gasping",
    "suffocating",
    "bandage",
    "dressing",
    "respirer",
    "respire",
    "respiration",
    "poitrine",
    "saigne",
    "saignement",
    "saigner",
    "evanoui",
    "evanouie",
    "etouffe",
    "etouffer",
    "essouffle",
    "essoufflee",
    "souffle",
    "pansement",
    "connaissance",
    "tousse",
    "crache",
    "thoracique",
    "worse",
    "better",
    "painful",
    "soreness",
    "numbness",
    "swelling",
]


# Common words a letter away from a word above, never corrected: "signe" is not "saigne",
# "soigner" (to treat) is not "saigner" (to bleed), "though" is not "through".
_KEEP = frozenset(
    [
        "though",
        "thought",
        "couch",
        "signe",
        "signes",
        "soigne",
        "soigner",
        "soignee",
        "soignes",
        "cheat",
        "breed",
        "grasping",
        "pleasure",
        "selling",
        "smelling",
        "spelling",
        "bitter",
        "butter",
        "letter",
        "chess",
        "wheeling",
    ]
)


def plain(text: str) -> str:
    """Casefolded, without accents; apostrophes become spaces ("can't" -> "can t")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = re.sub(r"['’‘`ʼ´]", " ", bare)
    return " ".join(re.sub(r"[‐‑‒–—−]", "-", bare).split())


def clauses(plain_text: str) -> str:
    """Words only, spellings made regular and typos fixed, "|" where a clause ends."""
    tokens = re.findall(r"[a-z0-9]+|[.,;:!?()]+", plain_text)
    words = " ".join(_fix_typo(t) if t[0].isalnum() else "|" for t in tokens)
    for pattern, repl in _SPELLING_RES:
        words = pattern.sub(repl, words)
    return " ".join(_TURNS.sub("|", words).split())


def bare_words(clause_text: str) -> str:
    """The words of `clauses` without the clause marks."""
    return " ".join(token for token in clause_text.split() if token != "|")


@lru_cache(maxsize=4096)
def _fix_typo(word: str) -> str:
    if len(word) < 4 or word in _LEXICON_SET or word in _KEEP or word.isdigit():
        return word
    allowed = 1 if len(word) < 8 else 2
    # A four-letter word is only read as one of the short danger words it lacks a letter of
    # ("chst", "blod"); anything else that short is too often a real word.
    lexicon = _SHORT_LEXICON if len(word) == 4 else LEXICON
    candidates = [w for w in lexicon if w[0] == word[0] and abs(len(w) - len(word)) <= allowed]
    best = extractOne(word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=allowed)
    return best[0] if best else word


_LEXICON_SET = frozenset(LEXICON)
_SHORT_LEXICON = ("chest", "blood", "cough")
