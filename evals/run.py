"""`civicbot eval`: run the staff question set through the one answer path, score it, gate it, report it."""

import json
import statistics
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ConfigDict, ValidationError
from rich.progress import track

from bot.answer import Answerer
from bot.config import Settings
from bot.language import language_name, message
from evals import metrics as m
from evals.calibration import calibrate
from evals.report import compare, markdown_report, write_reports

HERE = Path(__file__).resolve().parent
K = 5


class Question(BaseModel):
    """One line of questions.jsonl."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    category: str
    answerable: bool
    gold: list[str] = []
    gold_quotes: list[str] = []
    gold_docs: list[str] = []
    required: list[list[str]] = []
    forbidden: list[str] = []
    language: str = "en"
    history: list[str] = []


def load_questions(path: Path) -> list[Question]:
    """Read and validate the question file; an error names the line."""
    out, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            q = Question.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}:{n}: {' '.join(str(exc).split())[:300]}") from exc
        if q.id in seen:
            raise ValueError(f"{path}:{n}: duplicate id {q.id!r}")
        if q.answerable and not (q.gold or q.gold_quotes):
            raise ValueError(f"{path}:{n}: an answerable question needs gold passage ids or quotes")
        seen.add(q.id)
        out.append(q)
    return out


def score(q: Question, answerer: Answerer, gold: set[str] | None = None, speakers: Any = ()) -> dict[str, Any]:
    """Ask one question and judge the answer on every metric."""
    answer = answerer.ask(q.question, history=q.history)
    retriever = answerer.retriever
    ranked = [h.passage.id for h in retriever.retrieve(retriever.analyze(q.question, tuple(q.history)), k=K)]
    gold = set(q.gold) if gold is None else gold
    row: dict[str, Any] = {**q.model_dump(), "result": answer.to_dict(), "ranked": ranked}
    text = answer.text
    by_n = {c.n: c.passage for c in answer.citations}
    sentences = m.cited_sentences(text)
    pairs = [(s, by_n[n]) for s, ns in sentences for n in ns if n in by_n]
    markers = {int(x) for x in m.MARKER.findall(text)}
    row["checks"] = {
        "abstained": answer.abstained,
        "should_abstain": not q.answerable,
        "markers_match": markers == set(by_n) and len(by_n) == len(answer.citations),
        "forbidden": m.forbidden_hits(text, q.forbidden),
        "words": len(m.MARKER.sub("", text).split()),
        "latency_ms": answer.latency_ms,
        # Refusals (legal advice, injection, bad input) are not the coverage threshold's decision.
        "forced": answer.kind not in ("answer", "out_of_scope") or "answerable" not in answer.signals,
        "answerable_p": answer.signals.get("answerable", 0.0),
        "wrong_speakers": m.wrong_speakers(text, [c.passage.text for c in answer.citations], speakers),
    }
    if q.answerable:
        cited = {c.passage.id for c in answer.citations}
        row["checks"]["gold_cited"] = float(not answer.abstained and bool(cited & gold))
        row["checks"]["facts"] = 0.0 if answer.abstained else m.fact_recall(text, q.required)
        docs = set(q.gold_docs) or {g.split("#")[0] for g in gold}
        if not answer.abstained and answer.citations:
            row["checks"]["wrong_document"] = sum(c.passage.slug not in docs for c in answer.citations) / len(
                answer.citations
            )
    if gold:
        row["checks"].update(
            {
                "recall@1": m.recall_at(ranked, gold, 1),
                "recall@3": m.recall_at(ranked, gold, 3),
                "recall@5": m.recall_at(ranked, gold, 5),
                "mrr": m.reciprocal_rank(ranked, gold),
                "ndcg@5": m.ndcg_at(ranked, gold, 5),
            }
        )
    if q.answerable and not answer.abstained:
        evidence = [s for s, ns in sentences if ns]
        row["checks"].update(
            {
                "fact_recall": m.fact_recall(text, q.required),
                "citation_precision": sum(m.supports(s, p.text) for s, p in pairs) / len(pairs) if pairs else 0.0,
                "citation_recall": len(evidence) / max(1, len([s for s, _ in sentences if _is_claim(s, answer)])),
                "gold_citation_share": sum(c.passage.id in gold for c in answer.citations) / len(answer.citations),
            }
        )
    return row


def _is_claim(sentence: str, answer: Any) -> bool:
    """civicbot's own framing (the lead-in before quoted evidence, the note on a personal question, the referral)
    is not a claim that needs a citation."""
    names = [language_name(lang, answer.language) for lang in ("en", "es")]
    framing = [message(answer.language, "lead", source_language=n) for n in names]
    framing += [message(answer.language, "personal_note"), answer.referral]
    return bool(m.MARKER.search(sentence)) or not any(sentence.strip() in f for f in framing if f)


def summarize(rows: list[dict[str, Any]], gated: set[str]) -> dict[str, Any]:
    """Metric averages overall (gated categories), per category, and abstention precision/recall/F1."""

    def avg(rs: list[dict[str, Any]], key: str) -> float | None:
        vals = [r["checks"][key] for r in rs if key in r["checks"]]
        return round(statistics.fmean(vals), 4) if vals else None

    def block(rs: list[dict[str, Any]]) -> dict[str, Any]:
        should = [r for r in rs if r["checks"]["should_abstain"]]
        did = [r for r in rs if r["checks"]["abstained"]]
        tp = sum(1 for r in did if r["checks"]["should_abstain"])
        precision = tp / len(did) if did else 1.0
        recall = tp / len(should) if should else 1.0
        answerable = [r for r in rs if not r["checks"]["should_abstain"]]
        answered = [r for r in answerable if not r["checks"]["abstained"]]
        words = [r["checks"]["words"] for r in answered]
        lat = [r["checks"]["latency_ms"] for r in rs]
        out = {
            k: avg(rs, k)
            for k in (
                "recall@1",
                "recall@3",
                "recall@5",
                "mrr",
                "ndcg@5",
                "fact_recall",
                "citation_precision",
                "citation_recall",
                "gold_citation_share",
                "gold_cited",
                "facts",
                "wrong_document",
            )
        }
        out.update(
            {
                "questions": len(rs),
                "abstention_precision": round(precision, 4),
                "abstention_recall": round(recall, 4),
                "abstention_f1": round(m.f1(precision, recall), 4),
                "false_abstention": round(1 - len(answered) / len(answerable), 4) if answerable else 0.0,
                "forbidden_claims": sum(len(r["checks"]["forbidden"]) for r in rs),
                "wrong_speakers": sum(len(r["checks"].get("wrong_speakers", [])) for r in rs),
                "marker_mismatches": sum(1 for r in rs if not r["checks"]["markers_match"]),
                "words_median": statistics.median(words) if words else 0,
                "words_p95": round(m.percentile(words, 95), 1),
                "latency_p50_ms": round(m.percentile(lat, 50), 2),
                "latency_p95_ms": round(m.percentile(lat, 95), 2),
            }
        )
        return out

    by_cat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_cat[r["category"]].append(r)
    return {
        "gated": block([r for r in rows if r["category"] in gated]),
        "all": block(rows),
        "categories": {c: block(rs) for c, rs in sorted(by_cat.items())},
    }


def check_gates(summary: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Gated metrics below (or, for 'max_' keys, above) their thresholds."""
    failed = []
    for scope, limits in thresholds.items():
        block = summary["gated"] if scope == "gated" else summary["categories"].get(scope, {})
        for key, limit in limits.items():
            name = key.removeprefix("max_")
            value = block.get(name)
            if value is None:
                failed.append(f"{scope}.{name}: no value")
            elif key.startswith("max_") and value > limit or not key.startswith("max_") and value < limit:
                failed.append(f"{scope}.{name} = {value} (threshold {'≤' if key.startswith('max_') else '≥'} {limit})")
    return failed


def environment(settings: Settings) -> dict[str, Any]:
    """What produced these figures."""
    from bot.embeddings import model_id

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout
    except OSError:
        commit = ""
    return {
        "model": model_id(),
        "top_k": settings.top_k,
        "retrieval_depth": K,
        "commit": commit.strip() or "unknown",
        "python": sys.version.split()[0],
    }


SUITE_METRICS = (
    "questions",
    "gold_cited",
    "facts",
    "false_abstention",
    "abstention_recall",
    "wrong_document",
    "wrong_speakers",
    "forbidden_claims",
    "words_median",
)


def run_suites(names: str, out: Path, hints: bool, fit: bool, limits: dict[str, Any]) -> dict[str, Any]:
    """Every named suite, scored by a scorer fitted on all suites (fitted) and by one fitted without the suite's
    corpus (held out); with fit, the all-suites scorer is written to bot/scorer.json. Unseen suites are scored by
    both and fitted on by neither."""
    import tempfile

    # Each suite's index is built afresh for the run and removed after it, however the run ends.
    with tempfile.TemporaryDirectory(prefix="civicbot-suites-", ignore_cleanup_errors=True) as tmp:
        return _run_suites(names, out, hints, fit, limits, Path(tmp))


def _run_suites(names: str, out: Path, hints: bool, fit: bool, limits: dict[str, Any], root: Path) -> dict[str, Any]:
    from bot.scorer import SCORER_PATH, Scorers
    from bot.service import build_answerer, ingest
    from evals.suites import examples, find_suites, fit_scorers, resolve_gold, suite_settings

    suites = find_suites(names)
    everything = find_suites("all")
    answerers, golds, data = {}, {}, {}
    for suite in everything:
        settings = suite_settings(suite, root, hints)
        ingest(settings)
        answerer = build_answerer(settings, notify=lambda msg: None, scorers=Scorers.untrained())
        passages = answerer.retriever.current().passages
        golds[suite.name] = {q.id: resolve_gold(q, passages) if q.answerable else set() for q in suite.questions}
        answerers[suite.name] = answerer
        data[suite.name] = {view: examples(suite, answerer, golds[suite.name], view) for view in (False, True)}

    def fitted_on(suites: list[Any]) -> Scorers:
        names = [s.name for s in suites]
        return fit_scorers(
            [e for s in suites for e in data[s.name][False]], [e for s in suites for e in data[s.name][True]], names
        )

    trainable = [s for s in everything if not s.unseen]
    fitted = fitted_on(trainable)
    if fit:
        SCORER_PATH.write_text(fitted.to_json() + "\n", encoding="utf-8")
    report: dict[str, Any] = {"hints": hints, "suites": {}, "rows": {}}
    held_rows: list[dict[str, Any]] = []
    # One held-out scorer per corpus; where no fitted suite shares the corpus (an unseen suite), it is the fitted one.
    held_by_group: dict[str, Scorers] = {}
    for suite in track(suites, description="suites", transient=True):
        answerer = answerers[suite.name]
        others = [s for s in trainable if s.group != suite.group]
        if suite.group not in held_by_group:
            held_by_group[suite.group] = fitted if len(others) == len(trainable) else fitted_on(others)
        held = held_by_group[suite.group]
        figures = {}
        for mode, scorers in (("fitted", fitted), ("held_out", held)):
            answerer.scorers = scorers
            rows = [score(q, answerer, golds[suite.name][q.id], suite.speakers) for q in suite.questions]
            figures[mode] = {k: summarize(rows, set())["all"].get(k) for k in SUITE_METRICS}
            if mode == "held_out":
                held_rows += [{**r, "suite": suite.name} for r in rows]
                report["rows"][suite.name] = rows
        report["suites"][suite.name] = figures
    overall = summarize(held_rows, set())["all"]
    report["held_out"] = {k: overall.get(k) for k in SUITE_METRICS}
    unseen = {s.name for s in everything if s.unseen}
    report["unseen"] = sorted(unseen)
    unseen_rows = [r for r in held_rows if r["suite"] in unseen]
    if unseen_rows:
        unseen_overall = summarize(unseen_rows, set())["all"]
        report["unseen_held_out"] = {k: unseen_overall.get(k) for k in SUITE_METRICS}
    report["limits"] = {"targets": limits.get("targets", {}), "held_out": limits.get("held_out", {})}
    report["targets_missed"] = check_gates({"gated": overall, "categories": {}}, {"gated": limits.get("targets", {})})
    report["gate_failures"] = check_gates({"gated": overall, "categories": {}}, {"gated": limits.get("held_out", {})})
    out.mkdir(parents=True, exist_ok=True)
    (out / "suites.json").write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    (out / "suites.md").write_text(suites_markdown(report), encoding="utf-8")
    return report


def suites_markdown(report: dict[str, Any]) -> str:
    """Per suite, fitted vs held out, then the held-out total against its targets."""
    head = "| suite | mode | " + " | ".join(SUITE_METRICS) + " |"
    lines = [f"# civicbot eval suites ({'with' if report['hints'] else 'without'} corpus word hints)", "", head]
    lines.append("|" + "---|" * (len(SUITE_METRICS) + 2))
    unseen = set(report.get("unseen", []))
    for name, figures in report["suites"].items():
        label = f"{name} (unseen)" if name in unseen else name
        for mode, values in figures.items():
            lines.append(f"| {label} | {mode} | " + " | ".join(str(values.get(k)) for k in SUITE_METRICS) + " |")
    if "unseen_held_out" in report:
        part = report["unseen_held_out"]
        cells = " | ".join(str(part.get(k)) for k in SUITE_METRICS)
        lines.append(f"| *unseen suites* | *never fitted on* | {cells} |")
    held = report["held_out"]
    lines.append("| **all** | **held out** | " + " | ".join(f"**{held.get(k)}**" for k in SUITE_METRICS) + " |")
    missed = report["targets_missed"]
    lines += ["", "Targets: " + ("all met" if not missed else "not met: " + "; ".join(missed))]
    failures = report["gate_failures"]
    lines.append("CI floor: " + ("held" if not failures else "FAILED: " + "; ".join(failures)))
    misses = []
    for name, rows in report["rows"].items():
        for r in rows:
            c = r["checks"]
            bad = (
                c["abstained"] != c["should_abstain"]
                or c.get("facts", 1.0) < 1.0
                or c.get("wrong_document")
                or c["forbidden"]
                or c.get("wrong_speakers")
            )
            if bad:
                misses.append(f"- {name}/{r['id']} {r['question']!r}: {r['result']['answer'][:240]!r}")
    return "\n".join([*lines, "", "## Held-out misses", *misses]) + "\n"


def command(
    questions: Annotated[Path, typer.Option(help="question set (JSON lines)")] = HERE
    / "suites"
    / "baltimore"
    / "questions.jsonl",
    out: Annotated[Path, typer.Option(help="folder for results.json, report.md and report.html")] = Path("eval-report"),
    thresholds: Annotated[Path, typer.Option(help="gated metrics and their thresholds")] = HERE / "thresholds.toml",
    compare_to: Annotated[
        Path | None, typer.Option("--compare", help="an earlier results.json to diff against")
    ] = None,
    suite: Annotated[
        str | None, typer.Option(help="eval suites under evals/suites/ to run, leave-one-suite-out: NAME[,NAME] or all")
    ] = None,
    hints: Annotated[bool, typer.Option(help="use each corpus's word hints (hints.yaml)")] = True,
    fit: Annotated[bool, typer.Option(help="with --suite: refit the shipped scorer on every suite")] = False,
) -> None:
    """Run the staff eval suite, write its report, and fail when a gated metric is below its threshold."""
    from bot.service import build_answerer

    if suite is not None:
        try:
            report = run_suites(suite, out, hints, fit, tomllib.loads(thresholds.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            typer.echo(f"civicbot: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(suites_markdown(report).split("## Held-out misses")[0])
        if report["gate_failures"]:
            typer.echo("civicbot: held-out gate failed: " + "; ".join(report["gate_failures"]), err=True)
            raise typer.Exit(1)
        return

    try:
        qs = load_questions(questions)
        limits = tomllib.loads(thresholds.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"civicbot: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = Settings()
    answerer = build_answerer(settings, notify=lambda msg: typer.echo(msg, err=True))
    gated = set(limits.pop("gated_categories", {}).get("names", []))
    for suites_only in ("targets", "held_out"):
        limits.pop(suites_only, None)
    rows = [score(q, answerer) for q in track(qs, description="asking", console=None, transient=True)]
    summary = summarize(rows, gated)
    data = {
        "environment": environment(settings),
        "summary": summary,
        # The project's corpus is English: most questions are read by the English view, and its cut-off is the one
        # the sweep is compared with.
        "calibration": calibrate(
            [r for r in rows if r["category"] in gated], answerer.scorers.english.answer_threshold
        ),
        "questions": rows,
    }
    data["gate_failures"] = check_gates(summary, limits)
    write_reports(out, data)
    typer.echo(markdown_report(data).split("## Failures")[0])
    if compare_to is not None:
        diff = compare(json.loads(compare_to.read_text(encoding="utf-8")), data)
        (out / "compare.md").write_text(diff + "\n", encoding="utf-8")
        typer.echo(diff)
    typer.echo(f"report: {out / 'report.html'}")
    if data["gate_failures"]:
        typer.echo("civicbot: eval gate failed: " + "; ".join(data["gate_failures"]), err=True)
        raise typer.Exit(1)
