"""Retrieval signals → numeric features: one row per candidate sentence, and one row per question for deciding
whether the sources answer it at all. The features say how well a sentence matches a question, never what
either is about, so a model fitted on some corpora can score another."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.passages import in_context
from bot.query import Query
from bot.retrieve import Candidate, Retrieval
from bot.snapshot import Snapshot
from bot.text import terms

SENTENCE_FEATURES = (
    "dense",
    "dense_gap",
    "dense_top1",
    "dense_top3",
    "dense_z",
    "english_dense",
    "english_gap",
    "english_top1",
    "english_z",
    "english_scored",
    "passage_top1",
    "passage_in_hits",
    "fused",
    "lexical",
    "coverage",
    "coverage_same_language",
    "context_coverage",
    "coverage_gap",
    "kind_asked",
    "kind_match",
    "kind_missing",
    "publication",
    "publication_asked",
    "quote",
    "words_log",
    "cross_language",
    "z_times_coverage",
    "english_z_times_coverage",
    "kind_times_coverage",
)
QUESTION_FEATURES = (
    "best",
    "second",
    "best_cosine",
    "best_english_cosine",
    "top_cosine",
    "best_z",
    "best_english_z",
    "top_z",
    "best_coverage",
    "best_asked_coverage",
    "story",
    "best_dense_gap_same",
    "kind_asked",
    "best_kind_match",
    "top_kind_missing",
    "best_kind_coverage",
    "unknown",
    "cross_language",
    "concepts_log",
    "personal",
    "personal_coverage",
    "publication_answer",
    "injection",
)

# Question features that can only raise (1) or only lower (-1) the chance that the sources answer: a closer match,
# more of the question covered, the kind of fact asked for found. Fitted models are held to these directions.
MONOTONE = {
    "best": 1,
    "best_cosine": 1,
    "best_english_cosine": 1,
    "top_cosine": 1,
    "best_z": 1,
    "best_english_z": 1,
    "top_z": 1,
    "best_coverage": 1,
    "best_asked_coverage": 1,
    "best_kind_match": 1,
    "top_kind_missing": -1,
    "best_kind_coverage": 1,
    "unknown": -1,
}


@dataclass(frozen=True)
class Features:
    """The candidates of one question with their feature rows, and the question's own coverage facts."""

    candidates: list[Candidate]
    rows: np.ndarray
    coverage: list[float]
    unknown: float
    asked_coverage: list[float] = field(default_factory=list)
    story: float = 0.0  # the share of the question's weight in the case it tells rather than in what it asks

    @property
    def asked(self) -> list[float]:
        """Each candidate's coverage of what is asked; the whole question's where no asking part was measured."""
        return self.asked_coverage or self.coverage


def _coverage(stems: frozenset[str], query: Query, weights: Sequence[float], total: float) -> float:
    concepts = query.concepts or query.context
    return sum(w for c, w in zip(concepts, weights, strict=False) if c.stems & stems) / total


def sentence_features(query: Query, found: Retrieval, snap: Snapshot) -> Features:
    """One feature row per candidate sentence of a retrieval (columns in SENTENCE_FEATURES order)."""
    candidates = found.candidates
    concepts = query.concepts or query.context
    weights = snap.concept_weights(concepts)
    if found.named is not None:
        # The name that singled out a document as a whole ("in Harwick") already chose it; within it, that name says
        # nothing about which sentence answers. A name the document speaks of ("Homeland Security") still does, and
        # a question that is nothing but names keeps them.
        names = snap.own_names(found.named)
        rest = [0.0 if c.stems & names else w for c, w in zip(concepts, weights, strict=True)]
        weights = rest if any(rest) else weights
    total = sum(weights) or 1.0
    # A question in a language none of the documents is written in shares no words with them by nature: that says
    # nothing about whether they answer it.
    foreign = query.language not in snap.languages
    unknown = (
        0.0
        if foreign
        else sum(w for c, w in zip(concepts, weights, strict=False) if not any(snap.known(s) for s in c.stems))
    )
    # A resident's own case told before the question ("I'm 68 and live in Zone B. Do I have to pay?") holds words
    # no sentence need cover; what is asked must be covered all the same.
    asked_weights = [
        w if query.asked is None or c.word in query.asked else 0.0 for c, w in zip(concepts, weights, strict=False)
    ]
    asked_total = sum(asked_weights) or 1.0
    covers = []
    asked_covers = []
    rows = []
    for cand in candidates:
        unit = cand.unit
        stems = unit.stems()
        covers.append(_coverage(stems, query, weights, total))
        asked_covers.append(_coverage(stems, query, asked_weights, asked_total))
    best_cover = max(covers, default=0.0)
    for cand, cover in zip(candidates, covers, strict=True):
        unit = cand.unit
        p = unit.passage
        context = frozenset(terms(f"{in_context(p, unit.text)} {p.document}")) | unit.stems()
        cross = float(p.language != query.language)
        asked = query.asks is not None
        match = asked and query.answered_by(unit.text)
        # The multilingual model's view where it runs, else the English model's; where the English model does not
        # apply (another language), its view is taken to be the multilingual one, so no feature marks the language.
        main = cand.multilingual if cand.multilingual.rank else cand.english
        english = cand.english if cand.english.rank else main
        rows.append(
            [
                main.cosine,
                min(main.gap, 5.0),
                float(main.rank == 1),
                float(0 < main.rank <= 3),
                main.z,
                english.cosine,
                min(english.gap, 5.0),
                float(english.rank == 1),
                english.z,
                float(cand.english.rank > 0),
                float(cand.passage_rank == 1),
                float(cand.passage_rank > 0),
                cand.fused,
                cand.lexical,
                cover,
                cover * (1.0 - cross),
                _coverage(context, query, weights, total),
                best_cover - cover,
                float(asked),
                float(match),
                float(asked and not match),
                float(p.n == 0),
                float(p.n == 0 and query.about_source),
                float(bool(unit.quote)),
                math.log1p(len(unit.text.split())),
                cross,
                main.z * cover,
                english.z * cover,
                float(match) * cover,
            ]
        )
    matrix = np.array(rows, dtype=np.float64).reshape(len(rows), len(SENTENCE_FEATURES))
    return Features(
        candidates=list(candidates),
        rows=matrix,
        coverage=covers,
        unknown=unknown / total,
        asked_coverage=asked_covers,
        story=1.0 - sum(asked_weights) / total if any(asked_weights) else 0.0,
    )


def question_features(query: Query, features: Features, probabilities: np.ndarray) -> np.ndarray:
    """One row (QUESTION_FEATURES order) for deciding whether the sources answer the question."""
    order = np.argsort(-probabilities) if len(probabilities) else np.array([], dtype=int)
    best = float(probabilities[order[0]]) if len(order) else 0.0
    second = float(probabilities[order[1]]) if len(order) > 1 else 0.0
    rows = features.rows
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    top = order[:3]
    same = [rows[i, col["dense_gap"]] for i in top if rows[i, col["cross_language"]] == 0]
    cross = all(rows[i, col["cross_language"]] == 1 for i in top) if len(top) else False

    def column(name: str) -> list[float]:
        return [float(v) for v in rows[:, col[name]]] if len(rows) else []

    cosine, z, english, english_z = column("dense"), column("dense_z"), column("english_dense"), column("english_z")
    return np.array(
        [
            best,
            second,
            max(cosine, default=0.0),
            max(english, default=0.0),
            cosine[order[0]] if len(order) else 0.0,
            max(z, default=0.0),
            max(english_z, default=0.0),
            z[order[0]] if len(order) else 0.0,
            max(features.coverage, default=0.0),
            max(features.asked, default=0.0),
            features.story,
            min(same) if same else 5.0,
            float(query.asks is not None),
            float(any(rows[i, col["kind_match"]] for i in top)),
            float(query.asks is not None and bool(len(order)) and rows[order[0], col["kind_match"]] == 0),
            _kind_coverage(query, features, column("kind_match")),
            features.unknown,
            float(cross),
            math.log1p(len(query.concepts or query.context)),
            float(query.legal_advice),
            float(query.legal_advice) * max(features.coverage, default=0.0),
            float(bool(len(order)) and rows[order[0], col["publication_asked"]] == 1),
            float(query.injection),
        ],
        dtype=np.float64,
    )


def _kind_coverage(query: Query, features: Features, kind_match: list[float]) -> float:
    """How much of what is asked the best sentence holding the kind of fact asked for covers (any sentence, for an
    open question): for "how much is a kennel permit?", a fee and a sentence naming the permit are no answer."""
    covers = features.asked
    if query.asks is None:
        return max(covers, default=0.0)
    return max((c for c, m in zip(covers, kind_match, strict=True) if m), default=0.0)
