"""Eval suites over several corpora (evals/suites/<name>/: corpus/, questions.jsonl, optional speakers.jsonl):
load them, build each one's index, collect labelled (question, sentence) rows, and fit the answer scorer on some
suites to score the others (leave-one-suite-out; suites that share a corpus are held out together). A suite with an
`UNSEEN` file is never fitted on, by the shipped scorer or any held-out one: it measures the engine on documents
and questions that no fit has seen."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from bot.answer import Answerer
from bot.config import Settings
from bot.features import MONOTONE, QUESTION_FEATURES, SENTENCE_FEATURES, Features, question_features, sentence_features
from bot.query import Query
from bot.records import Passage
from bot.scorer import BoostedTrees, Ensemble, LinearModel, Scorer, Scorers, Tree
from evals.scoring import Question, load_questions

SUITES = Path(__file__).resolve().parent / "suites"


class Speaker(BaseModel):
    """One sentence of reported speech and who said it (speakers.jsonl)."""

    model_config = ConfigDict(extra="ignore")

    doc: str
    quote: str
    speaker: str
    aliases: list[str] = []


@dataclass
class Suite:
    """One corpus with its questions and, where it reports speech, who said what."""

    name: str
    path: Path
    questions: list[Question]
    speakers: list[Speaker] = field(default_factory=list)

    @property
    def corpus(self) -> Path:
        """The suite's corpus folder."""
        return self.path / "corpus"

    @property
    def unseen(self) -> bool:
        """Whether the suite is kept out of every fit, scored only."""
        return (self.path / "UNSEEN").is_file()

    @property
    def group(self) -> str:
        """Suites with the same documents share a group: they are held out together."""
        digest = hashlib.sha256()
        for doc in sorted(self.corpus.glob("*.md")):
            digest.update(doc.read_bytes())
        return digest.hexdigest()[:12]


def load_suite(path: Path) -> Suite:
    """Read one suite folder; errors name the file and line."""
    speakers_file = path / "speakers.jsonl"
    speakers = [
        Speaker.model_validate(json.loads(line))
        for line in (speakers_file.read_text(encoding="utf-8").splitlines() if speakers_file.is_file() else [])
        if line.strip()
    ]
    return Suite(name=path.name, path=path, questions=load_questions(path / "questions.jsonl"), speakers=speakers)


def find_suites(names: str, root: Path = SUITES) -> list[Suite]:
    """The suites named ("all", or comma-separated names)."""
    available = sorted(p for p in root.iterdir() if (p / "questions.jsonl").is_file())
    wanted = [p for p in available if names == "all" or p.name in names.split(",")]
    if not wanted:
        raise ValueError(f"no eval suite named {names!r}; there are: {', '.join(p.name for p in available)}")
    return [load_suite(p) for p in wanted]


def resolve_gold(question: Question, passages: Sequence[Passage]) -> set[str]:
    """Gold passage ids: those given, and the passages holding each gold quote ("@header:<slug>": its details)."""
    gold = set(question.gold)
    for quote in question.gold_quotes:
        if quote.startswith("@header:"):
            gold.add(f"{quote.removeprefix('@header:')}#p0")
            continue
        found = [p.id for p in passages if quote in p.text]
        if not found and any(quote in p.context for p in passages):
            continue  # a heading (or a bold line used as one) is context, never an answer of its own
        if not found:
            raise ValueError(f"{question.id}: gold quote not found in any passage: {quote[:60]!r}")
        gold.update(found)
    return gold


def suite_settings(suite: Suite, data_root: Path, hints: bool) -> Settings:
    """Settings that point civicbot at a suite's corpus and a data folder of its own."""
    return Settings(
        corpus_dir=suite.corpus,
        data_dir=data_root / suite.name,
        referrals_file=suite.corpus / "referrals.yaml" if (suite.corpus / "referrals.yaml").is_file() else None,
        hints=hints,
    )


@dataclass
class Example:
    """One question's candidate sentences, features and labels: what the scorer is fitted on."""

    suite: str
    group: str
    query: Query
    features: Features
    labels: np.ndarray
    answerable: bool
    # Whether the answer path reads the question the way these candidates were found (else the other view does).
    as_asked: bool = True


def _label(features: Features, gold: set[str], required: Sequence[Sequence[str]]) -> np.ndarray:
    """A candidate answers when it is in a gold passage and holds a required fact (any sentence of the gold
    passage, when none of its sentences holds one)."""
    labels = []
    holds = {
        c.unit.key: any(alt.lower() in c.unit.text.lower() for group in required for alt in group)
        for c in features.candidates
    }
    gold_with_fact = {c.unit.passage.id for c in features.candidates if holds[c.unit.key]}
    for c in features.candidates:
        pid = c.unit.passage.id
        labels.append(pid in gold and (holds[c.unit.key] or pid not in gold_with_fact))
    return np.array(labels, dtype=bool)


def examples(suite: Suite, answerer: Answerer, gold: dict[str, set[str]], multilingual: bool) -> list[Example]:
    """Labelled candidates for every question of a suite, as the answer path sees them when it reads the question
    with the multilingual model, or with the English model alone."""
    snap = answerer.retriever.current()
    out = []
    for q in suite.questions:
        query = snap.analyze(q.question, tuple(q.history))
        found = answerer.retriever.search(query, snapshot=snap, multilingual=multilingual)
        features = sentence_features(query, found, snap)
        labels = _label(features, gold[q.id], q.required) if q.answerable else np.zeros(len(found.candidates), bool)
        as_asked = answerer.retriever.reads_multilingual(query, snap) == found.multilingual
        out.append(Example(suite.name, suite.group, query, features, labels, q.answerable, as_asked))
    return out


def _linear(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    # Balanced classes: a handful of answering sentences among many candidates must still count.
    model = LogisticRegression(C=0.05, class_weight="balanced", max_iter=3000).fit((x - mean) / scale, y)
    return LinearModel(
        names=names,
        coef=tuple(float(c) for c in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
    )


def _boosted(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> BoostedTrees:
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Shallow trees, and few: a few hundred questions support interactions of two signals, not deeper ones, and 50
    # trees separate as well held out as 100 while jumping less where a signal crosses a split. A closer match
    # never makes an answer less likely (MONOTONE), which also keeps a question unlike anything fitted on ("who won
    # the game?" against a tenants' FAQ) from landing in a leaf grown for good matches.
    model = HistGradientBoostingClassifier(
        max_depth=2, max_iter=50, learning_rate=0.1, min_samples_leaf=20, l2_regularization=1.0,
        class_weight="balanced", monotonic_cst=[MONOTONE.get(n, 0) for n in names], random_state=0,
    ).fit(x, y)  # fmt: skip
    return exported_trees(model, names)


def exported_trees(model: Any, names: tuple[str, ...]) -> BoostedTrees:
    """A fitted binary HistGradientBoostingClassifier as plain numbers, which need no pickle to load. scikit-learn
    keeps its trees as arrays of nodes, outside its public API: a test checks the copy predicts as the original."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(
            Tree(
                feature=tuple(int(v) for v in nodes["feature_idx"]),
                threshold=tuple(float(v) for v in nodes["num_threshold"]),
                left=tuple(-1 if is_leaf else int(v) for v, is_leaf in zip(nodes["left"], leaf, strict=True)),
                right=tuple(-1 if is_leaf else int(v) for v, is_leaf in zip(nodes["right"], leaf, strict=True)),
                value=tuple(float(v) for v in nodes["value"]),
            )
        )
    return BoostedTrees(names=names, trees=tuple(trees), bias=float(np.ravel(model._baseline_prediction)[0]))


def _question_model(x: np.ndarray, y: np.ndarray) -> Ensemble:
    """Half a regression, half boosted trees: the trees see signals together, the regression keeps the answer from
    jumping where a signal crosses one of their splits."""
    return Ensemble(
        names=QUESTION_FEATURES,
        members=(_linear(x, y, QUESTION_FEATURES), _boosted(x, y, QUESTION_FEATURES)),
        weights=(0.5, 0.5),
    )


def _out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each question's answer probability from a question model fitted without its corpus (two corpora or more):
    trees fit their own training questions almost perfectly, so cut-offs chosen on those would be chosen on
    nothing."""
    from sklearn.model_selection import GroupKFold

    p = np.zeros(len(y))
    for fit_on, score_on in GroupKFold(n_splits=min(5, len(set(groups)))).split(x, y, groups):
        p[score_on] = _question_model(x[fit_on], y[fit_on]).predict(x[score_on])
    return p


def fit_scorer(train: Sequence[Example], fitted_on: Sequence[str]) -> Scorer:
    """Fit the sentence model on labelled candidates, then the question model on its outputs; the answer
    threshold is the probability that best balances answering the answerable and refusing the rest, on
    probabilities from question models fitted without the question's corpus."""
    rows = [e for e in train if len(e.labels)]
    x = np.vstack([e.features.rows for e in rows])
    y = np.concatenate([e.labels for e in rows])
    sentence = _linear(x, y, SENTENCE_FEATURES)
    qx = np.vstack([question_features(e.query, e.features, sentence.predict(e.features.rows)) for e in train])
    qy = np.array([e.answerable for e in train])
    question = _question_model(qx, qy)
    groups = np.array([e.group for e in train])
    # With a single corpus there is nothing to hold out, and its own probabilities are all there is.
    p = _out_of_fold(qx, qy, groups) if len(set(groups)) > 1 else question.predict(qx)
    personal = np.array([e.query.legal_advice for e in train])
    threshold = _balanced_threshold(p[~personal], qy[~personal])
    # Never lower for a resident's own case than for a general question: there a wrong answer reads as advice.
    own_case = max(threshold, _balanced_threshold(p[personal], qy[personal])) if personal.sum() >= 10 else threshold
    across = ~personal & (qx[:, QUESTION_FEATURES.index("cross_language")] == 1)
    cross_language = _balanced_threshold(p[across], qy[across]) if across.sum() >= 10 else None
    return Scorer(
        sentence=sentence,
        question=question,
        answer_threshold=threshold,
        personal_threshold=own_case,
        cross_language_threshold=cross_language,
        fitted_on=tuple(fitted_on),
    )


def fit_scorers(english: Sequence[Example], multilingual: Sequence[Example], fitted_on: Sequence[str]) -> Scorers:
    """A scorer per view, each fitted on every question as read by that view: the English one on what the English
    model alone retrieves (as where the multilingual model does not run), the other on the multilingual model's."""
    return Scorers(english=fit_scorer(english, fitted_on), multilingual=fit_scorer(multilingual, fitted_on))


def _balanced_threshold(p: np.ndarray, answerable: np.ndarray) -> float:
    """The cut-off that maximizes the worse of (answerable answered, unanswerable refused); a tie goes to the
    higher cut-off, since answering what the sources don't cover costs a resident more than a refusal."""
    best, best_score = 0.5, -1.0
    for t in np.linspace(0.05, 0.95, 91):
        answered = (p >= t)[answerable].mean() if answerable.any() else 1.0
        refused = (p < t)[~answerable].mean() if (~answerable).any() else 1.0
        score = min(answered, refused) + 0.01 * (answered + refused)
        if score >= best_score:
            best, best_score = float(t), score
    return round(best, 3)
