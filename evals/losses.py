"""Where held-out answers are lost: no answering sentence among the candidates (retrieval), one there but not ranked
first (the sentence model), or the answer probability on the wrong side of the cut-off (the answer decision)."""

from typing import Any

import numpy as np

from evals.calibration import point


def candidate_checks(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Whether an answering sentence is among a question's candidates, is the likeliest, or among the three
    likeliest, by the sentence model's probabilities."""
    order = np.argsort(-probabilities, kind="stable")
    return {
        "reachable": float(labels.any()),
        "first_answers": float(labels[order[:1]].any()),
        "top3_answers": float(labels[order[:3]].any()),
    }


def _auc(p: np.ndarray, positive: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if positive.all() or not positive.any():
        return None
    return round(float(roc_auc_score(positive, p)), 4)


def losses(rows: list[dict[str, Any]], abstention_recall: float, false_abstention: float) -> dict[str, Any]:
    """The share of answerable questions each stage could still answer, how well the answer probability tells
    answerable from unanswerable, and what one cut-off on it could reach at each target."""
    answerable = [r["checks"] for r in rows if not r["checks"]["should_abstain"] and "reachable" in r["checks"]]
    decided = [r["checks"] for r in rows if not r["checks"]["forced"]]

    def share(key: str) -> float | None:
        return round(float(np.mean([c[key] for c in answerable])), 4) if answerable else None

    # Every cut-off that separates two decided questions, and one above them all; the refusals it does not decide
    # (advice, injection, bad input) stay as they were.
    cuts = np.unique([float(c.get("answerable_p", 0.0)) for c in decided] + [np.inf])
    sweep = [point(rows, float(cut)) for cut in cuts]
    at_recall = [s.false_abstention for s in sweep if s.recall >= abstention_recall]
    at_false = [s.recall for s in sweep if s.false_abstention <= false_abstention]
    return {
        "answerable": len(answerable),
        "reachable": share("reachable"),
        "first_answers": share("first_answers"),
        "top3_answers": share("top3_answers"),
        "decided": len(decided),
        "auc": _auc(
            np.array([float(c.get("answerable_p", 0.0)) for c in decided]),
            np.array([not c["should_abstain"] for c in decided]),
        ),
        "abstention_recall": abstention_recall,
        "least_false_abstention": round(min(at_recall), 4) if at_recall else None,
        "false_abstention": false_abstention,
        "most_abstention_recall": round(max(at_false), 4) if at_false else None,
    }


def losses_markdown(part: dict[str, Any]) -> list[str]:
    """The losses as a few lines of the suites report."""

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    return [
        f"- An answering sentence among the candidates: {fmt(part['reachable'])} of {part['answerable']} answerable "
        "questions (the most an answer could cite).",
        f"- The likeliest candidate answers: {fmt(part['first_answers'])}; one of the three likeliest: "
        f"{fmt(part['top3_answers'])}.",
        f"- Answer probability, answerable against not, over the {part['decided']} questions it decides: "
        f"AUC {fmt(part['auc'])}.",
        f"- With one cut-off on it: refusing at least {part['abstention_recall']:.0%} of what nothing answers "
        f"wrongly refuses {fmt(part['least_false_abstention'])} of the answerable; wrongly refusing at most "
        f"{part['false_abstention']:.0%} refuses {fmt(part['most_abstention_recall'])} of what nothing answers.",
    ]
