"""Question → ranked passages (dense and BM25 rankings fused by reciprocal rank fusion) and candidate sentences, each
scored by both embedding models against the in-memory sentence vectors of one index version."""

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever

from bot.attribution import Unit
from bot.errors import IndexUnavailable
from bot.index import PassageIndex
from bot.query import Query, word_frequencies
from bot.records import Hit, Passage
from bot.snapshot import Snapshot
from bot.text import WORD, fold

logger = logging.getLogger(__name__)

RRF_K = 60  # the constant of Cormack et al. (2009); damps the influence of any single ranker's top rank
SENTENCE_DEPTH = 10  # sentences taken by similarity alone, wherever their passage ranks
# Sentences taken because they hold the kind of fact asked for (a date for "when", a number for "what number do I
# call"): the sentence that answers "when does it start" is often the one least like the question.
KIND_DEPTH = 5


@dataclass(frozen=True)
class Similarity:
    """How close one sentence (in context) is to the question by one model."""

    cosine: float
    rank: int  # among the sentences this model scored, from 1
    gap: float  # below the best sentence, in units of the model's spread near the question (0 for the best)
    z: float  # standard scores above the mean near the question: how much the sentence stands out for it


# How many of a question's nearest sentences its similarities are compared with (see ModelScores.of).
NEIGHBOURHOOD = 32
NO_SIMILARITY = Similarity(cosine=0.0, rank=0, gap=5.0, z=0.0)


@dataclass(frozen=True)
class ModelScores:
    """One model's similarities of every sentence to a question, and what ranks and gaps are measured against."""

    sims: np.ndarray
    order: np.ndarray  # the scored rows, best first
    ranks: np.ndarray  # per row, from 1 (0: not scored)
    best: float
    spread: float  # best minus median of the neighbourhood: the unit of the gap
    mean: float
    std: float

    @classmethod
    def of(cls, sims: np.ndarray, rows: np.ndarray, neighbourhood: int = NEIGHBOURHOOD) -> "ModelScores":
        """Scores over the given rows (the others are not this model's to score). Spread, mean and deviation are
        taken over the question's nearest `neighbourhood` sentences, not the whole corpus: documents about other
        things, added to a corpus, would otherwise make every sentence on the question's topic stand out more."""
        order = rows[np.argsort(-sims[rows])]
        best = float(sims[order[0]])
        ranks = np.zeros(len(sims), dtype=int)
        ranks[order] = np.arange(1, len(order) + 1)
        near = sims[order[:neighbourhood]]
        return cls(
            sims=sims,
            order=order,
            ranks=ranks,
            best=best,
            spread=max(best - float(np.median(near)), 1e-3),
            mean=float(near.mean()),
            std=max(float(near.std()), 1e-3),
        )

    def nearest(self, holding: np.ndarray | None = None) -> np.ndarray:
        """The rows worth judging: the SENTENCE_DEPTH most similar, and the KIND_DEPTH most similar of those holding
        the kind of fact asked for (a boolean per row), wherever they rank."""
        top = self.order[:SENTENCE_DEPTH]
        if holding is None:
            return top
        return np.union1d(top, self.order[holding[self.order]][:KIND_DEPTH])

    def at(self, row: int) -> Similarity:
        """One sentence's similarity, rank, gap and standard score (NO_SIMILARITY if this model did not score it)."""
        rank = int(self.ranks[row])
        if not rank:
            return NO_SIMILARITY
        sim = float(self.sims[row])
        return Similarity(sim, rank, (self.best - sim) / self.spread, (sim - self.mean) / self.std)


@dataclass(frozen=True)
class Candidate:
    """A sentence that might answer, with the retrieval signals behind it (features are made from these)."""

    unit: Unit
    passage_rank: int  # rank of its passage among the fused passages (0: not among them)
    fused: float  # its passage's fused score, relative to the best
    lexical: float  # its passage's BM25 score, relative to the best
    english: Similarity  # by the English model, for an English question about an English document
    multilingual: Similarity  # by the multilingual model, for any question and document


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one question: ranked passages and candidate sentences."""

    hits: list[Hit]
    candidates: list[Candidate]
    named: frozenset[str] | None = None  # the documents the question singles out by name, if it does
    multilingual: bool = False  # whether the multilingual model scored it (else the English model alone)


class HybridRetriever:
    """Dense plus BM25 retrieval over the whole index, fused by reciprocal rank. A question that is not English, or
    that meets documents that are not, is embedded with the multilingual model against its own collection, where
    one is given; an English question about English documents with the English model alone.
    A new index version, switched live by an ingest, is picked up within `reload_after_s` seconds."""

    def __init__(
        self,
        index: PassageIndex,
        embeddings: Embeddings,
        k: int = 4,
        multilingual: PassageIndex | None = None,
        reload_after_s: float = 2.0,
        sentences: PassageIndex | None = None,
        lexicon: dict[tuple[str, ...], str] | None = None,
    ) -> None:
        self.index = index
        self.embeddings = embeddings
        self.k = k
        self.multilingual = multilingual  # the multilingual model's sentence index
        self.sentences = sentences
        self.lexicon = lexicon
        self.reload_after_s = reload_after_s
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0

    def _live(self) -> tuple[str | None, ...]:
        others = (self.sentences, self.multilingual)
        return (self.index.live(), *(i.live() if i is not None else None for i in others))

    def warm_up(self) -> None:
        """Load the live passages, build the BM25 index and the query analyzer; thread-safe."""
        with self._lock:
            self._load(self._live())
            self.embeddings.embed_query("warm up")  # first call pays tokenizer and kernel set-up
            if self.multilingual is not None:
                self.multilingual.embeddings.embed_query("calentar")
            self.current().analyze("warm up")  # loads the language detector's models
            word_frequencies("en")  # the word list that spelling repair reads
            self.current().bridge.prepare()

    def _load(self, versions: tuple[str | None, ...]) -> None:
        self.index.check_model()
        if self.multilingual is not None:
            self.multilingual.check_model()
        passages = self.index.all_passages(versions[0])
        if not passages:
            raise IndexUnavailable("the index is empty; run `civicbot ingest`")
        ml = self.multilingual.embeddings if self.multilingual is not None else None
        vectors = (
            self.sentences.vectors(versions[1]) if self.sentences is not None else {},
            self.multilingual.vectors(versions[2]) if self.multilingual is not None else None,
        )
        embed = (self.embeddings.embed_documents, ml.embed_documents if ml is not None else None)
        previous = self._snapshot.bridge.word_vectors if self._snapshot is not None else None
        self._snapshot = Snapshot(passages, versions, vectors, embed, self.lexicon, previous)
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
        return self.search(query, k, snapshot).hits

    def search(
        self, query: Query, k: int | None = None, snapshot: Snapshot | None = None, multilingual: bool | None = None
    ) -> Retrieval:
        """The top-k passages and the candidate sentences for a query, from one snapshot (the current by default).
        Sentences of a document the question does not name are left out when it names another. The multilingual
        model is used where question and documents are not all English, unless `multilingual` says otherwise."""
        snap = snapshot or self.current()
        k = k or self.k
        depth = min(len(snap.passages), max(20, 4 * k))
        named = snap.named_documents(query)
        if multilingual is None:
            multilingual = _across_languages(query, snap)
        vectors = self._query_vectors(_without_names(query, snap, named), snap, multilingual)
        scored = self._sentence_scores(query, vectors, snap, named)
        dense = self._dense(vectors, scored, depth, snap) if query.search_text else []
        dense_sim = dict(dense)
        lexical = snap.bm25.get_scores(query.lexical_terms) if query.lexical_terms else np.zeros(len(snap.passages))
        lexical_rank = [snap.passages[i].id for i in np.argsort(-lexical, kind="stable")[:depth] if lexical[i] > 0]

        def lexical_of(pid: str) -> float:
            return float(lexical[snap.position[pid]])

        fused: dict[str, float] = {}
        for ranking in ([pid for pid, _ in dense], lexical_rank):
            for rank, pid in enumerate(ranking):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        pool = [
            (pid, f)
            for pid, f in sorted(fused.items(), key=lambda kv: -kv[1])
            if pid in snap.by_id and (named is None or snap.by_id[pid].slug in named)
        ]
        best = self._rerank(query, pool[: max(3 * k, 10)], dense_sim, snap)[:k]
        hits = [
            Hit(
                passage=snap.by_id[pid],
                score=score,
                dense_similarity=dense_sim.get(pid, 0.0),
                lexical_score=lexical_of(pid),
                rank=rank,
            )
            for rank, (pid, score) in enumerate(best, start=1)
        ]
        lexical_best = float(lexical.max(initial=0.0)) or 1.0
        fused_best = pool[0][1] if pool else 1.0
        passage_rank = {h.passage.id: h.rank for h in hits}
        wanted = {(h.passage.id, u.index) for h in hits for u in snap.units(h.passage)}
        holding = snap.holding(query.asks) if query.asks is not None else None
        for by_model in scored.values():
            wanted |= {snap.sentences[int(i)].key for i in by_model.nearest(holding)}
        candidates = []
        for key in sorted(wanted, key=lambda kk: snap.row[kk]):
            row = snap.row[key]
            unit = snap.sentences[row]
            if named is not None and unit.passage.slug not in named:
                continue
            pid = unit.passage.id
            candidates.append(
                Candidate(
                    unit=unit,
                    passage_rank=passage_rank.get(pid, 0),
                    fused=fused.get(pid, 0.0) / fused_best,
                    lexical=lexical_of(pid) / lexical_best,
                    english=scored["en"].at(row) if "en" in scored else NO_SIMILARITY,
                    multilingual=scored["ml"].at(row) if "ml" in scored else NO_SIMILARITY,
                )
            )
        return Retrieval(hits=hits, candidates=candidates, named=named, multilingual="ml" in vectors)

    def reads_multilingual(self, query: Query, snapshot: Snapshot | None = None) -> bool:
        """Whether the multilingual model reads this question: where question and documents are not all English
        and its index is there."""
        snap = snapshot or self.current()
        present = self.multilingual is not None and snap.matrix_multilingual is not None
        return present and bool(query.search_text) and _across_languages(query, snap)

    def _query_vectors(self, query: Query, snap: Snapshot, multilingual: bool) -> dict[str, np.ndarray]:
        """The question embedded by each model asked for: the multilingual one (where it runs) matches every
        question with every sentence; the English one gives its view where question and documents are English."""
        if not query.search_text:
            return {}
        out = {}
        if query.language == "en" and "en" in snap.languages or self.multilingual is None or not multilingual:
            out["en"] = np.asarray(self.embeddings.embed_query(query.search_text), dtype=np.float32)
        if multilingual and self.multilingual is not None and snap.matrix_multilingual is not None:
            out["ml"] = np.asarray(self.multilingual.embeddings.embed_query(query.search_text), dtype=np.float32)
        return out

    def _dense(
        self, vectors: dict[str, np.ndarray], scored: dict[str, ModelScores], depth: int, snap: Snapshot
    ) -> list[tuple[str, float]]:
        """The dense passage ranking: by the multilingual model's nearest sentence of each passage where the question
        has its vector, else by the English passage vectors. multilingual-e5 matches a question with the one sentence
        that answers it better than with a paragraph around it (the gold passage first for 0.61 of the suites'
        answerable questions, against 0.57 by whole passages)."""
        if "ml" in vectors:
            return _spread(_by_nearest_sentence(scored["ml"], snap, depth)) if "ml" in scored else []
        return self.index.search(vectors["en"].tolist(), depth, snap.versions[0])

    def _sentence_scores(
        self, query: Query, vectors: dict[str, np.ndarray], snap: Snapshot, named: frozenset[str] | None
    ) -> dict[str, "ModelScores"]:
        """Per model, every sentence's similarity to the question. The English model scores only sentences of English
        documents (for an English question); the multilingual one scores every sentence."""
        out: dict[str, ModelScores] = {}
        keep = np.ones(len(snap.sentences), dtype=bool) if named is None else np.isin(snap.row_slugs, list(named))
        for key, matrix in (("en", snap.matrix), ("ml", snap.matrix_multilingual)):
            if key not in vectors or matrix is None:
                continue
            mask = keep & (snap.row_english if key == "en" else True)
            if mask.any():
                out[key] = ModelScores.of(matrix @ vectors[key], np.flatnonzero(mask))
        return out

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


def _across_languages(query: Query, snap: Snapshot) -> bool:
    return query.language != "en" or snap.languages != {"en"}


def _without_names(query: Query, snap: Snapshot, named: frozenset[str] | None) -> Query:
    """The question as the models should read it once a name it uses has singled out its document(s): without the
    names of the document as a whole, which every sentence of it shares and which otherwise outweigh what is asked
    ("Dunmore Springs fine for a third violation" is a question about fines)."""
    if named is None:
        return query
    names = snap.own_names(named)
    drop = {c.word for c in query.concepts if c.stems & names}
    if len(drop) == len({c.word for c in query.concepts}):  # nothing but names: they are what is asked about
        return query
    kept = [w for w in WORD.findall(query.search_text) if fold(w) not in drop]
    return replace(query, search_text=" ".join(kept)) if kept else query


def _by_nearest_sentence(scores: ModelScores, snap: Snapshot, depth: int) -> list[tuple[str, float]]:
    """The `depth` passages whose nearest sentence is nearest the question, with that similarity."""
    best = np.full(len(snap.passages), -np.inf)
    np.maximum.at(best, snap.row_passage[scores.order], scores.sims[scores.order])
    top = [int(i) for i in np.argsort(-best, kind="stable")[:depth] if np.isfinite(best[i])]
    return [(snap.passages[i].id, float(best[i])) for i in top]


def _spread(found: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """multilingual-e5 puts every passage's nearest sentence between about 0.78 and 0.88 cosine, so its raw
    similarity barely moves the reranker: spread it over [0, best], keeping the order and the relative margins."""
    if len(found) < 2:
        return found
    best, worst = found[0][1], found[-1][1]
    span = best - worst or 1.0
    return [(pid, best * (sim - worst) / span) for pid, sim in found]


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
