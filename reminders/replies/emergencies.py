"""Emergencies in a reply, read as symptom concepts rather than fixed phrases.

Each concept (breathing, chest, blue lips, coughing blood, bleeding that will not stop,
fainting) is a set of words in English, French and franglais; a reply names an emergency when
one of them appears and `context.present` does not find it negated or hypothetical. Tuned for
recall: a false alarm costs one extra 911 reminder and a "possible" alert; a miss can cost a life.
"""

from __future__ import annotations

import re

from reminders.replies.context import present

_W = r"(?:\w+ )"  # any one word, in patterns below
_BREATH = (
    r"(?:brea?th\w*|breth\w*|breahe?\w*|brath\w*|sob|winded|wheez\w*|gasp\w*|suffoca\w*|choking"
    r"|respir\w*|souffle\w*|essouffl\w*|etouff\w*|dyspn\w*|asphyx\w*|hyperventil\w*|huff\w*|puff\w*"
    r"|panting|out of puff)"
)
_AIR = (
    r"(?:manqu\w* (?:\w+ ){0,2}(?:d |de l )?air|cherch\w* (?:mon |son |de l |l )?air|manque d air"
    rf"|(?:can t|couldn t|hard to|trouble|struggl\w*|not) {_W}{{0,2}}(?:get|getting|catch\w*|pull\w*) {_W}{{0,2}}air"
    r"|(?:gasping|hungry|starved|fighting) for air|air hunger|enough air|out of air|short of air"
    r"|full breath|deep breath \w* hurt\w*|breath \w* short)"
)
_CHEST = r"(?:chest\w*|poitrine|thorax|thoraci\w*|sternum|lungs?|poumons?|pneumo\w*|rib ?cage|cage thoracique)"
_FEELING = (
    r"(?:pain\w*|hurt\w*|ache\w*|aching|sore\w*|tight\w*|pressure|heav\w*|crush\w*|squeez\w*|burn\w*"
    r"|sharp|stab\w*|pinch\w*|weird|funny|strange|discomfort|uncomfortable|bad|worse|collaps\w*"
    r"|mal|douleur\w*|douloureu\w*|serre\w*|lourd\w*|pince\w*|brul\w*|oppress\w*|pression|point"
    r"|poids|elanc\w*|inconfort\w*|bizarre|comprim\w*|barre|ecras\w*|bloque\w*|affaiss\w*"
    r"|band|belt|vise|vice|elephant|weight|sitting on|grip\w*|clamp\w*|fist|strap\w*|tension|tendu\w*)"
)
_BLEED = r"(?:bleed\w*|bled|blood\w*|saign\w*|sang|hemorr\w*|haemorr\w*)"
_WONT_STOP = (
    r"(?:(?:won t|doesn t|didn t|isn t|hasn t|haven t|can t|not|never|wouldn t|aren t) (?:\w+ ){0,3}stop\w*"
    r"|non ?stop|keeps?|keep on|still|through|thru|soak\w*|drench\w*|heav\w*|lots|a lot|alot"
    r"|everywhere|pour\w*|gush\w*|profus\w*|all over|spurt\w*|drip\w*|encore|toujours|a travers"
    r"|running|streaming|trickl\w*|coul\w*|nonstop"
    r"|traverse\w*|beaucoup|abondan\w*|(?:n )?arrete (?:pas|plus)|arret\w* pas|continu\w*|pisse\w*"
    r"|imbib\w*|tremp\w*|full of|so much|tellement|plein)"
)
# Bleeding that has stopped, or is only a spot, is not an emergency (unless it will not stop).
_BLEED_MINOR = re.compile(
    r"\b(?:little|tiny|small|bit|drop|drops|dot|dots|speck\w*|few|trace|un peu|petit\w*"
    r"|goutte\w*|spots? of|points? de|minor|slight\w*|leger\w*)\b"
)
# Blood that is not bleeding: "blood thinners", "blood test", "une prise de sang".
_NOT_BLEEDING = re.compile(
    r"\bblood (?:thinner\w*|pressure|test\w*|work|sugar|type|donation|draw|clot\w*)|\bprise de sang"
    r"|\bsang (?:froid|chaud)|\bbloody (?:hell|good|great)|\bcoup de sang"
)
# Breathing words in advice, not symptoms, unless the clause also says something is wrong.
_BENIGN_BREATH = re.compile(
    r"\b(?:breathing|breath|respiration|respiratoires?) (?:exercises?|techniques?|work)\b"
    r"|\bexercices? (?:de )?respirat\w*|\b(?:take|took|taking|prends|prendre|prenez) (?:a |une |some |des )?"
    r"(?:deep |big |grande?s? |profonde?s? )?(?:breaths?|respirations?)\b(?! (?:\w+ )?(?:hurt|pain|mal|fait))"
    r"|\bbreath of fresh air\b|\bbreathe? (?:through|into) (?:it|the)\b|\bbreathing room\b"
)
_TROUBLE = re.compile(
    rf"\b(?:{_FEELING}|can t|couldn t|hard|trouble|short\w*|struggl\w*|difficult\w*|barely|misere"
    r"|peine|manque|wrong|weird|funny|odd)\b"
)
_FAINT_ADJECTIVE = re.compile(
    r"\bfaint(?:ly)? (?:bruise|mark|line|smell|sound|spot|red|redness|trace|scar|pink|ache|feeling of|hope)"
)
_BLEED_STOPPED = re.compile(
    r"^(?:\w+ ){0,2}(?:stopped|quit|has stopped|stopped quickly|went away|is gone|arrete\w*"
    r"|s est arrete\w*|fini\w*|plus|over)\b"
)
_STOPPED_BEFORE = re.compile(r"\b(?:stopped|arrete de|fini de|cesse de|no longer|plus)\s*$")

# Trouble that the words themselves carry: "can't breathe good" is not "breathe good".
_CANT_BREATHE = re.compile(
    r"\b(?:can t|couldn t|hard to|trouble|struggl\w*|difficult\w*|difficulte\w*|barely|hurts? to|painful to"
    rf"|mal a|de la misere a|misere a|peine a|short\w* of) (?:\w+ ){{0,3}}{_BREATH}"
)
_BREATHING = re.compile(rf"\b{_BREATH}\b|\b{_AIR}\b")

_CONCEPTS = [
    # chest: a chest word near a feeling word, either order
    re.compile(rf"\b{_CHEST} {_W}{{0,4}}{_FEELING}\b|\b{_FEELING} {_W}{{0,4}}{_CHEST}\b"),
    re.compile(r"\bcollapsed lung\b|\bpneumothora\w*"),
    # blue lips
    re.compile(
        r"\b(?:lips?|levres?)\b (?:\w+ ){0,3}(?:blue\w*|purple|gr[ae]y\w*|bleu\w*|violet\w*|mauve\w*|gris\w*)\b"
        r"|\b(?:blue\w*|purple|gr[ae]y|bleu\w*|violet\w*|mauve\w*)\b (?:\w+ ){0,2}(?:lips?|levres?)\b"
        r"|\b(?:turn\w*|going|gone|getting) blue\b"
    ),
    # coughing or spitting blood
    re.compile(
        rf"\b(?:cough\w*|coff\w*|touss\w*|toux|crach\w*|spit\w*|phlegm|mucus|sputum|glaire\w*)\b (?:\w+ ){{0,4}}{_BLEED}"
        rf"|\b{_BLEED} (?:\w+ ){{0,4}}(?:cough\w*|touss\w*|toux|crach\w*|spit\w*|phlegm|mucus|sputum|glaire\w*)\b"
        r"|\bhemopt\w*"
    ),
    # a new or dry cough since the session (pneumothorax can start so)
    re.compile(
        r"\b(?:new|dry|weird|strange|sudden|nouvelle|bizarre) (?:\w+ )?(?:cough\w*|toux)\b"
        r"|\b(?:cough\w*|toux) (?:\w+ ){0,2}(?:dry|seche|since|depuis)\b|\btouss\w* depuis\b"
        r"|\b(?:started|start|starting) coughing\b|\bcommence\w* a tousser\b"
    ),
    # fainting, passing out, collapse
    re.compile(
        r"\b(?:faint\w*|pass\w* out|passout|black\w* out|blacked|collaps\w*|keel\w* over"
        r"|lost consciousness|unconscious|evanou\w*|perdu connaissance|perte de connaissance"
        r"|perd\w* connaissance|tomb\w* dans les pommes|malaise|sans connaissance|syncope\w*"
        r"|effondr\w*|ecroul\w*|perdu conscience|perte de conscience"
        r"|(?:everything|all|it all|things) went (?:black|dark|white)|vu noir|(?:tout|toute) (?:est )?devenu\w* noir"
        r"|hit the (?:floor|ground)|fell (?:down|over|to the floor)|failli tomber|tomb\w* par terre"
        r"|dropped to the (?:floor|ground))\b"
    ),
]
_BLEEDING = re.compile(rf"\b{_BLEED}\b")
_BLEED_WONT_STOP = re.compile(rf"\b{_WONT_STOP}\b")
_BLEEDING_NOW = re.compile(
    r"\b(?:i m|i am|im|it s|it is|still|je|ca|il|elle|is|are|keeps?|started|start\w*|recommence\w*)"
    rf" (?:\w+ )?{_BLEED}\b|\b{_BLEED} (?:again|encore|de nouveau|from|de|du|at|a)\b"
)
# A whole reply of one word that names the danger: "breathing", "chest", "blood".
_ALONE = re.compile(
    rf"(?:{_BREATH}|{_CHEST}|{_BLEED}|faint\w*|bleeding|saigne\w*)(?: {_BREATH}| help| aide)?"
)


def names_emergency(words: str, core: str) -> bool:
    """Whether a reply (as `wording.clauses` words, and its `core` without polite words) names an
    emergency symptom that is not negated or hypothetical."""
    if _ALONE.fullmatch(core):
        return True
    words = _FAINT_ADJECTIVE.sub(" ", words)  # "a faint bruise" is not fainting
    if any(
        present(words, m.start(), m.end(), check_after=False) for m in _CANT_BREATHE.finditer(words)
    ):
        return True
    if any(_breathing_counts(words, m) for m in _BREATHING.finditer(words)):
        return True
    for concept in _CONCEPTS:
        if any(present(words, m.start(), m.end()) for m in concept.finditer(words)):
            return True
    return any(_bleeding_counts(words, m) for m in _BLEEDING.finditer(words))


def _clause(words: str, match: re.Match[str]) -> str:
    start = words.rfind("|", 0, match.start()) + 1
    end = words.find("|", match.end())
    return words[start : end if end >= 0 else len(words)]


def _breathing_counts(words: str, match: re.Match[str]) -> bool:
    """A breathing word counts unless it is advice ("take a deep breath") with nothing wrong."""
    clause = _clause(words, match)
    if _BENIGN_BREATH.search(clause) and not _TROUBLE.search(_BENIGN_BREATH.sub(" ", clause)):
        return False
    return present(words, match.start(), match.end())


def _bleeding_counts(words: str, match: re.Match[str]) -> bool:
    """Bleeding that will not stop, soaks through, or is going on now; not a spot that stopped."""
    clause_start = words.rfind("|", 0, match.start()) + 1
    clause_end = words.find("|", match.end())
    clause = words[clause_start : clause_end if clause_end >= 0 else len(words)]
    if any(m.start() <= match.start() < m.end() for m in _NOT_BLEEDING.finditer(words)):
        return False
    if not present(words, match.start(), match.end(), good_after=_BLEED_STOPPED):
        return False
    if _STOPPED_BEFORE.search(words[clause_start : match.start()]):
        return False
    if _BLEED_WONT_STOP.search(clause):
        return True
    if _BLEED_MINOR.search(clause):
        return False
    return bool(_BLEEDING_NOW.search(clause))
