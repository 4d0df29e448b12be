"""Shared text handling: normalization, word tokens, stems, stop words and sentence splitting."""

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W_]+(?:['’%-][^\W_]+)*%?", re.UNICODE)
# Control and zero-width characters break tokenizing and display; they carry no meaning in a question. A lone
# surrogate (which JSON can carry from a browser) is not a character at all, and no UTF-8 encoder accepts it.
INVISIBLE = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff]"
)

STOPWORDS_EN = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves let lets let's tell say says said
    know want need please thanks thank hi hello hey ok okay yes yeah really actually exactly anything something
    thing things get got gonna wanna like just im i'm u ur r pls plz thx whats what's is it's dont don't doesnt
    doesn't cant can't isnt isn't wont won't any anyone someone people person""".split()
)
STOPWORDS_ES = frozenset(
    """a al algo alguien algún alguna algunas alguno algunos ante antes cada como con contra cual cuales cuando de del
    desde donde dos el ella ellas ellos en entre era es esa esas ese eso esos esta estas este esto estos está están
    fue fueron ha han hay la las le les lo los más me mi mis mucho muy nada ni no nos nosotros o para pero por
    porque qué que quien quienes se sea ser si sí sin sobre son su sus también te tiene tienen toda todas todo todos
    tu tus un una uno unos unas usted ustedes y ya yo hola gracias por favor cómo dónde cuándo cuál cuáles cuánto
    cuánta cuántos cuántas""".split()
)
STOPWORDS = STOPWORDS_EN | STOPWORDS_ES

_stemmers = {"en": snowballstemmer.stemmer("english"), "es": snowballstemmer.stemmer("spanish")}

ABBREVIATIONS = frozenset(
    """mr mrs ms dr gov sen rep st jr sr no vs etc u.s e.g i.e prof dept ave blvd rd tel ext
    jan feb mar apr jun jul aug sep sept oct nov dec
    dra sra srta sres lic ing av avda ud uds núm pág""".split()
)


def clean(text: str) -> str:
    """NFC-normalize, drop control and zero-width characters, collapse whitespace."""
    text = unicodedata.normalize("NFC", text)
    text = INVISIBLE.sub(" ", text)
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower-case and strip accents, so 'Policía' and 'policia' compare equal."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Folded word tokens of a text, keeping numbers like '15%'."""
    return [fold(w) for w in WORD.findall(text)]


@lru_cache(maxsize=65536)
def stem(word: str, language: str = "en") -> str:
    """The Snowball stem of a folded word."""
    return str(_stemmers.get(language, _stemmers["en"]).stemWord(word))


def content_words(text: str) -> list[str]:
    """Folded tokens that carry meaning: no stop words (contracted ones included), no one-letter tokens."""
    folded_stops = _folded_stopwords()
    return [w for w in words(text) if not _is_stopword(w, folded_stops) and (len(w) > 1 or w.isdigit())]


CLITICS = frozenset({"s", "re", "ve", "ll", "d", "m"})


def _is_stopword(word: str, stops: frozenset[str]) -> bool:
    """A stop word, or one contracted with another ("who's", "hasn't", "they're", "y'all")."""
    if word in stops:
        return True
    if word.endswith("n't"):
        return word[:-3] in stops
    head, _, tail = word.partition("'")
    # Both halves count, so a name ("O'Brien") is no contraction of the Spanish "o".
    return bool(tail) and head in stops and (tail in CLITICS or tail in stops)


@lru_cache(maxsize=1)
def _folded_stopwords() -> frozenset[str]:
    return frozenset(fold(w) for w in STOPWORDS) | QUESTION_FILLER


def terms(text: str) -> list[str]:
    """Stemmed content words: the unit of lexical matching."""
    return [stem(w) for w in content_words(text)]


def _ends_sentence(text: str, i: int) -> bool:
    """Whether the stop at text[i] ends a sentence (not an abbreviation or a decimal)."""
    if text[i] != ".":
        return True
    start = i
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    if _abbreviation(text[start:i]):
        return False
    return not (i + 1 < len(text) and text[i + 1].isdigit())


def _abbreviation(token: str) -> bool:
    """Whether a word before a full stop is an abbreviation ("Dr", "p.m", "U.S") or an initial ("J")."""
    token = token.lower().strip("“\"'(")
    return token in ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def ends_with_abbreviation(sentence: str) -> bool:
    """Whether a sentence's closing full stop belongs to an abbreviation ("4:30 p.m.", "U.S.", "etc."): it is part
    of the word and stays with it."""
    head = sentence[:-1]
    # A lone stop, or one set apart by a space, follows no word.
    if not sentence.endswith(".") or head.endswith(".") or not head or head[-1].isspace():
        return False
    word = head.rsplit(None, 1)[-1]
    token = word.lower().strip("“\"'(")
    # Letters between stops ("p.m", "u.s", "ee.uu"), not an address ("meals@city.org") whose stop ends the sentence;
    # "no" is in the list for "No. 5", but at the end of a sentence it is the word.
    dotted = "." in token and all(1 <= len(piece) <= 2 and piece.isalpha() for piece in token.split("."))
    return dotted or (token != "no" and _abbreviation(word))


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph; a quotation stays whole with its attribution."""
    out: list[str] = []
    start, depth, i = 0, 0, 0
    straight_open = False
    while i < len(paragraph):
        ch = paragraph[i]
        if ch == "“":
            depth += 1
        elif ch == "”":
            depth = max(0, depth - 1)
        elif ch == '"':
            straight_open = not straight_open
        elif ch in ".!?" and depth == 0 and not straight_open and _ends_sentence(paragraph, i):
            j = i + 1
            while j < len(paragraph) and paragraph[j] in '"”’)':
                j += 1
            if j >= len(paragraph) or (paragraph[j].isspace() and _starts_sentence(paragraph, j)):
                out.append(paragraph[start:j].strip())
                start = j
                i = j
                continue
        i += 1
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def _starts_sentence(text: str, j: int) -> bool:
    rest = text[j:].lstrip()
    return bool(rest) and (rest[0].isupper() or rest[0] in "“\"'¿¡(" or rest[0].isdigit())


# Words that frame a question rather than name its subject; a question is not "about" them.
QUESTION_FILLER = frozenset(
    fold(w)
    for w in """completely even still anymore ever currently totally why'd how'd what'd who'd where'd
    explain mean means happen happens happening info information details detail new latest basically
    going able
    allowed supposed figure figures number numbers stat stats statistic talk talking regarding concerning deal stuff
    exactly actually whole claim claims claimed allege alleges alleged argue argues argued assert asserts asserted
    think thinks thought reckon believe believes opinion make makes making come comes coming came go goes went gone
    summarize summarise summary overview gist tldr resumen resume resumir
    significa pasa pasando información informacion nuevo nueva explica explicar saber quiero puede pueden dijo dijeron
    dice dicen decir opina opino comento afirma afirmo reclama hace hacen hacer haciendo va van vamos voy ir""".split()
)
