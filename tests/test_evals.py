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


def _row(qid: str, answerable: bool, right: bool) -> dict[str, object]:
    """One suite question's checks: answered with the gold passage and its facts, or refused, as right says."""
    abstained = (not answerable) == right
    checks: dict[str, object] = {"abstained": abstained, "should_abstain": not answerable, "forbidden": []}
    checks.update(markers_match=True, words=20, latency_ms=10.0)
    if answerable:
        checks.update(gold_cited=float(not abstained), facts=float(not abstained))
    return {"id": qid, "question": qid, "category": "direct", "checks": checks}


def test_a_change_is_told_apart_from_chance_by_a_paired_bootstrap() -> None:
    from evals.report import paired_deltas

    old = [_row(f"q{i}", answerable=i % 4 != 0, right=i % 2 == 0) for i in range(400)]
    same = paired_deltas(old, old)
    assert all(d["delta"] == d["low"] == d["high"] == 0.0 for d in same.values())
    # One answerable question of 300 now answered: a real change, but no sample of questions could tell it from chance.
    one = [_row(r["id"], True, True) if r["id"] == "q1" else r for r in old]  # type: ignore[arg-type]
    d = paired_deltas(old, one)["gold_cited"]
    assert d["delta"] > 0 and d["low"] <= 0.0 <= d["high"]
    # Sixty answered: the interval leaves 0 out, and the refusals of answerable questions fall by as much.
    many = [_row(r["id"], True, True) if i % 4 and i < 160 else r for i, r in enumerate(old)]  # type: ignore[arg-type]
    moved = paired_deltas(old, many)
    assert moved["gold_cited"]["low"] > 0 and moved["false_abstention"]["high"] < 0
    assert moved["abstention_recall"]["delta"] == 0.0
    # The figures compared are the report's own.
    from evals.scoring import summarize

    report = summarize(many, set())["all"]  # type: ignore[arg-type]
    assert all(round(d["new"], 4) == report[name] for name, d in moved.items())


def test_suite_runs_are_compared_question_by_question() -> None:
    from evals.report import compare_suites

    old = {"hints": True, "rows": {"pools": [_row("p1", True, False), _row("p2", False, True)]}}
    new = {
        "hints": False,
        "rows": {"pools": [_row("p1", True, True), _row("p2", False, False)], "other": [_row("p1", True, True)]},
    }
    text = compare_suites(old, new)
    # Questions are matched by suite and id: "other/p1" was not in the earlier run.
    assert "the 2 questions in both runs" in text and "one without" in text
    assert "**Better (1):** pools/p1" in text and "**Worse (1):** pools/p2" in text
    assert compare_suites(old, {"rows": {"other": [_row("p1", True, True)]}}).startswith("No question")


def test_eval_refuses_a_comparison_file_that_is_not_an_earlier_suite_run(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from evals.run import command

    app = typer.Typer()
    app.command()(command)

    staff = tmp_path / "results.json"
    staff.write_text('{"summary": {}, "questions": []}', encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\xff{not json")
    for path in (staff, broken, tmp_path / "missing.json"):
        done = CliRunner().invoke(app, ["--suite", "pools", "--compare", str(path), "--out", str(tmp_path / "out")])
        assert done.exit_code == 2 and path.name in done.output
        assert not (tmp_path / "out").exists()  # it failed before running anything


def test_candidate_checks_say_where_the_answering_sentence_stood() -> None:
    import numpy as np

    from evals.losses import candidate_checks

    labels = np.array([False, False, False, True])
    # Among the candidates, third by the sentence model: reachable, in the three likeliest, not the likeliest.
    assert candidate_checks(labels, np.array([0.9, 0.8, 0.1, 0.5])) == {
        "reachable": 1.0,
        "first_answers": 0.0,
        "top3_answers": 1.0,
    }
    assert candidate_checks(labels, np.array([0.9, 0.8, 0.6, 0.5]))["top3_answers"] == 0.0
    assert candidate_checks(np.zeros(0, bool), np.zeros(0)) == dict.fromkeys(
        ("reachable", "first_answers", "top3_answers"), 0.0
    )


def _decided(qid: str, answerable: bool, p: float, forced: bool = False) -> dict[str, object]:
    row = _row(qid, answerable, right=not forced)
    row["checks"].update(answerable_p=p, forced=forced, reachable=1.0, first_answers=1.0, top3_answers=1.0)  # type: ignore[attr-defined]
    return row


def test_losses_say_what_one_cut_off_on_the_answer_probability_could_reach() -> None:
    from evals.losses import losses, losses_markdown

    # Told apart perfectly: one cut-off refuses everything unanswerable and answers everything else.
    rows = [_decided(f"a{i}", True, 0.6 + i / 100) for i in range(20)]
    rows += [_decided(f"u{i}", False, 0.1 + i / 100) for i in range(20)]
    part = losses(rows, 0.95, 0.05)
    assert part["auc"] == 1.0 and part["least_false_abstention"] == 0.0 and part["most_abstention_recall"] == 1.0
    # Mixed up: refusing 95% of the unanswerable takes nearly all the answerable with it.
    mixed = [_decided(r["id"], r["checks"]["should_abstain"], r["checks"]["answerable_p"]) for r in rows]  # type: ignore[index]
    part = losses(mixed, 0.95, 0.05)
    assert part["auc"] == 0.0 and part["least_false_abstention"] == 1.0 and part["most_abstention_recall"] == 0.0
    # A refusal the cut-off does not decide (advice) stays a refusal at every cut-off, and is not in the AUC.
    advice = [*rows[1:], _decided("a0", True, 0.0, forced=True)]
    part = losses(advice, 0.95, 0.01)
    assert part["least_false_abstention"] == 0.05 and part["most_abstention_recall"] is None
    assert part["auc"] == 1.0 and part["decided"] == 39
    text = "\n".join(losses_markdown(part))
    assert "AUC 1.000" in text and "refuses n/a" in text


def test_a_refusal_counts_as_the_cut_offs_only_where_the_probability_fell_below_it() -> None:
    from bot.records import Answer
    from evals.scoring import _forced

    def answer(kind: str, abstained: bool, **signals: float) -> Answer:
        return Answer(question="q", text="t", abstained=abstained, kind=kind, signals=signals)  # type: ignore[arg-type]

    assert not _forced(answer("answer", False, answerable=0.8, needed=0.5))
    # A resident's own case refused for want of evidence is the cut-off's doing; refused though the evidence was
    # there (what should I do?), it is not.
    assert not _forced(answer("legal_advice", True, answerable=0.3, needed=0.5))
    assert _forced(answer("legal_advice", True, answerable=0.7, needed=0.5))
    assert not _forced(answer("out_of_scope", True, answerable=0.3, needed=0.5))
    assert _forced(answer("out_of_scope", True))  # nothing asked: no probability at all
    assert _forced(answer("invalid", True, answerable=0.1, needed=0.5))
