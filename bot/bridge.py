"""Words across languages: a question word the corpus never uses ("permiso") is matched to the corpus words nearest
to it in the multilingual model's space ("permit", "permits"), so a Spanish question can be checked against an
English document word by word. Month, weekday and language names ("jueves", "español") are paired by locale data
instead. Built from the corpus's own vocabulary; knows nothing of any topic."""

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from bot.query import Concept, Query
from bot.text import content_words, fold, stem

Embed = Callable[[list[str]], list[list[float]]]
# A word written in lower case somewhere: names ("Harwick", "Ventura") are the same in every language and pull every
# word towards them in the model's space, so they are no translation.
LOWER_WORD = re.compile(r"(?<![\w'’-])[a-záéíóúñü][a-záéíóúñü'’-]{2,}(?![\w'’-])")


@dataclass(frozen=True)
class BridgePolicy:
    """How near a corpus word must be to stand for a foreign one. The multilingual model's similarities between
    single words crowd together (0.85–0.95): a translation sits at the top ("calor" → "heat" 0.93), and a word the
    corpus has no translation for still has a nearest word, only a farther one ("licencia" → "fees" 0.90)."""

    neighbours: int = 3
    floor: float = 0.915
    spread: float = 0.02  # further words count when about as near as the nearest one
    max_words: int = 10_000  # per language, the commonest first: bounds the one-off embedding of a large corpus
    max_question_words: int = 12  # a question's unknown words matched: bounds the cost of a long one


@lru_cache(maxsize=8)
def locale_names(language: str) -> dict[str, str]:
    """A language's own names for the months, weekdays and languages (folded, single words) → a key shared by every
    language ("month 5", "language es"), from the Unicode CLDR data that babel ships. English capitalizes these
    names, so they never enter the vocabulary that words are matched in."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(language)
    except (ValueError, UnknownLocaleError):  # a language the CLDR data does not know
        return {}
    named = [
        *((f"month {k}", v) for k, v in locale.months["format"]["wide"].items()),
        *((f"day {k}", v) for k, v in locale.days["format"]["wide"].items()),
        *((f"language {k}", v) for k, v in locale.languages.items()),
    ]
    return {fold(name): key for key, name in named if name.isalpha() and len(name) > 3}


@lru_cache(maxsize=8)
def _stems_by_key(language: str) -> dict[str, frozenset[str]]:
    stems: dict[str, set[str]] = {}
    for name, key in locale_names(language).items():
        stems.setdefault(key, set()).add(stem(name))
    return {key: frozenset(found) for key, found in stems.items()}


def _translate_names(word: str, source: str, target: str) -> frozenset[str]:
    """The stems of the target language's name for the month, weekday or language a word names; empty for other
    words."""
    key = locale_names(source).get(fold(word))
    return _stems_by_key(target).get(key, frozenset()) if key else frozenset()


class WordBridge:
    """The corpus words of each language, embedded once (on warm-up or first need); a foreign word's nearest ones
    stand for it."""

    def __init__(
        self,
        texts: Iterable[tuple[str, str]],
        embed: Embed | None,
        policy: BridgePolicy | None = None,
        known: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.policy = policy or BridgePolicy()
        counts: dict[str, Counter[str]] = {}
        for language, text in texts:
            lower = {fold(m.group()) for m in LOWER_WORD.finditer(text)}
            counts.setdefault(language, Counter()).update(w for w in set(content_words(text)) if w in lower)
        self._words = {
            language: sorted(w for w, _ in found.most_common(self.policy.max_words))
            for language, found in counts.items()
        }
        self._embed = embed
        # Word vectors of an earlier index version: a re-ingest embeds only the words it adds, and keeps none it drops.
        wanted = {w for words in self._words.values() for w in words}
        self._cache: dict[str, np.ndarray] = {w: v for w, v in (known or {}).items() if w in wanted}
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def languages(self) -> frozenset[str]:
        """The languages the corpus is written in."""
        return frozenset(self._words)

    @property
    def word_vectors(self) -> Mapping[str, np.ndarray]:
        """Every word vector computed so far, for the next index version to reuse."""
        return self._cache

    def prepare(self) -> None:
        """Embed every language's vocabulary now, so no question waits for it."""
        for language in sorted(self.languages):
            self._vocabulary(language)

    def _vocabulary(self, language: str) -> np.ndarray:
        with self._lock:
            if language not in self._vectors and self._embed is not None:
                words = self._words.get(language, [])
                missing = [w for w in words if w not in self._cache]
                if missing:
                    self._cache.update(zip(missing, np.asarray(self._embed(missing), dtype=np.float32), strict=True))
                rows = [self._cache[w] for w in words]
                self._vectors[language] = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
            return self._vectors.get(language, np.zeros((0, 0), dtype=np.float32))

    def nearest(self, words: Sequence[str], language: str) -> dict[str, frozenset[str]]:
        """For each word, the stems of this language's corpus words that stand for it (none where no corpus word is
        near enough); empty without a multilingual model."""
        vocabulary = self._vocabulary(language)
        if self._embed is None or not words or not len(vocabulary):
            return {}
        similarity = np.asarray(self._embed(list(words)), dtype=np.float32) @ vocabulary.T
        own = self._words[language]
        out: dict[str, frozenset[str]] = {}
        for word, row in zip(words, similarity, strict=True):
            top = np.argsort(-row)[: self.policy.neighbours]
            near = max(float(row[top[0]]) - self.policy.spread, self.policy.floor)
            out[word] = frozenset(stem(own[j]) for j in top if row[j] >= near)
        return out

    def extend(self, query: Query, known: Callable[[str], bool]) -> Query:
        """The query with each word the corpus never uses matched to the words that stand for it in every other
        language the corpus is written in (by the model, or by locale data for a month, weekday or language name); a
        question in the corpus's only language is returned as it is."""
        others = sorted(self.languages - {query.language})
        unknown = [c.word for c in query.concepts if c.word.isalpha() and not any(known(s) for s in c.stems)]
        unknown = unknown[: self.policy.max_question_words]
        if not others or not unknown:
            return query
        extra: dict[str, set[str]] = {}
        for language in others:
            for word, stems in self.nearest(unknown, language).items():
                extra.setdefault(word, set()).update(stems)
            for word in unknown:
                extra.setdefault(word, set()).update(_translate_names(word, query.language, language))
        concepts = tuple(Concept(c.word, c.stems | frozenset(extra.get(c.word, ())), c.targets) for c in query.concepts)
        return replace(query, concepts=concepts)
