"""The fitted models that pick sentences and decide answerability: two logistic regressions over the features of
bot/features.py, stored as plain numbers in JSON (fitted by `civicbot eval --suite all --fit`, on eval suites of
several corpora; scored leave-one-suite-out). There is one pair per view of the question: the English model's
alone, and the multilingual model's. The two models' similarities have different scales, so a weight fitted on one
misreads the other."""

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import CivicbotError
from bot.features import QUESTION_FEATURES, SENTENCE_FEATURES

SCORER_PATH = Path(__file__).with_name("scorer.json")


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
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class Scorer:
    """Which sentences answer (sentence model), whether the question is answered at all (question model), and
    the probability cut-offs for each, chosen on the data it was fitted on."""

    sentence: LinearModel
    question: LinearModel
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
            raw = data[key]
            model = LinearModel(
                names=tuple(raw["names"]),
                coef=tuple(float(v) for v in raw["coef"]),
                intercept=float(raw["intercept"]),
                mean=tuple(float(v) for v in raw["mean"]),
                scale=tuple(float(v) for v in raw["scale"]),
            )
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
        return json.dumps({"english": asdict(self.english), "multilingual": asdict(self.multilingual)}, indent=1)

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
