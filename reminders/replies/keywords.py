"""Keywords that carriers and the law give meaning to: STOP, START, HELP, in English and French.

Only an unmistakable request opts out: a carrier keyword alone (with "please" or "thanks" at
most), or a plain request to stop the messages. "don't stop", "not before 9am" never do. A
message that has STOP in it but says more is asked to confirm with STOP alone.
"""

from __future__ import annotations

import re

_POLITE = re.compile(
    r"\b(?:please|thanks|thank you|thx|ty|now|just|svp|stp|merci|s il vous plait|s il te plait"
    r"|right now|asap|immediately|tout de suite)\b"
)
_ONE_OPT_OUT = (
    r"(?:stop|stop ?all|stop it|stop this|stop these|stop texting|stop messaging|remove me|unsub\w*(?: me)?"
    r"|cancel|cancel all|end|quit|revoke|opt ?out|arret\w*(?: ca| les messages| les textos)?"
    r"|(?:me )?desabonn\w*(?: moi)?|desinscri\w*(?: moi)?)"
)
_OPT_OUT_WORD = re.compile(rf"{_ONE_OPT_OUT}(?: {_ONE_OPT_OUT})*")
_OPT_IN = re.compile(r"start|unstop|yes")
_HELP = re.compile(
    r"help(?: me)?|(?:more )?info\w*|aide|what (?:is|are) (?:this|these)(?: texts?| messages?| number)?"
    r"|who (?:is|s) (?:this|texting me)|c est quoi (?:ca|ces messages|ces textos)|qui (?:est ce|etes vous)"
)
_MESSAGES = (
    r"(?:text\w*|txt\w*|msg\w*|messag\w*|sms|remind\w*|e ?mail\w*|send\w*|sending|contact\w*|courriel\w*"
    r"|textos?|rappels?|envoy\w*|ecri\w*)"
)
_REQUEST = re.compile(
    r"\b(?:unsub\w*|desabonn\w*|desinscri\w*|opt ?out|(?:remove|take) me (?:off|from)|enleve\w* moi"
    r"|(?:take|remove|delete|retir\w*|enlev\w*|effac\w*) (?:me|my number|mon numero|moi|mon nom)"
    r"|off (?:your|the) (?:list|system)|de (?:votre|la) liste"
    rf"|(?:no more|plus de|please no|don t|do not|stop) {_MESSAGES}"
    rf"|(?:stop|quit|cease|arret\w*|ne plus|veux plus|want no more|don t want)(?: \w+){{0,3}} {_MESSAGES}\b)"
)
# Not the patient, or not wanting us: they are told how to stop, rather than stopped on a guess.
_NOT_FOR_ME = re.compile(
    r"\b(?:wrong (?:number|person|phone)|mauvais (?:numero|num)|leave me alone|laissez moi tranquille"
    r"|who (?:is|s) (?:this|that)|je ne vous connais pas|i don t know (?:you|who))\b"
)
# "don't stop", "ne pas arrêter", "keep them coming": not a request to stop.
_NEGATED_STOP = re.compile(
    r"\b(?:don t|do not|never|please don t|ne pas|pas|n|not|keep|continue\w*)(?: \w+){0,2} (?:stop|arret\w*|cancel)"
)
# Stopping something other than the messages: "when will the soreness stop", "stop the exercises".
_OTHER_STOP = re.compile(
    r"\b(?:stop\w*|arret\w*|cancel\w*) (?:\w+ ){0,2}(?:pain\w*|sore\w*|ache\w*|hurt\w*|bleed\w*"
    r"|exercis\w*|stretch\w*|workout|training|running|advil|ibuprofen|tylenol|meds?|medication\w*"
    r"|taking|douleur\w*|saign\w*|exercices?|etirements?|medicaments?|appointment\w*|rendez vous|rdv"
    r"|session\w*|treatment\w*|traitement\w*|the needles?|aiguilles?|de travail|work|job"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|lundi|mardi|mercredi|jeudi"
    r"|vendredi|samedi|dimanche|demain)\b"
    r"|\b(?:pain\w*|sore\w*|ache\w*|hurt\w*|bleed\w*|it|douleur\w*|saign\w*|ca|will|when|quand"
    r"|should|can|do|did|does|has|have|to|devrais|dois|peux)(?: \w+){0,2} (?:stop\w*|arret\w*|cancel\w*)\b"
)
_TIME_LIMITED = re.compile(
    r"\b(?:before|after|until|till|at night|in the morning|on weekends?|weekends?|early|late"
    r"|avant|apres|le soir|la nuit|le matin|la fin de semaine|tot|tard|\d+ ?(?:am|pm|h))\b"
)
_STOP_WORD = re.compile(r"\b(?:stop|arret|unsubscribe)\b")
# Asking how to stop is best answered by how to stop: "should I reply stop?"
_HOW_TO_STOP = re.compile(
    r"\b(?:reply|text|send|write|type|repond\w*|ecri\w*|envoy\w*) (?:\w+ )?(?:stop|arret)\b"
)


def core(words: str) -> str:
    """The reply's words without polite ones: "STOP please" -> "stop"."""
    return " ".join(_POLITE.sub(" ", words).split())


def asks_to_opt_out(words: str, core_words: str) -> bool:
    """An unmistakable request to stop the messages."""
    if _OPT_OUT_WORD.fullmatch(core_words):
        return True
    request = _REQUEST.search(words)
    return bool(request and not _NEGATED_STOP.search(words) and not _TIME_LIMITED.search(words))


def mentions_stop(words: str) -> bool:
    """STOP (or a like word) in a longer message, possibly meaning the texts: ask to confirm."""
    if _NOT_FOR_ME.search(words) or _HOW_TO_STOP.search(words):
        return True
    if not _STOP_WORD.search(words) or _NEGATED_STOP.search(words):
        return False
    return not _OTHER_STOP.search(words)


def asks_to_opt_in(core_words: str) -> bool:
    return bool(_OPT_IN.fullmatch(core_words))


_ABOUT_SERVICE = re.compile(
    r"\b(?:what|who|why|c est quoi|qui|pourquoi)\b(?: \w+){0,5} (?:texts?|messages?|service|textos?|sends? these"
    r"|getting these|recevoir ca|recois ca)\b"
)


def asks_for_help(core_words: str) -> bool:
    """HELP, INFO, AIDE, or a question about the text service itself ("what are these texts?")."""
    return bool(_HELP.fullmatch(core_words) or _ABOUT_SERVICE.search(core_words))
