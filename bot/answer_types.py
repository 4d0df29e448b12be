"""What kind of fact a question asks for (a date, an amount, a phone number…), and which kinds a sentence holds.

Questions are typed from their question words, in English and Spanish; sentences from the libraries made for each
kind of fact (phonenumbers for telephone numbers, dateparser's month and weekday names for dates) and from
general notation (currency signs, clock times, e-mail addresses). Nothing here is about any one topic."""

import re
from functools import lru_cache

import phonenumbers

from bot.text import fold

# Question cues per kind, English and Spanish, matched on the folded (lower-case, accent-free) question. A question
# word says what is asked ("how much will the longer hours cost" asks an amount); a noun only names what the question
# is about, so it decides the kind only when no question word does ("the library hours?").
ASKING: dict[str, tuple[str, ...]] = {
    "hours": (r"\bwhat time\b", r"\bwhen (?:is|are|does|do) .*\b(?:open|close)", r"\ba que hora\b"),
    # "who do I call" asks for a number before "who" asks for a person.
    "phone": (
        r"\b(?:what|which)(?:'s| is)? (?:the )?(?:phone )?number\b",
        r"\b(?:who|what|which|where)\b.{0,30}\bcall\b",
        r"\bnumero de\b",
        r"\b(?:a quien|que numero|donde)\b.{0,30}\bllam(?:o|ar|amos)\b",
    ),
    "email": (),
    "duration": (
        r"\bhow long\b",
        r"\bhow many (?:days|weeks|months|years|hours)\b",
        r"\bcuanto tiempo\b",
        r"\bcuantos (?:dias|meses|anos|semanas|horas)\b",
    ),
    "money": (r"\bhow much\b", r"\bcuanto (?:cuesta|cobra|paga|es la multa|dinero)"),
    "address": (r"\bwhere\b", r"\bdonde\b"),
    "date": (
        r"^\W*(?:(?:and|so|but|then|ok|y)\s+)?when\b",
        r"\b(?:what|which) (?:dates?|days?|years?|months?)\b",
        r"\bcuando\b",
        r"\bque (?:fecha|dia)\b",
    ),
    "person": (r"^\W*(?:and |so )?who\b", r"\bwho (?:is|was|said|signed|voted|wrote)\b", r"\bquien(?:es)?\b"),
    "number": (r"\bhow many\b", r"\bcuant[oa]s\b"),
}
NAMING: dict[str, tuple[str, ...]] = {
    "hours": (r"\bhours\b", r"\bopen (?:on|at|until)\b", r"\bhorarios?\b", r"\babre\b", r"\bcierra\b"),
    "phone": (r"\bphone\b", r"\bcall\b", r"\bnumber (?:for|of|to)\b", r"\btelefono\b", r"\bllamar\b"),
    "email": (r"\be-?mail\b", r"\bcorreo\b"),
    "duration": (r"\bdeadline\b", r"\bplazo\b", r"\bfecha limite\b"),
    "money": (
        r"\bcost",
        r"\bfee",
        r"\bfine[sd]?\b",
        r"\bprice\b",
        r"\bpay\b(?![\s-]*(?:stubs?|checks?|slips?|roll)\b)",  # "pay stubs" are papers, not a price
        r"\bcharge",
        r"\bpenalt",
        r"\bcuesta\b",
        r"\bcobra",
        r"\bmulta",
        r"\bprecio\b",
        r"\bdinero\b",
    ),
    "address": (r"\baddress\b", r"\bdireccion\b", r"\blocated\b", r"\bubicad"),
    "date": (r"\b(?:start|begin|take effect|effective)\b", r"\bempieza\b", r"\bentra en vigor\b", r"\bfecha\b"),
    "person": (),
    "number": (),
}
# "when does it start" asks for a date; "what time" for hours: the more specific kind wins.
PRIORITY = ("hours", "phone", "email", "duration", "money", "address", "date", "person", "number")

MONEY = re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s*(?:dollars?|d[oó]lares|cents?|centavos|pesos|euros?|USD)\b", re.I)
CLOCK = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s*(?:a\.?\s?m\.?|p\.?\s?m\.?)|\b\d{1,2}:\d{2}\b|\bnoon\b|\bmediod[ií]a\b", re.I
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
DURATION = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty|sixty|ninety|"
    r"un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|quince|veinte|treinta|noventa)[\s-]+"
    r"(?:(?:calendar|business|working|h[aá]biles|calendario)\s+)?"
    r"(?:days?|weeks?|months?|years?|hours?|minutes?|d[ií]as|semanas?|meses|mes|a[nñ]os?|horas?|minutos?)\b",
    re.I,
)
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# A street with or without its number ("300 Linden Street", "the lot on Water Street").
STREET = re.compile(
    r"\b(?:\d{1,5}\s+)?(?:[A-Z][\w.]*\s+){1,4}(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Drive|Dr\.?|"
    r"Way|Place|Plaza|Square)\b|\b(?:calle|avenida|Calle|Avenida)\s+\w+|\b(?:Suite|Room|Floor|piso|oficina)\s+\w+",
)
PERSON = re.compile(r"\b[A-Z][a-zá-ú]+(?:[- ][A-Z][a-zá-ú]+)+\b")
NUMBER = re.compile(r"\b\d[\d,.]*\b")
# Each notation and the kinds of fact it shows.
NOTATIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (YEAR, ("date",)),
    (CLOCK, ("hours",)),
    (MONEY, ("money",)),
    (DURATION, ("duration",)),
    (EMAIL, ("email", "address")),
    (STREET, ("address",)),
    (PERSON, ("person",)),
    (NUMBER, ("number",)),
)


@lru_cache(maxsize=1)
def _month_and_day_names() -> re.Pattern[str]:
    """Month and weekday names in English and Spanish, from dateparser's language data."""
    from dateparser.languages.loader import default_loader

    names: set[str] = set()
    for code in ("en", "es"):
        info = default_loader.get_locale(code).info
        for key in (
            "january february march april may june july august september october november december monday tuesday "
            "wednesday thursday friday saturday sunday"
        ).split():
            names.update(fold(n) for n in info.get(key, []) if len(n) > 3 and n.isalpha())
    names -= {"marzo", "mayo", "march", "may"}  # also everyday words ("may", "march"); taken with a number below
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    # A day number beside its month ("April 22", "7 de abril") is part of the date, not a count.
    return re.compile(
        rf"\b(?:\d{{1,2}}\s+de\s+)?(?:{alternatives})\b(?:\s+\d{{1,2}}(?:st|nd|rd|th)?\b)?|"
        r"\b(?:march|may|marzo|mayo)\s+\d{1,2}\b|\b\d{1,2}\s+de\s+(?:marzo|mayo)\b|"
        r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b"
    )


def question_kind(question: str) -> str | None:
    """The one kind of fact a question asks for, or None for an open question."""
    folded = fold(question)
    for cues in (ASKING, NAMING):
        for kind in PRIORITY:
            if any(re.search(cue, folded) for cue in cues[kind]):
                return kind
    return None


def _phones(sentence: str) -> list[str]:
    matcher = phonenumbers.PhoneNumberMatcher(sentence, "US", leniency=phonenumbers.Leniency.POSSIBLE)
    return [m.raw_string for m in matcher]


@lru_cache(maxsize=65536)
def sentence_kinds(sentence: str) -> frozenset[str]:
    """Every kind of fact a sentence holds (cached: the corpus's sentences recur in every answer)."""
    kinds = {kind for pattern, found in NOTATIONS for kind in found if pattern.search(sentence)}
    folded = fold(sentence)
    dates = _month_and_day_names()
    if dates.search(folded):
        kinds.add("date")
    phones = _phones(sentence)
    if phones:
        kinds.add("phone")
    # A count is a number that is not part of a date, a year, a clock time, a length of time or a phone number:
    # "how many" is not answered by "March 5, 2026", and "how many people" not by "32 hours a week" ("how many
    # hours" asks for a duration).
    rest = folded
    for phone in phones:
        rest = rest.replace(fold(phone), " ")
    for pattern in (dates, YEAR, CLOCK, DURATION):
        rest = pattern.sub(" ", rest)
    if not NUMBER.search(rest):
        kinds.discard("number")
    return frozenset(kinds)


# What a sentence of each kind can answer: a deadline question is answered by a duration or a date.
ANSWERED_BY: dict[str, frozenset[str]] = {
    "hours": frozenset({"hours"}),
    "phone": frozenset({"phone"}),
    "email": frozenset({"email"}),
    "address": frozenset({"address"}),
    "money": frozenset({"money"}),
    "duration": frozenset({"duration", "date"}),
    "date": frozenset({"date"}),
    "person": frozenset({"person"}),
    "number": frozenset({"number", "money"}),
}


def answers_kind(kind: str | None, kinds: frozenset[str]) -> bool:
    """Whether a sentence holding these kinds can answer a question asking for this kind."""
    return kind is None or bool(ANSWERED_BY[kind] & kinds)
