"""Make extracted sentences stand alone without losing who said what: resolve leading pronouns to the
speaker or the document's subject, and turn quotations into attributed, trimmed quotes."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.records import Passage
from bot.text import STOPWORDS, split_sentences, terms

SPEECH = r"(?:said|says|warned|told|added|stated|noted|explained|argued|wrote|announced|claimed)"
SPEECH_ES = (
    r"(?:dijo|afirmó|agregó|añadió|advirtió|explicó|señaló|aseguró|indicó|comentó|declaró|sostuvo|criticó|insistió|"
    r"reconoció|respondió|contestó|subrayó|destacó|argumentó)"
)
UPPER, LOWER = "A-ZÁÉÍÓÚÑ", "a-záéíóúñü"
NAME = rf"[{UPPER}][{LOWER}]+(?:-[{UPPER}][{LOWER}]+)?"  # "Okafor", "Estrada-Lin", "Barrón-Duarte" (never "Lin")
SPEAKER_BEFORE_VERB = re.compile(rf"(?<![-\w])({NAME})\s+(?:{SPEECH}|{SPEECH_ES})\b")
# "Marisol Tejeda, director of the Renters Alliance, warned…", "El concejal Tomás Echeverry Salcedo, del Distrito 4,
# criticó…": a full name, an aside between commas, a verb of speaking.
SPEAKER_BEFORE_ASIDE = re.compile(
    rf"(?:^|[.!?]\s+|\b(?:[Ee]l|[Ll]a|[Tt]he)\s+[{LOWER}]+\s+)((?:{NAME}\s+){{1,2}}{NAME}),\s+[^,;“”\"«»]{{2,90}},\s+"
    rf"(?:{SPEECH}|{SPEECH_ES})\b"
)
# Spanish names the speaker after the quote and the verb: "…", dijo la concejala Marisela Quintanar; "…", afirmó.
QUOTE_ES = re.compile(rf"^[“\"«](?P<quote>.+?)[”\"»]\s*,?\s*(?P<verb>{SPEECH_ES})\b(?P<rest>.*?)\s*\.?\s*$")
SPEAKER_AFTER_QUOTE = re.compile(
    rf"[”\"»],?\s*{SPEECH_ES}\s+(?:(?:el|la)\s+[{LOWER}]+(?:\s+(?:del|de la|de)\s+[{LOWER}]+)?,?\s+)?"
    rf"((?:{NAME}\s+){{0,2}}{NAME})"
)
UNNAMED_SPEECH_ES = re.compile(rf"[”\"»],?\s*{SPEECH_ES}\s*\.?\s*$")
# What follows a person's name in a report: a verb of speaking or acting, a clause, or punctuation. A capitalized pair
# followed by any other lowercase word is a name used as a modifier ("White House spokeswoman", "Millrace Creek
# culverts"), not a person.
PERSON_NEXT = re.compile(
    rf"\s*(?:[,.;:)]|$)|\s+(?:{SPEECH}|who|whose|and|asked|answered|told|voted|joined|disputed|proposed|criticized|"
    r"called|urged|agreed|replied|responded|countered|acknowledged|insisted|testified|accused|praised|questioned|"
    r"signed|has|had|was|is|will|would|did|does|also)\b"
)
QUOTE = re.compile(
    rf"^[“\"](?P<quote>.+?)[”\"]\s*,?\s*(?P<who>[A-Za-z]+(?:-[A-Z][a-z]+)?(?:\s+{NAME})*)\s+(?P<verb>{SPEECH})"
    r"(?P<rest>.*?)\s*\.?\s*$"
)
FULL_NAME = re.compile(rf"\b([{UPPER}][{LOWER}]+)\s+({NAME})\b(?!\s+[{UPPER}])")
LEADING_PRONOUN = re.compile(r"^(He|She|They|It)\b\s*")
# "…," she added / "…, he said, and…": reported speech whose speaker only the sentences before it name.
PRONOUN_SPEECH = re.compile(
    rf"\b(?:[Hh]e|[Ss]he|[Tt]hey)\s+(?:also\s+)?(?:{SPEECH}|asked|criticized|replied|urged|faulted|disputed|questioned|"
    r"insisted|countered|acknowledged|accused|praised)\b"
)
CONTRAST = re.compile(r"^(?:However|But|Yet|Still|Sin embargo|Pero)\b")
# "To date, no such actions have occurred": a sentence that points back at the one before it means nothing alone.
REFERS_BACK = re.compile(r"^(?:This|That|These|Those)\b|^(?:\S+\s+){0,4}(?:such|these|those)\b")
MAX_QUOTE_WORDS = 30
MAX_QUOTE_SENTENCES = 2


@dataclass(frozen=True)
class Unit:
    """One sentence of a passage, with a stand-alone rendering and the stems it can be matched on."""

    passage: Passage
    index: int
    text: str
    speaker: str | None = None
    quote: tuple[str, ...] = ()
    attribution: str = ""
    subject_form: str = ""

    @property
    def key(self) -> tuple[str, int]:
        """Where the sentence sits: passage id and sentence number."""
        return (self.passage.id, self.index)

    @property
    def contrasts(self) -> bool:
        """Whether the sentence answers the one before it ("However, …")."""
        return bool(CONTRAST.match(self.text))

    @property
    def refers_back(self) -> bool:
        """Whether the sentence points back at the one before it ("no such actions", "These steps")."""
        return not self.quote and bool(REFERS_BACK.match(self.text))

    @property
    def unnamed_speaker(self) -> bool:
        """Whether the sentence reports speech by "he", "she" or "they" that could not be resolved to a name: it
        reads as said by whoever an answer names just before it."""
        return self.speaker is None and bool(PRONOUN_SPEECH.search(self.text) or UNNAMED_SPEECH_ES.search(self.text))

    def stems(self) -> frozenset[str]:
        """Stems of the sentence and of its resolved speaker, so 'What did the White House say' finds 'She said'."""
        return frozenset(terms(self.text) + terms(self.speaker or ""))


class DocumentSpeakers:
    """Who speaks in one document, and how the document first introduces them."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.sentences = [(p.n, s) for p in sorted(passages, key=lambda p: p.n) for s in split_sentences(p.text)]
        spanish = any(p.language == "es" for p in passages)
        surnames = {m.group(1) for _, s in self.sentences for m in SPEAKER_BEFORE_VERB.finditer(s)}
        for _, sentence in self.sentences:
            for pattern in (SPEAKER_BEFORE_ASIDE, SPEAKER_AFTER_QUOTE):
                surnames.update(surname(m.group(1), spanish) for m in pattern.finditer(sentence))
        self.surnames = {n for n in surnames if n.lower() not in STOPWORDS}
        self.descriptors = {n: self._describe(n) for n in self.surnames}

    def _describe(self, surname: str) -> str:
        listed = surname
        for _, sentence in self.sentences:
            match = re.search(rf"\b{surname}\b", sentence)
            if not match:
                continue
            # In a list of names ("Council Members Ray Castellano and Thomas Whitcombe") the title is everyone's:
            # only the first name is this person's.
            if re.match(r",?\s+(?:and\s+)?[A-Z]|,\s*[A-Z]", sentence[match.end() :]):
                first = sentence[: match.start()].split()[-1:]
                if listed == surname and first and first[0][0].isupper() and first[0].isalpha():
                    listed = f"{first[0]} {surname}"
                continue
            before = sentence[: match.start()].split()
            kept: list[str] = []
            lower_used = False
            for i in range(len(before) - 1, -1, -1):
                tok = before[i]
                if tok[-1] in ",;:.(" or tok.lower() in STOPWORDS:
                    break
                if tok[0].isupper():
                    kept.insert(0, tok)
                elif not lower_used and kept and i > 0 and before[i - 1][0].isupper():
                    kept.insert(0, tok)  # a role between capitalized words: "City Hall spokeswoman Dana"
                    lower_used = True
                else:
                    break
            return " ".join([*kept, surname]) if kept else listed
        return listed

    def speaker_before(self, n: int, index: int) -> str | None:
        """Who "he" or "she" in sentence `index` of paragraph `n` is, when that is certain: the one speaker named in
        that sentence or the one just before it, with no other person named there. Anything else leaves the
        sentence unattributed: a wrong name is worse than none."""
        position = next((i for i, (pn, _) in enumerate(self.sentences) if pn == n), 0) + index
        for _, sentence in reversed(self.sentences[max(0, position - 1) : position + 1]):
            speakers = {name for name in self.surnames if re.search(rf"\b{name}\b", sentence)}
            # Others named there who never speak by name ("Council Member Marcus Dell, who…") make it uncertain;
            # they are never the answer themselves, since a place can look like a name ("Quarry Road is…").
            others = {
                m.group(2)
                for m in FULL_NAME.finditer(sentence)
                if not {m.group(1), m.group(2)} & self.surnames and PERSON_NEXT.match(sentence, m.end())
            }
            if speakers or others:
                return speakers.pop() if len(speakers) == 1 and not others else None
        return None


def units_of(passage: Passage, speakers: DocumentSpeakers) -> list[Unit]:
    """The sentences of a passage as Units, with speakers resolved and quotations parsed."""
    units = []
    for i, sentence in enumerate(split_sentences(passage.text)):
        speaker: str | None = None
        quote: tuple[str, ...] = ()
        attribution = ""
        match = QUOTE.match(sentence)
        spanish = QUOTE_ES.match(sentence) if match is None else None
        if match:
            who = match.group("who")
            speaker = who if who in speakers.surnames else speakers.speaker_before(passage.n, i)
            quote = tuple(split_sentences(match.group("quote")))
            attribution = f"{match.group('verb')}{match.group('rest').rstrip(' .')}"
        elif spanish:
            quote = tuple(split_sentences(spanish.group("quote")))
            named = SPEAKER_AFTER_QUOTE.search(sentence)
            if named is None:
                speaker = speakers.speaker_before(passage.n, i)
                attribution = spanish.group("verb")  # "…", afirmó: the name goes in when it is certain
            else:  # the sentence names its speaker itself, and reads as written
                key = surname(named.group(1), passage.language == "es")
                speaker = key if key in speakers.surnames else None
        else:
            lead = LEADING_PRONOUN.match(sentence)
            if lead and lead.group(1) in ("He", "She"):
                speaker = speakers.speaker_before(passage.n, i)
            else:
                first = sentence.split(" ", 1)[0]
                if first in speakers.surnames:
                    speaker = first
        units.append(
            Unit(passage=passage, index=i, text=sentence, speaker=speaker, quote=quote, attribution=attribution)
        )
    return units


def surname(name: str, spanish: bool) -> str:
    """The part of a full name a report goes on to use: the last word, or in Spanish the first surname of three
    words ("Tomás Echeverry Salcedo" is then "Echeverry")."""
    parts = name.split()
    return parts[1] if spanish and len(parts) == 3 else parts[-1]


def render(unit: Unit, speakers: DocumentSpeakers, introduced: set[str], relevant: frozenset[str]) -> str:
    """The sentence as it reads on its own in an answer; quotes trimmed to the relevant lines."""
    who = ""
    if unit.speaker:
        who = unit.speaker if unit.speaker in introduced else speakers.descriptors.get(unit.speaker, unit.speaker)
        introduced.add(unit.speaker)
    if unit.quote and (not who or not unit.attribution):
        # Whose words these are is not certain, or the sentence says it itself: as the source wrote it.
        return unit.text
    if unit.quote:
        return f"{who} {unit.attribution}: “{_trim_quote(unit.quote, relevant)}”"
    text = unit.text
    lead = LEADING_PRONOUN.match(text)
    if lead and lead.group(1) in ("He", "She") and who:
        return who + " " + text[lead.end() :]
    if lead and lead.group(1) == "It" and unit.passage.subject:
        return unit.passage.subject + " " + text[lead.end() :]
    if unit.speaker and text.startswith(unit.speaker + " ") and who != unit.speaker:
        return who + text[len(unit.speaker) :]
    return text


def _trim_quote(sentences: tuple[str, ...], relevant: frozenset[str]) -> str:
    """Keep a short quote whole; cut a long one to its relevant sentences, marking each cut with '…'."""
    if sum(len(s.split()) for s in sentences) <= MAX_QUOTE_WORDS:
        keep = list(range(len(sentences)))
    else:
        overlap = [(len(set(terms(s)) & relevant), i) for i, s in enumerate(sentences)]
        keep = sorted(i for o, i in sorted(overlap, reverse=True)[:MAX_QUOTE_SENTENCES] if o) or [0]
    parts: list[str] = []
    for j, i in enumerate(keep):
        if j == 0 and i > 0 or j > 0 and i != keep[j - 1] + 1:
            parts.append("…")
        parts.append(re.sub(r"[,;:]$", ".", sentences[i].strip()))
    if keep[-1] < len(sentences) - 1:
        parts.append("…")
    return " ".join(parts)
