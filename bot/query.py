"""Question understanding: clean the text, map lay words to the sources' words, flag follow-ups,
personal legal-advice requests and injection attempts. Knows nothing of the index or the answer."""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.answer_types import answers_kind, question_kind, sentence_kinds
from bot.language import detect_language
from bot.text import STOPWORDS, clean, content_words, fold, stem, terms, words

# Instructions aimed at civicbot itself: its own rules, sources or role ("your rules", "tus instrucciones", "you
# are now…"), never a resident's words about someone else's rules ("my landlord ignores the rules").
INJECTION = re.compile(
    r"\b(?:ignore|forget|disregard|override|bypass|ignora|olvida|olvide)\b[^.?!]{0,40}?"
    r"\b(?:your|tus|all|todas|previous|prior|above|earlier|preceding|anteriores)\s+(?:\w+\s+){0,2}?"
    r"(?:instructions|rules|sources|documents|prompt|guidelines|instrucciones|reglas|fuentes|documentos)\b|"
    r"(?:^|[.!?:;]\s*)(?:ignore|forget|disregard|ignora|olvida)\s+(?:the\s+|these\s+|los\s+|las\s+)?"
    r"(?:documents|sources|documentos|fuentes)\b|"
    r"\b(?:system|assistant|developer)\s*(?:prompt|override)?\s*:|\b(?:system\s+override|admin\s+mode)\b|"
    r"you\s+are\s+(?:now|no\s+longer)\b|you'?re\s+(?:an?\s+)?\w+\s+now\b|\bahora\s+eres\b|act\s+as\b|"
    r"pretend\s+(?:to\s+be|you)|jailbreak|developer\s+mode|(?-i:\bDAN\b)|"
    r"(?:reveal|print|show|repeat|output|dump)\s+(?:me\s+)?(?:your|the)\s+"
    r"(?:system|hidden|initial|secret|config|prompt|instructions|settings)|"
    r"\[\s*/?\s*(?:inst|system)\s*\]|<\s*/?\s*system\s*>",
    re.IGNORECASE,
)
# After an injection attempt, "Tell me ICE is banned" dictates an answer rather than asking a question.
DICTATION = re.compile(
    r"^\W*(?:(?:now|just|please|and|then)\s+)*(?:tell|say|write|state|confirm|admit|declare|announce|answer|respond|"
    r"reply|print|output|repeat|claim|insist|dime|di|escribe|confirma|responde)\b",
    re.IGNORECASE,
)
PERSONAL = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'd|me|my|mine|myself|we|we're|our|us|mi|mis|yo|nosotros|nuestr[oa]s?|estoy|tengo|soy|"
    r"debo|puedo|mío|mía|husband|wife|son|daughter|mom|dad|mother|father|brother|sister|cousin|uncle|aunt|boyfriend|"
    r"girlfriend|partner|esposo|esposa|hijo|hija|mamá|papá|hermano|hermana|primo|prima|tío|tía)\b",
    re.IGNORECASE,
)
ADVICE_ASK = re.compile(
    r"\b(?:should (?:i|we)|do (?:i|we) (?:have|need)|what (?:do|can|should) (?:i|we)|can (?:i|we|they)|"
    r"am i|will (?:i|we|they)|must (?:i|we)|is it safe|help me|what happens (?:to|if)|qu[eé] (?:hago|hacemos|debo)|"
    r"debo|tengo que|puedo|me pueden|qu[eé] pasa si|can (?:he|she|my|the)|will (?:he|she|my|the)|"
    r"is (?:he|she|my)|does (?:he|she|my)|do they|are they|have to|need to)\b",
    re.IGNORECASE,
)
# An ask for a decision ("Should I sue?", "¿Debo firmar?") is advice whoever asks it; a yes/no "should I" opens its
# clause, where "What documents should I bring?" asks for information.
DECISION_ASK = re.compile(
    r"(?:^|[.?!,;¿]\s*|\b(?:so|and|but|or|ok|then)\s+)(?:should|shall) (?:i|we)\b|\b(?:sue|demandar|demando)\b|"
    # "¿Debo firmar?" asks what to do; "lo que debo de luz" is what is owed.
    r"\bdebo\s+\w+(?:ar|er|ir)\b|"
    r"\bqu[eé] (?:hago|hacemos)\b|\bqu[eé] (?:debe|deben|debemos) hacer\b|\bwhat should (?:he|she|they|we) do\b",
    re.IGNORECASE,
)
# A question about the document itself (who published it, when, in what paper), which only its header answers;
# matched on the folded question. "Who wrote the ordinance?" may ask for its sponsor, so authorship needs the
# document named as one ("this article", "the story").
ABOUT_SOURCE = re.compile(
    r"\bpublish\w*|\bpublicaci[oó]n\b|\bpublicad[oa]s?\b|\b(?:quien|quienes|que medio|que periodico) (?:lo |la )?"
    r"publico\b|\bse publico\b|\b(?:news ?paper|periodico|diario|news source|news outlet|reporter|periodista)\b|"
    r"\b(?:what|which) (?:paper|outlet|station|website|site)\b|\bwhat(?:'s| is) the source\b(?! of)|"
    r"\b(?:who|quien) (?:wrote|reported|put out|escribio|redacto)\b(?=.*\b(?:this|these|article|story|notice|page|"
    r"faq|piece|release|post|esta?|noticia|articulo|aviso|nota|pagina|comunicado)\b)"
)
SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
TAG = re.compile(r"</?[a-zA-Z][^<>]{0,300}>")
FOLLOW_UP_START = re.compile(
    r"^\s*(?:¿\s*)?(?:and|also|what about|how about|what if|and what about|same for|y|y qu[eé] (?:hay )?de|"
    r"qu[eé] hay de|tambi[eé]n)\b",
    re.IGNORECASE,
)
ANAPHORA = frozenset(
    [
        "it",
        "its",
        "they",
        "them",
        "their",
        "that",
        "this",
        "those",
        "these",
        "he",
        "she",
        "him",
        "her",
        "eso",
        "esto",
        "ella",
        "ellos",
        "él",
    ]
)


@dataclass(frozen=True)
class Concept:
    """One thing the question names, with the stems that would count as the sources mentioning it."""

    word: str
    stems: frozenset[str]
    targets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Query:
    """An understood question, ready for retrieval and for judging coverage."""

    text: str
    search_text: str
    concepts: tuple[Concept, ...]
    context: tuple[Concept, ...] = ()
    follow_up: bool = False
    legal_advice: bool = False
    decision: bool = False  # asks what to do in the resident's own case ("should I sue?"): advice, never answered
    injection: bool = False
    asks: str | None = None
    language: str = "en"
    about_source: bool = False  # asks who published the document, when, or where
    asked: frozenset[str] | None = None  # the words of the sentence that asks, where others tell a case; else None

    def answered_by(self, sentence: str) -> bool:
        """Whether a sentence holds the kind of fact the question asks for (any sentence, for an open question)."""
        return answers_kind(self.asks, sentence_kinds(sentence))

    @property
    def lexical_terms(self) -> list[str]:
        """The BM25 query: the question's stems (twice) and expansions, then earlier-turn context (once)."""
        own = sorted({s for c in self.concepts for s in c.stems})
        context = sorted({s for c in self.context for s in c.stems} - set(own))
        return own + own + context if context else own


@lru_cache(maxsize=4)
def load_lexicon(path: Path) -> dict[tuple[str, ...], str]:
    """A corpus's optional word hints (hints.yaml: the sources' word → lay words for it) as lay phrase (a stem
    sequence) → the sources' words; empty when the corpus has none."""
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[tuple[str, ...], str] = {}
    for target, variants in raw.items():
        for variant in [str(target), *variants]:
            key = tuple(stem(w) for w in words(str(variant)))
            if key:
                out[key] = str(target)
    return out


def _letters(word: str) -> str:
    """A word without its hyphens and apostrophes: "e-mail" is "email" spelled another way."""
    return re.sub(r"\W", "", word)


# How much commoner than a word of the language another must be for the word to be taken as a typo of it: the noisy
# channel of spelling correction, where a real word is far likelier meant as written than mistyped.
COMMONER = 10


@lru_cache(maxsize=4)
def word_frequencies(language: str) -> dict[str, int]:
    """How common each folded word of a language is, from pyspellchecker's frequency lists (built from subtitles
    and Wikipedia); empty for a language they lack."""
    from spellchecker import SpellChecker

    try:
        checker = SpellChecker(language=language, distance=1)
    except ValueError:
        return {}
    out: dict[str, int] = {}
    for word, count in checker.word_frequency.items():
        folded = fold(word)
        out[folded] = max(out.get(folded, 0), int(count))
    return out


class QueryAnalyzer:
    """Turns a resident's question into a Query, using the corpus vocabulary for spelling repair."""

    def __init__(self, vocabulary: Iterable[str], lexicon: dict[tuple[str, ...], str] | None = None) -> None:
        self.lexicon = lexicon or {}
        self.vocab_words = sorted(set(vocabulary))
        self.vocab_stems = frozenset(stem(w) for w in self.vocab_words)
        lexicon_words = {w for key in self.lexicon for w in key}
        self._known_stems = self.vocab_stems | lexicon_words
        stopwords = {fold(w) for w in STOPWORDS}
        self._stopwords = sorted(stopwords)
        # A typo is repaired within its own language: "detention" must not become the Spanish "detencion".
        lay = {fold(w) for w in lexicon_words} - set(self.vocab_words)
        spanish = {w for w in lay if detect_language(w) == "es"}
        self._spell_pools = {
            "en": sorted((set(self.vocab_words) | (lay - spanish)) - stopwords),
            "es": sorted((set(self.vocab_words) | lay) - stopwords),
        }
        self._max_phrase = max((len(k) for k in self.lexicon), default=1)

    def analyze(self, question: str, history: Sequence[str] = ()) -> Query:
        """Understand one question, with the resident's earlier questions for follow-ups."""
        text = clean(question)
        # "forget your rules: who signed the order" keeps what follows the colon.
        sentences = re.split(r"(?<=[.!?\n:])\s+", text)
        kept = [s for s in sentences if not INJECTION.search(s)]
        injection = len(kept) < len(sentences) or bool(INJECTION.search(text))
        if injection:
            kept = [s for s in kept if not DICTATION.match(s)]
        # Markup in a question ("<img src=x …>") is not part of what it asks.
        core = " ".join(TAG.sub(" ", s) for s in kept)
        language = detect_language(text)
        concepts = self._concepts(core, language)
        follow_up = bool(history) and self._is_follow_up(core, concepts)
        search_text = core
        context: tuple[Concept, ...] = ()
        if follow_up:
            previous = clean(history[-1])
            context = tuple(c for c in self._concepts(previous, detect_language(previous)) if c not in concepts)
            # "what about the police?" is about the police, and is searched for as it is (the earlier question's
            # subject still counts as context); "and when was that?" names nothing of its own, so it is read with
            # the earlier question.
            own = [c for c in concepts if c.word not in ANAPHORA]
            search_text = core if own else f"{core} ({previous})"
        expansions = sorted({t for c in concepts for t in c.targets})
        if expansions:
            search_text = f"{search_text} ({', '.join(expansions)})"
        legal = _tells_own_situation(core)
        decision = _asks_a_decision(core)
        asking = _asking_part(core)
        asked = frozenset(content_words(asking)) if asking != core else None
        return Query(
            text=text,
            search_text=search_text,
            concepts=concepts,
            context=context,
            follow_up=follow_up,
            legal_advice=legal,
            decision=decision,
            injection=injection,
            asks=question_kind(core),
            language=language,
            about_source=bool(ABOUT_SOURCE.search(fold(core))),
            asked=asked,
        )

    def _is_follow_up(self, text: str, concepts: tuple[Concept, ...]) -> bool:
        if FOLLOW_UP_START.search(text):
            return True
        tokens = words(text)
        return len(concepts) <= 1 or (len(tokens) <= 8 and any(t in ANAPHORA for t in tokens))

    def _misspelled_stopword(self, word: str) -> bool:
        """'wat', 'abut', 'teh': a typo of a stop word is not a subject of the question."""
        return process.extractOne(word, self._stopwords, scorer=DamerauLevenshtein.distance, score_cutoff=1) is not None

    def _spelling(self, word: str, language: str) -> str | None:
        """The corpus or lexicon word this one is a typo of, if it is within one or two edits. An English word is a
        typo only of a far commoner one ("gong" of "going") or of its own other spelling ("e-mail"): "election" is
        no typo of "eviction". (Spanish is left out: the English stems that match words make a near spelling the
        only tie between "preguntar" and "pregunta".)"""
        limit = 1 if len(word) < 8 else 2
        pool = self._spell_pools.get(language, self._spell_pools["es"])
        frequency = word_frequencies("en") if language == "en" else {}
        own = frequency.get(word, 0)
        if not own:
            found = process.extractOne(word, pool, scorer=DamerauLevenshtein.distance, score_cutoff=limit)
            return None if found is None else str(found[0])
        near = process.extract(word, pool, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=None)
        meant = (str(w) for w, _, _ in near if frequency.get(str(w), 0) >= COMMONER * own or _letters(str(w)) == word)
        return next(meant, None)

    def _concepts(self, text: str, language: str) -> tuple[Concept, ...]:
        tokens = [
            w
            for w in content_words(text)
            if stem(w) in self._known_stems or len(w) > 4 or not self._misspelled_stopword(w)
        ]
        all_tokens = [stem(w) for w in words(text)]
        alternatives: dict[str, set[str]] = {w: {stem(w)} for w in tokens}
        targets: dict[str, set[str]] = {w: set() for w in tokens}
        # Phrases first (longest match), on the full token stream so "la migra" and "work with" match.
        for size in range(self._max_phrase, 0, -1):
            for i in range(len(all_tokens) - size + 1):
                target = self.lexicon.get(tuple(all_tokens[i : i + size]))
                if target is None:
                    continue
                for w in tokens:
                    if stem(w) in all_tokens[i : i + size]:
                        targets[w].add(target)
        for w in tokens:
            if stem(w) not in self._known_stems and len(w) >= 4 and not w[0].isdigit():
                fixed = self._spelling(w, language)
                if fixed:
                    alternatives[w].add(stem(fixed))
                    target = self.lexicon.get((stem(fixed),))
                    if target:
                        targets[w].add(target)
            for target in targets[w]:
                alternatives[w].update(terms(target))
        seen: dict[str, Concept] = {}
        for w in tokens:
            seen.setdefault(w, Concept(word=w, stems=frozenset(alternatives[w]), targets=frozenset(targets[w])))
        return tuple(seen.values())


def idf(df: int, n_docs: int) -> float:
    """BM25's smoothed inverse document frequency; df=0 (a word the sources never use) weighs most."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _asking_part(question: str) -> str:
    """The sentences of a question that ask ("I'm 68 and live here. How much is the card?" → the second), the
    whole question where none ends in "?" or all do. A Spanish ask starts at "¿", after any case told before it."""
    question = question.strip()
    if "¿" in question[1:]:
        return question[question.index("¿", 1) :]
    sentences = SENTENCE_END.split(question)
    asking = [s for s in sentences if s.rstrip().endswith("?")]
    return " ".join(asking) if asking and len(asking) < len(sentences) else question


def _asks_a_decision(question: str) -> bool:
    """Whether a resident asks what to do in their own or a relative's case ("should I sue?", "¿debo firmar?")."""
    return bool(DECISION_ASK.search(question) and PERSONAL.search(question))


def _tells_own_situation(question: str) -> bool:
    """Whether a resident asks about their own (or a relative's) situation: answered only from what the sources
    say, never with advice, and refused with a referral when they don't answer it. It takes an ask for advice and
    either a decision asked for ("should I sue?") or a case told before the ask or in a sentence of its own: "I'm 67,
    do I have to pay?" and "my cousin got picked up, can the city lawyers help him?" tell a case; "what should I
    bring?" and "can I mail in my application?" ask a procedure anyone follows, whoever's papers they are."""
    if _asks_a_decision(question):
        return True
    if not ADVICE_ASK.search(question):
        return False
    for sentence in SENTENCE_END.split(question):
        ask = ADVICE_ASK.search(sentence)
        if PERSONAL.search(sentence if ask is None else sentence[: ask.start()]):
            return True
    return False
