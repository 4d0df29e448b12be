"""Abstention as a calibrated decision: split the questions, sweep the threshold on the scorer's answer
probability, pick it on one half and judge it on the other. A question abstains when it is refused outright
(injection, bad input) or when its answer probability is below the threshold."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evals.metrics import f1

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(21))


@dataclass(frozen=True)
class CurvePoint:
    """Abstention quality at one answer-probability threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    false_abstention: float


def split_of(question_id: str, held_out_share: float = 0.5) -> str:
    """'calibration' or 'held_out', fixed per question id (a hash, so adding questions moves no others)."""
    bucket = int(hashlib.sha256(question_id.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "held_out" if bucket < held_out_share else "calibration"


def abstains_at(row: dict[str, Any], threshold: float) -> bool:
    """Whether the answer path would abstain on this question at this threshold."""
    checks = row["checks"]
    if checks["forced"]:
        return bool(checks["abstained"])
    return float(checks["answerable_p"]) < threshold


def point(rows: Sequence[dict[str, Any]], threshold: float) -> CurvePoint:
    """Abstention precision, recall, F1 and false-abstention rate at one threshold."""
    predicted = [abstains_at(r, threshold) for r in rows]
    should = [bool(r["checks"]["should_abstain"]) for r in rows]
    tp = sum(p and s for p, s in zip(predicted, should, strict=True))
    precision = tp / sum(predicted) if any(predicted) else 1.0
    recall = tp / sum(should) if any(should) else 1.0
    answerable = [p for p, s in zip(predicted, should, strict=True) if not s]
    false_abstention = sum(answerable) / len(answerable) if answerable else 0.0
    return CurvePoint(
        threshold, round(precision, 4), round(recall, 4), round(f1(precision, recall), 4), round(false_abstention, 4)
    )


def curve(rows: Sequence[dict[str, Any]], thresholds: Sequence[float] = THRESHOLDS) -> list[CurvePoint]:
    """The precision/recall trade-off across thresholds."""
    return [point(rows, t) for t in thresholds]


def choose(points: Sequence[CurvePoint], lean: float = 2 / 3) -> float:
    """A threshold on the best-F1 plateau (fewest false abstentions first), two-thirds of the way up it: inside the
    plateau every threshold scores alike here, and for a resident an answer to a question the sources don't cover
    costs more than an abstention, so the choice leans toward abstaining while keeping a margin on both sides."""
    best = max((p.f1, -p.false_abstention) for p in points)
    plateau = [p.threshold for p in points if (p.f1, -p.false_abstention) == best]
    return plateau[round((len(plateau) - 1) * lean)]


def calibrate(rows: Sequence[dict[str, Any]], in_use: float) -> dict[str, Any]:
    """Curves on both halves, the threshold the calibration half picks, and how both thresholds do on the held-out
    half."""
    halves = {name: [r for r in rows if split_of(r["id"]) == name] for name in ("calibration", "held_out")}
    curves = {name: curve(rs) for name, rs in halves.items()}
    chosen = choose(curves["calibration"])
    return {
        "questions": {name: len(rs) for name, rs in halves.items()},
        "chosen_threshold": chosen,
        "threshold_in_use": in_use,
        "held_out_at_chosen": point(halves["held_out"], chosen).__dict__,
        "held_out_at_in_use": point(halves["held_out"], in_use).__dict__,
        "curves": {name: [p.__dict__ for p in pts] for name, pts in curves.items()},
    }
