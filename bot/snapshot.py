"""One live index version in memory: its passages, their sentences (speakers resolved) with both models' vectors,
BM25, the corpus vocabulary and the names that single out each document. Immutable once built."""

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from bot.answer_types import answers_kind, sentence_kinds
from bot.attribution import DocumentSpeakers, Unit, units_of
from bot.bm25 import PostingsBM25
from bot.bridge import Embed, WordBridge
from bot.passages import in_context, sentence_id, without_headline
from bot.query import Concept, Query, QueryAnalyzer, idf
from bot.records import Passage
from bot.text import WORD, fold, split_sentences, stem, terms, words

CAPITALIZED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'’-]+")
TITLE_WORD = re.compile(r"\b[A-Z][\w'’-]+")

Vectors = Mapping[str, Sequence[float] | np.ndarray]


class Snapshot:
    """The passages of one live index version, held in memory with their BM25 index and vocabulary. Immutable once
    built, so every step of one answer reads the same version even while a new one is switched live."""

    def __init__(
        self,
        passages: list[Passage],
        versions: tuple[str | None, ...],
        vectors: tuple[Vectors, Vectors | None] = ({}, None),
        embed: tuple[Embed | None, Embed | None] = (None, None),
        lexicon: dict[tuple[str, ...], str] | None = None,
        word_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.versions = versions
        self.passages = passages
        tokenized = _tokenize_with_speakers(passages)
        self.bm25 = PostingsBM25(tokenized)
        self._df = Counter(t for doc in tokenized for t in set(doc))
        self.stems = {p.id: frozenset(t) for p, t in zip(passages, tokenized, strict=True)}
        self.bare_stems = {p.id: frozenset(terms(without_headline(p.text))) for p in passages if p.n == 0}
        self.by_id = {p.id: p for p in passages}
        self.position = {p.id: i for i, p in enumerate(passages)}
        self._documents: dict[str, list[Passage]] = {}
        for p in passages:  # passages come ordered by document and paragraph
            self._documents.setdefault(p.slug, []).append(p)
        self.analyzer = QueryAnalyzer({w for p in passages for w in words(p.text)}, lexicon or {})
        self.bridge = WordBridge(((p.language, p.text) for p in passages), embed[1], known=word_vectors)
        self._speakers: dict[str, DocumentSpeakers] = {}
        self._units: dict[str, list[Unit]] = {}
        self._holding: dict[str, np.ndarray] = {}
        self.languages = frozenset(p.language for p in passages)
        self.sentences = [u for p in passages for u in self.units(p)]
        self.row = {u.key: i for i, u in enumerate(self.sentences)}
        self.row_slugs = np.array([u.passage.slug for u in self.sentences], dtype=object)
        self.row_english = np.array([u.passage.language == "en" for u in self.sentences], dtype=bool)
        self.row_passage = np.array([self.position[u.passage.id] for u in self.sentences], dtype=np.int64)
        self.matrix = _matrix(self.sentences, vectors[0], embed[0])
        self.matrix_multilingual = (
            _matrix(self.sentences, vectors[1] or {}, embed[1]) if vectors[1] is not None or embed[1] else None
        )
        titles = _title_names(passages)
        self.names = _document_names(passages, titles)
        # Per document, the names in its title or publisher: what names the document as a whole ("Harwick"), rather
        # than someone or something it speaks of ("the Department of Homeland Security").
        self.identities = {slug: frozenset(found & self.names[slug]) for slug, found in titles.items()}

    def speakers(self, slug: str) -> DocumentSpeakers:
        """Who speaks in a document, and how it introduces them (computed once per snapshot)."""
        if slug not in self._speakers:
            self._speakers[slug] = DocumentSpeakers(self.document(slug))
        return self._speakers[slug]

    def units(self, passage: Passage) -> list[Unit]:
        """A passage's sentences with speakers resolved and quotes parsed (computed once per snapshot)."""
        if passage.id not in self._units:
            self._units[passage.id] = units_of(passage, self.speakers(passage.slug))
        return self._units[passage.id]

    def holding(self, kind: str) -> np.ndarray:
        """Per sentence row, whether it holds a fact of the kind a question asks for (computed once per kind)."""
        if kind not in self._holding:
            self._holding[kind] = np.array([answers_kind(kind, sentence_kinds(u.text)) for u in self.sentences], bool)
        return self._holding[kind]

    def idf(self, stem: str) -> float:
        """How rare a stem is in the corpus; one the corpus never uses weighs most."""
        return idf(self._df.get(stem, 0), len(self.passages))

    def known(self, stem: str) -> bool:
        """Whether any passage uses this stem."""
        return stem in self._df

    def passage(self, passage_id: str) -> Passage | None:
        """A stored passage by id."""
        return self.by_id.get(passage_id)

    @property
    def slugs(self) -> list[str]:
        """Every document's slug, in corpus order."""
        return list(self._documents)

    def document(self, slug: str) -> list[Passage]:
        """All passages of one document, in order."""
        return self._documents.get(slug, [])

    def next_passage(self, passage: Passage) -> Passage | None:
        """The paragraph after this one in the same document."""
        return self.by_id.get(f"{passage.slug}#p{passage.n + 1}")

    def previous_passage(self, passage: Passage) -> Passage | None:
        """The paragraph before this one in the same document."""
        return self.by_id.get(f"{passage.slug}#p{passage.n - 1}")

    def analyze(self, question: str, history: tuple[str, ...] = ()) -> Query:
        """Understand a question against this corpus's vocabulary, its words matched across languages."""
        return self.bridge.extend(self.analyzer.analyze(question, history), self.known)

    def own_names(self, slugs: Iterable[str]) -> frozenset[str]:
        """The names of these documents as a whole (their titles' and publishers'), which set them apart from each
        other but not one of their sentences from another."""
        return frozenset().union(*(self.identities.get(slug, frozenset()) for slug in slugs))

    def named_documents(self, query: Query) -> frozenset[str] | None:
        """The documents a question singles out by a name only they use (a city, a mayor, an agency), or None
        when it names none of them, or all."""
        named = self.documents_named(query)
        return None if not named or len(named) == len(self.names) else named

    def documents_named(self, query: Query) -> frozenset[str]:
        """Every document the question names by a name only it uses: "Harwick or Dunmore Springs?" names two,
        however many words each name has. A document named as a whole (by its title's or publisher's name) outranks
        one that only some word of the question is a name in: "my Wrenfield permit with a credit card" is about
        Wrenfield, whichever document calls something a "Credit"."""
        named = self._named_by(query.concepts)
        if not named and query.follow_up:  # "and their office?" names the city the previous question named
            named = self._named_by(query.context)
        return named

    def _named_by(self, concepts: Sequence[Concept]) -> frozenset[str]:
        stems = {s for c in concepts for s in c.stems}
        return self._named_whole(stems) or frozenset(slug for slug, names in self.names.items() if names & stems)

    def _named_whole(self, stems: set[str]) -> frozenset[str]:
        """The documents whose title's or publisher's names are among these stems."""
        return frozenset(slug for slug, names in self.identities.items() if names & stems)

    def documents_compared(self, query: Query) -> frozenset[str]:
        """The documents a question names as a whole, by their titles' or publishers' names, when it names two or
        more ("Harwick or Dunmore Springs?"); a capitalized word one of them uses ("Credit") compares nothing."""
        compared = self._named_whole({s for c in query.concepts for s in c.stems})
        return compared if len(compared) > 1 else frozenset()

    def concept_weights(self, concepts: Sequence[Concept]) -> list[float]:
        """How much each concept of a question matters: the idf of its commonest known form, or the most if unknown."""
        out = []
        for c in concepts:
            known = [self.idf(s) for s in c.stems if self.known(s)]
            out.append(min(known) if known else self.idf("\0"))
        return out


def _tokenize_with_speakers(passages: Sequence[Passage]) -> list[list[str]]:
    """Each passage's stems plus those of the people who speak in it, as the document introduces them: a quote
    that ends "Lee said" is found by "what did the county's spokesperson say"."""
    by_slug: dict[str, list[Passage]] = {}
    for p in passages:
        by_slug.setdefault(p.slug, []).append(p)
    speakers = {slug: DocumentSpeakers(ps) for slug, ps in by_slug.items()}
    out = []
    for p in passages:
        doc = speakers[p.slug]
        named = {u.speaker for u in units_of(p, doc) if u.speaker}
        out.append(terms(p.text) + [t for name in sorted(named) for t in terms(doc.descriptors.get(name, name))])
    return out


def _matrix(units: Sequence[Unit], stored: Vectors, embed: Embed | None) -> np.ndarray:
    """The sentences' vectors as rows, in order: stored ones as they are, any missing embedded now."""
    keys = [sentence_id(u.passage.id, u.index) for u in units]
    missing = [i for i, key in enumerate(keys) if key not in stored]
    found: dict[int, list[float]] = {}
    if missing and embed is not None:
        texts = [in_context(units[i].passage, units[i].text) for i in missing]
        found = dict(zip(missing, embed(texts), strict=True))
    rows = [stored[key] if key in stored else found.get(i) for i, key in enumerate(keys)]
    width = len(next((r for r in rows if r is not None), [0.0]))
    return np.array([r if r is not None else [0.0] * width for r in rows], dtype=np.float32)


def _document_names(passages: Sequence[Passage], titles: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    """Per document, the stems of the names it uses (capitalized inside a sentence or in its title and publisher)
    that it never writes in lower case and no other document uses at all: what a question can single a document out
    by. A title's ordinary words ("Mayor Signs Order") are written in lower case in its text, so they name nothing."""
    names: dict[str, set[str]] = {}
    common: dict[str, set[str]] = {}
    used: dict[str, set[str]] = {}
    for p in passages:
        found = names.setdefault(p.slug, set())
        for sentence in split_sentences(p.text):
            found.update(stem(w) for m in CAPITALIZED.finditer(sentence) for w in words(m.group()))
        common.setdefault(p.slug, set()).update(stem(fold(w)) for w in WORD.findall(p.text) if w[0].islower())
        used.setdefault(p.slug, set()).update(terms(f"{p.text} {p.document} {p.publisher}"))
    for slug, found in titles.items():
        names[slug].update(found)
    # How many documents use each stem: one pass, where a union of every other document per document was quadratic.
    documents_using = Counter(s for stems in used.values() for s in stems)
    return {
        slug: frozenset(s for s in found - common[slug] if documents_using[s] == (s in used[slug]))
        for slug, found in names.items()
    }


def _title_names(passages: Sequence[Passage]) -> dict[str, set[str]]:
    """Per document, the stems of the capitalized words of its title and publisher (read once per document)."""
    heads = {p.slug: f"{p.document} {p.publisher}" for p in passages}
    return {slug: {t for m in TITLE_WORD.finditer(head) for t in terms(m.group())} for slug, head in heads.items()}
