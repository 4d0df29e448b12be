"""Eval metrics against hand-computed values, and the question file's validation."""

from pathlib import Path

import pytest

from evals import metrics as m
from evals.scoring import HERE, check_gates, load_questions


def test_retrieval_metrics_match_hand_computed_values() -> None:
    ranked, gold = ["a", "b", "c", "d"], {"b", "d"}
    assert m.recall_at(ranked, gold, 1) == 0.0
    assert m.recall_at(ranked, gold, 3) == 0.5
    assert m.reciprocal_rank(ranked, gold) == 0.5
    # DCG = 1/log2(3) + 1/log2(5) = 0.6309 + 0.4307; ideal = 1 + 0.6309
    assert m.ndcg_at(ranked, gold, 5) == pytest.approx((0.63093 + 0.43068) / 1.63093, abs=1e-4)


def test_answer_metrics() -> None:
    answer = "The order bars ICE from city property without a judicial warrant [1]. Police do not assist [2]."
    assert m.fact_recall(answer, [["judicial warrant"], ["pro bono", "free"]]) == 0.5
    assert m.forbidden_hits(answer, ["ICE is banned", "police do not"]) == ["police do not"]
    assert [ns for _, ns in m.cited_sentences(answer)] == [[1], [2]]
    quoted = "Scott said: “This is about readiness. We took action.” [1] However, data differ [2]. Unsourced."
    assert [ns for _, ns in m.cited_sentences(quoted)] == [[1], [2], []]
    assert m.supports(
        "The order bars ICE from city property [1].",
        "The Baltimore order bars ICE agents from using city owned property.",
    )
    assert not m.supports("Police will arrest ICE agents [1].", "Residents may volunteer.")
    assert m.percentile([1, 2, 3, 4], 50) == 2.5 and m.f1(1.0, 0.5) == pytest.approx(2 / 3)


def test_the_shipped_question_set_is_valid_and_broad() -> None:
    qs = load_questions(HERE / "suites" / "baltimore" / "questions.jsonl")
    assert len(qs) >= 60
    cats = {q.category for q in qs}
    assert {
        "direct",
        "lay",
        "not_does",
        "attribution",
        "out_of_scope",
        "legal_advice",
        "injection",
        "follow_up",
    } <= cats


def test_a_bad_question_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "q", "category": "c", "answerable": false}\n{"id": "b"}\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"q.jsonl:2"):
        load_questions(path)


def test_gates_fail_below_and_above_limits() -> None:
    summary = {"gated": {"fact_recall": 0.8, "forbidden_claims": 1}, "categories": {}}
    failed = check_gates(summary, {"gated": {"fact_recall": 0.9, "max_forbidden_claims": 0}})
    assert len(failed) == 2
    assert check_gates(summary, {"gated": {"fact_recall": 0.5, "max_forbidden_claims": 1}}) == []


def test_the_threshold_leans_toward_abstaining_on_the_best_plateau() -> None:
    from evals.calibration import CurvePoint, choose

    def pt(t: float, f1: float, fa: float = 0.0) -> CurvePoint:
        return CurvePoint(t, 1.0, 1.0, f1, fa)

    points = [pt(0.1, 0.8), pt(0.2, 1.0), pt(0.3, 1.0), pt(0.4, 1.0), pt(0.5, 1.0), pt(0.6, 0.9, 0.1)]
    assert choose(points) == 0.4  # two-thirds of the way up 0.2–0.5
    assert choose([pt(0.3, 0.9), pt(0.4, 0.9, 0.2)]) == 0.3  # equal F1: fewer false abstentions wins


def test_the_suite_gates_have_targets_and_a_floor() -> None:
    import tomllib

    limits = tomllib.loads((HERE / "thresholds.toml").read_text(encoding="utf-8"))
    keys = {"gold_cited", "facts", "max_false_abstention", "abstention_recall", "max_wrong_document"}
    assert keys <= set(limits["targets"]) and keys <= set(limits["held_out"])
    assert limits["targets"]["max_wrong_speakers"] == limits["held_out"]["max_wrong_speakers"] == 0
    assert not keys & set(limits["spanish"])  # the floor is not a category's gate


def test_a_suite_marked_unseen_is_scored_but_never_fitted_on(tmp_path: Path) -> None:
    from evals.suites import find_suites

    for name in ("seen", "unseen"):
        (tmp_path / name / "corpus").mkdir(parents=True)
        (tmp_path / name / "questions.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "unseen" / "UNSEEN").write_text("never fitted on\n", encoding="utf-8")
    suites = {s.name: s for s in find_suites("all", root=tmp_path)}
    assert not suites["seen"].unseen and suites["unseen"].unseen
    shipped = find_suites("all")
    assert [s.name for s in shipped if s.unseen] == ["energia", "pools", "rezoning", "vending"]
