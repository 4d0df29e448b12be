"""The fitted models that pick sentences and decide answerability over the features of bot/features.py: a logistic
regression per sentence, and per question a regression beside gradient-boosted trees, stored as plain numbers in
JSON (fitted by `civicbot eval --suite all --fit`, on eval suites of several corpora; scored leave-one-suite-out).
There is one pair per view of the question: the English model's alone, and the multilingual model's. The two
models' similarities have different scales, so a weight fitted on one misreads the other."""

import json
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import CivicbotError
from bot.features import QUESTION_FEATURES, SENTENCE_FEATURES

SCORER_PATH = Path(__file__).with_name("scorer.json")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class LinearModel:
    """A logistic regression on standardized features: p = sigmoid(((x - mean) / scale) · coef + intercept)."""

    names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row."""
        if rows.size == 0:
            return np.zeros(len(rows))
        z = ((rows - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef) + self.intercept
        return _sigmoid(z)


@dataclass(frozen=True)
class Tree:
    """One regression tree: node i sends a row left when its feature[i] <= threshold[i]; a leaf has left[i] == -1
    and gives value[i]."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]


@dataclass(frozen=True)
class BoostedTrees:
    """Gradient-boosted trees: p = sigmoid(bias + the sum of the trees' values). Whether a question is answered
    depends on its signals together (a similarity means less for a question in another language than the
    documents'), which one weight per feature cannot say."""

    names: tuple[str, ...]
    trees: tuple[Tree, ...]
    bias: float = 0.0

    @cached_property
    def _table(self) -> tuple[np.ndarray, ...]:
        """Every tree's nodes side by side (feature, threshold, left, right, value), padded to the largest tree,
        so that all trees are walked at once."""
        width = max(len(t.feature) for t in self.trees)

        def column(name: str, fill: float, dtype: type) -> np.ndarray:
            out: np.ndarray = np.full((len(self.trees), width), fill, dtype=dtype)
            for i, tree in enumerate(self.trees):
                out[i, : len(tree.feature)] = getattr(tree, name)
            return out

        return (
            column("feature", 0, np.int64),
            column("threshold", 0.0, np.float64),
            column("left", -1, np.int64),
            column("right", -1, np.int64),
            column("value", 0.0, np.float64),
        )

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row."""
        if rows.size == 0:
            return np.zeros(len(rows))
        if not self.trees:
            return np.full(len(rows), 0.5)
        feature, threshold, left, right, value = self._table
        x = np.asarray(rows, dtype=np.float64)
        tree = np.arange(len(self.trees))
        row = np.arange(len(x))[:, None]
        node = np.zeros((len(x), len(self.trees)), dtype=np.int64)
        while True:
            below = left[tree, node]
            inner = below != -1
            if not inner.any():
                break
            goes_left = x[row, feature[tree, node]] <= threshold[tree, node]
            node = np.where(inner, np.where(goes_left, below, right[tree, node]), node)
        z = self.bias + value[tree, node].sum(axis=1)
        return _sigmoid(z)


@dataclass(frozen=True)
class Ensemble:
    """A weighted mean of models' probabilities. Trees alone jump where a signal crosses one of their splits (an
    answer could flip when an unrelated document joins the corpus); beside a regression, the jumps are smaller."""

    names: tuple[str, ...]
    members: tuple["Model", ...]
    weights: tuple[float, ...]

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row."""
        return np.sum([w * m.predict(rows) for w, m in zip(self.weights, self.members, strict=True)], axis=0)


Model = LinearModel | BoostedTrees | Ensemble


def _model(raw: dict[str, Any]) -> Model:
    if "members" in raw:
        members = tuple(_model(m) for m in raw["members"])
        return Ensemble(names=tuple(raw["names"]), members=members, weights=tuple(float(w) for w in raw["weights"]))
    if "trees" in raw:
        trees = tuple(
            Tree(
                feature=tuple(int(v) for v in t["feature"]),
                threshold=tuple(float(v) for v in t["threshold"]),
                left=tuple(int(v) for v in t["left"]),
                right=tuple(int(v) for v in t["right"]),
                value=tuple(float(v) for v in t["value"]),
            )
            for t in raw["trees"]
        )
        return BoostedTrees(names=tuple(raw["names"]), trees=trees, bias=float(raw.get("bias", 0.0)))
    return LinearModel(
        names=tuple(raw["names"]),
        coef=tuple(float(v) for v in raw["coef"]),
        intercept=float(raw["intercept"]),
        mean=tuple(float(v) for v in raw["mean"]),
        scale=tuple(float(v) for v in raw["scale"]),
    )


@dataclass(frozen=True)
class Scorer:
    """Which sentences answer (sentence model), whether the question is answered at all (question model), and
    the probability cut-offs for each, chosen on suites the question model was not fitted on."""

    sentence: Model
    question: Model
    answer_threshold: float = 0.5
    select_threshold: float = 0.3
    fitted_on: tuple[str, ...] = ()
    # A question about the resident's own situation is answered only on firmer evidence: a wrong answer there is
    # taken as advice.
    personal_threshold: float = 0.5
    # A question in one language about documents in another shares few words with them, so its probabilities run
    # lower; its cut-off is balanced on such questions alone.
    cross_language_threshold: float | None = None

    def threshold(self, personal: bool, cross_language: bool = False) -> float:
        """The answer probability a question needs to be answered."""
        if personal:
            return self.personal_threshold
        if cross_language and self.cross_language_threshold is not None:
            return self.cross_language_threshold
        return self.answer_threshold

    @classmethod
    def untrained(cls) -> "Scorer":
        """A scorer with no weights (every probability 0.5): a placeholder while a real one is being fitted."""

        def blank(names: tuple[str, ...]) -> LinearModel:
            n = len(names)
            return LinearModel(names=names, coef=(0.0,) * n, intercept=0.0, mean=(0.0,) * n, scale=(1.0,) * n)

        return cls(sentence=blank(SENTENCE_FEATURES), question=blank(QUESTION_FEATURES), fitted_on=("untrained",))

    def to_json(self) -> str:
        """The scorer as JSON."""
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Scorer":
        """Rebuild a scorer from its JSON form; refuses one fitted on other features."""
        models = {}
        for key, names in (("sentence", SENTENCE_FEATURES), ("question", QUESTION_FEATURES)):
            model = _model(data[key])
            if model.names != names:
                raise CivicbotError(f"the {key} model was fitted on other features; refit it (civicbot eval --fit)")
            models[key] = model
        return cls(
            sentence=models["sentence"],
            question=models["question"],
            answer_threshold=float(data["answer_threshold"]),
            select_threshold=float(data["select_threshold"]),
            fitted_on=tuple(data.get("fitted_on", ())),
            personal_threshold=float(data.get("personal_threshold", data["answer_threshold"])),
            cross_language_threshold=(
                float(data["cross_language_threshold"]) if data.get("cross_language_threshold") is not None else None
            ),
        )


@dataclass(frozen=True)
class Scorers:
    """A scorer per view: for questions read by the English model alone (English questions about English
    documents, and every question where the multilingual model does not run) and for those read by the
    multilingual model (a question or a document in another language)."""

    english: Scorer
    multilingual: Scorer

    def for_view(self, multilingual: bool) -> Scorer:
        """The scorer fitted on questions read the same way."""
        return self.multilingual if multilingual else self.english

    @classmethod
    def untrained(cls) -> "Scorers":
        """Placeholders while real scorers are being fitted."""
        return cls(english=Scorer.untrained(), multilingual=Scorer.untrained())

    def to_json(self) -> str:
        """Both scorers as JSON."""
        return json.dumps({"english": asdict(self.english), "multilingual": asdict(self.multilingual)})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Scorers":
        """Rebuild both scorers from their JSON form; refuses a file from before there was a scorer per view."""
        if "sentence" in data and "english" not in data:
            raise CivicbotError("the scorer file has one scorer, not one per view; refit it (civicbot eval --fit)")
        return cls(english=Scorer.from_dict(data["english"]), multilingual=Scorer.from_dict(data["multilingual"]))


@lru_cache(maxsize=4)
def load_scorers(path: Path = SCORER_PATH) -> Scorers:
    """The shipped (or given) scorers."""
    try:
        return Scorers.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CivicbotError(f"{path}: the answer scorer cannot be read ({exc.__class__.__name__})") from exc
