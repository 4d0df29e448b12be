"""Question → ranked Hits: dense (Chroma) and BM25 rankings fused by reciprocal rank fusion."""

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from rank_bm25 import BM25Okapi

from bot.attribution import DocumentSpeakers, Unit, units_of
from bot.errors import IndexUnavailable
from bot.index import PassageIndex
from bot.passages import without_headline
from bot.query import Concept, Query, QueryAnalyzer, idf
from bot.records import Hit, Passage
from bot.text import terms, words

logger = logging.getLogger(__name__)

RRF_K = 60  # the constant of Cormack et al. (2009); damps the influence of any single ranker's top rank


class Snapshot:
    """The passages of one live index version, held in memory with their BM25 index and vocabulary. Immutable once
    built, so every step of one answer reads the same version even while a new one is switched live."""

    def __init__(self, passages: list[Passage], versions: tuple[str | None, ...]) -> None:
        self.versions = versions
        self.passages = passages
        tokenized = _tokenize_with_speakers(passages)
        self.bm25 = BM25Okapi(tokenized)
        self._df = Counter(t for doc in tokenized for t in set(doc))
        self.stems = {p.id: frozenset(t) for p, t in zip(passages, tokenized, strict=True)}
        self.bare_stems = {p.id: frozenset(terms(without_headline(p.text))) for p in passages if p.n == 0}
        self.by_id = {p.id: p for p in passages}
        self.analyzer = QueryAnalyzer({w for p in passages for w in words(p.text)})
        self._speakers: dict[str, DocumentSpeakers] = {}
        self._units: dict[str, list[Unit]] = {}

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

    def idf(self, stem: str) -> float:
        """How rare a stem is in the corpus; one the corpus never uses weighs most."""
        return idf(self._df.get(stem, 0), len(self.passages))

    def known(self, stem: str) -> bool:
        """Whether any passage uses this stem."""
        return stem in self._df

    def passage(self, passage_id: str) -> Passage | None:
        """A stored passage by id."""
        return self.by_id.get(passage_id)

    def document(self, slug: str) -> list[Passage]:
        """All passages of one document, in order."""
        return [p for p in self.passages if p.slug == slug]

    def next_passage(self, passage: Passage) -> Passage | None:
        """The paragraph after this one in the same document."""
        return self.by_id.get(f"{passage.slug}#p{passage.n + 1}")

    def analyze(self, question: str, history: tuple[str, ...] = ()) -> Query:
        """Understand a question against this corpus's vocabulary."""
        return self.analyzer.analyze(question, history)

    def concept_weights(self, concepts: Sequence[Concept]) -> list[float]:
        """How much each concept of a question matters: the idf of its commonest known form, or the most if unknown."""
        out = []
        for c in concepts:
            known = [self.idf(s) for s in c.stems if self.known(s)]
            out.append(min(known) if known else self.idf("\0"))
        return out


class HybridRetriever:
    """Dense plus BM25 retrieval over the whole index, fused by reciprocal rank. A Spanish question is embedded
    with the multilingual model against its own collection, where one is given; others with the English model.
    A new index version, switched live by an ingest, is picked up within `reload_after_s` seconds."""

    def __init__(
        self,
        index: PassageIndex,
        embeddings: Embeddings,
        k: int = 4,
        multilingual: PassageIndex | None = None,
        reload_after_s: float = 2.0,
    ) -> None:
        self.index = index
        self.embeddings = embeddings
        self.k = k
        self.multilingual = multilingual
        self.reload_after_s = reload_after_s
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0

    def _live(self) -> tuple[str | None, ...]:
        return (self.index.live(), self.multilingual.live() if self.multilingual is not None else None)

    def warm_up(self) -> None:
        """Load the live passages, build the BM25 index and the query analyzer; thread-safe."""
        with self._lock:
            self._load(self._live())
            self.embeddings.embed_query("warm up")  # first call pays tokenizer and kernel set-up
            if self.multilingual is not None:
                self.multilingual.embeddings.embed_query("calentar")
            self.current().analyze("warm up")  # loads the language detector's models

    def _load(self, versions: tuple[str | None, ...]) -> None:
        self.index.check_model()
        if self.multilingual is not None:
            self.multilingual.check_model()
        passages = self.index.all_passages(versions[0])
        if not passages:
            raise IndexUnavailable("the index is empty; run `civicbot ingest`")
        self._snapshot = Snapshot(passages, versions)
        self._checked_at = time.monotonic()

    def current(self) -> Snapshot:
        """The snapshot answers are read from now (loaded on first use)."""
        snapshot = self._snapshot
        if snapshot is None:
            self.warm_up()
            snapshot = self._snapshot
        assert snapshot is not None
        return snapshot

    def refresh(self) -> Snapshot:
        """The current snapshot, after loading a newly switched index version if one went live since the last look
        (looked at most every `reload_after_s`). A failed look keeps serving what is loaded."""
        snapshot = self.current()
        if time.monotonic() - self._checked_at < self.reload_after_s or not self._lock.acquire(blocking=False):
            return snapshot
        try:
            self._checked_at = time.monotonic()
            live = self._live()
            if live != snapshot.versions and live[0] is not None:
                self._load(live)
                logger.info("loaded index version %s", live[0])
        except IndexUnavailable as exc:
            logger.warning("index check failed, still serving the loaded version: %s", exc)
        finally:
            self._lock.release()
        return self.current()

    @property
    def ready(self) -> bool:
        """Whether warm_up has run."""
        return self._snapshot is not None

    def analyze(self, question: str, history: tuple[str, ...] = ()) -> Query:
        """Understand a question against the current corpus's vocabulary."""
        return self.current().analyze(question, history)

    def passage(self, passage_id: str) -> Passage | None:
        """A stored passage by id, from the current snapshot."""
        return self.current().passage(passage_id)

    def retrieve(self, query: Query, k: int | None = None, snapshot: Snapshot | None = None) -> list[Hit]:
        """The top-k passages for a query, best first, from one snapshot (the current one by default)."""
        snap = snapshot or self.current()
        k = k or self.k
        depth = min(len(snap.passages), max(20, 4 * k))
        dense = self._dense(query, depth, snap) if query.search_text else []
        dense_sim = dict(dense)
        lexical = snap.bm25.get_scores(query.lexical_terms) if query.lexical_terms else [0.0] * len(snap.passages)
        lexical_by_id = {p.id: float(s) for p, s in zip(snap.passages, lexical, strict=False)}
        lexical_rank = [pid for pid, s in sorted(lexical_by_id.items(), key=lambda kv: -kv[1]) if s > 0][:depth]
        fused: dict[str, float] = {}
        for ranking in ([pid for pid, _ in dense], lexical_rank):
            for rank, pid in enumerate(ranking):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        pool = [(pid, f) for pid, f in sorted(fused.items(), key=lambda kv: -kv[1]) if pid in snap.by_id]
        best = self._rerank(query, pool[: max(3 * k, 10)], dense_sim, snap)[:k]
        return [
            Hit(
                passage=snap.by_id[pid],
                score=score,
                dense_similarity=dense_sim.get(pid, 0.0),
                lexical_score=lexical_by_id.get(pid, 0.0),
                rank=rank,
            )
            for rank, (pid, score) in enumerate(best, start=1)
        ]

    def _dense(self, query: Query, depth: int, snap: Snapshot) -> list[tuple[str, float]]:
        """The dense ranking: the multilingual model for a Spanish question, where there is one, else English."""
        if query.language != "en" and self.multilingual is not None and snap.versions[1] is not None:
            vector = self.multilingual.embeddings.embed_query(query.search_text)
            return _spread(self.multilingual.search(vector, depth, snap.versions[1]))
        return self.index.search(self.embeddings.embed_query(query.search_text), depth, snap.versions[0])

    def _rerank(
        self, query: Query, pool: list[tuple[str, float]], dense_sim: dict[str, float], snap: Snapshot
    ) -> list[tuple[str, float]]:
        """Order fused candidates by how much of the question each one covers, then by fused score and similarity.

        RRF alone lets a passage that repeats one word of the question ("ICE" three times) beat the one that
        matches all of it; coverage weighted by rarity is the principled fix."""
        if not pool:
            return []
        concepts = query.concepts or query.context
        weights = snap.concept_weights(concepts)
        total = sum(weights) or 1.0
        top = pool[0][1]
        scored = []
        for pid, fused_score in pool:
            # Publication details rank on what they say about the publication unless the question asks "when".
            stems = snap.stems[pid] if query.asks == "date" else snap.bare_stems.get(pid, snap.stems[pid])
            coverage = sum(w for c, w in zip(concepts, weights, strict=False) if c.stems & stems) / total
            scored.append((coverage + 0.5 * fused_score / top + 0.3 * dense_sim.get(pid, 0.0), pid, fused_score))
        scored.sort(key=lambda t: -t[0])
        return [(pid, fused_score) for _, pid, fused_score in scored]


def _spread(found: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """multilingual-e5 puts every passage between about 0.78 and 0.88 cosine, so its raw similarity barely moves
    the reranker: spread it over [0, best], keeping the order and the relative margins."""
    if len(found) < 2:
        return found
    best, worst = found[0][1], found[-1][1]
    span = best - worst or 1.0
    return [(pid, best * (sim - worst) / span) for pid, sim in found]


def _tokenize_with_speakers(passages: Sequence[Passage]) -> list[list[str]]:
    """Each passage's stems plus those of the people who speak in it, as the document introduces them: a quote
    that ends "Jackson said" is found by "what did the White House say"."""
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


class PassageRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain retriever: question in, scored passages out."""

    hybrid: Any
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        hits = self.hybrid.retrieve(self.hybrid.analyze(query), k=self.k)
        return [
            LCDocument(
                page_content=h.passage.text,
                id=h.passage.id,
                metadata={**h.passage.metadata(), "score": h.score, "dense_similarity": h.dense_similarity},
            )
            for h in hits
        ]
