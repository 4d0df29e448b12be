"""`civicbot eval`: run the staff question set through the one answer path, score it, gate it, report it."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import track

from bot.config import Settings
from bot.scorer import Scorers
from evals.calibration import calibrate
from evals.losses import candidate_checks, losses, losses_markdown
from evals.report import compare, compare_suites, markdown_report, suite_miss, write_reports
from evals.scoring import HERE, K, check_gates, load_questions, score, summarize
from evals.suites import Example, examples, find_suites, fit_scorers, resolve_gold, suite_settings


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
    from bot.scorer import SCORER_PATH
    from bot.service import build_answerer, ingest

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
                views = zip(data[suite.name][False], data[suite.name][True], strict=True)
                for row, (english, multilingual) in zip(rows, views, strict=True):
                    if not row["checks"]["should_abstain"]:
                        row["checks"].update(_candidate_checks(english, multilingual, scorers))
                held_rows += [{**r, "suite": suite.name} for r in rows]
                report["rows"][suite.name] = rows
        report["suites"][suite.name] = figures
    overall = summarize(held_rows, set())["all"]
    report["held_out"] = {k: overall.get(k) for k in SUITE_METRICS}
    targets = limits.get("targets", {})
    at = (targets.get("abstention_recall", 0.95), targets.get("max_false_abstention", 0.05))
    report["losses"] = losses(held_rows, *at)
    unseen = {s.name for s in everything if s.unseen}
    report["unseen"] = sorted(unseen)
    unseen_rows = [r for r in held_rows if r["suite"] in unseen]
    if unseen_rows:
        unseen_overall = summarize(unseen_rows, set())["all"]
        report["unseen_held_out"] = {k: unseen_overall.get(k) for k in SUITE_METRICS}
        report["unseen_losses"] = losses(unseen_rows, *at)
    report["limits"] = {"targets": limits.get("targets", {}), "held_out": limits.get("held_out", {})}
    report["targets_missed"] = check_gates({"gated": overall, "categories": {}}, {"gated": limits.get("targets", {})})
    report["gate_failures"] = check_gates({"gated": overall, "categories": {}}, {"gated": limits.get("held_out", {})})
    out.mkdir(parents=True, exist_ok=True)
    (out / "suites.json").write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    (out / "suites.md").write_text(suites_markdown(report), encoding="utf-8")
    return report


def _candidate_checks(english: Example, multilingual: Example, scorers: Scorers) -> dict[str, float]:
    """Where the answering sentences stood among a question's candidates, in the view the answer path read it
    with, by the sentence model of the scorers that answered it."""
    view = multilingual.as_asked and not english.as_asked
    example = multilingual if view else english
    probabilities = scorers.for_view(view).sentence.predict(example.features.rows)
    return candidate_checks(example.labels, probabilities)


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
    for key, title in (("losses", "all suites"), ("unseen_losses", "unseen suites")):
        if key in report:
            lines += ["", f"## Where answers are lost, held out ({title})", "", *losses_markdown(report[key])]
    misses = []
    for name, rows in report["rows"].items():
        for r in rows:
            if suite_miss(r["checks"]):
                misses.append(f"- {name}/{r['id']} {r['question']!r}: {r['result']['answer'][:240]!r}")
    return "\n".join([*lines, "", "## Held-out misses", *misses]) + "\n"


def _earlier_suites(path: Path) -> dict[str, Any]:
    """An earlier run's suites.json; a ValueError says what is wrong with another file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} cannot be read ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rows"), dict):
        raise ValueError(f"{path} is not the suites.json of an earlier `civicbot eval --suite` run")
    return data


def command(
    questions: Annotated[Path, typer.Option(help="question set (JSON lines)")] = HERE
    / "suites"
    / "baltimore"
    / "questions.jsonl",
    out: Annotated[Path, typer.Option(help="folder for results.json, report.md and report.html")] = Path("eval-report"),
    thresholds: Annotated[Path, typer.Option(help="gated metrics and their thresholds")] = HERE / "thresholds.toml",
    compare_to: Annotated[
        Path | None,
        typer.Option("--compare", help="an earlier results.json (with --suite: suites.json) to diff against"),
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
            # Read before the run, which takes minutes: a wrong file should fail at once.
            earlier = _earlier_suites(compare_to) if compare_to is not None else None
            report = run_suites(suite, out, hints, fit, tomllib.loads(thresholds.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            typer.echo(f"civicbot: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(suites_markdown(report).split("## Held-out misses")[0])
        if earlier is not None:
            diff = compare_suites(earlier, report)
            (out / "compare.md").write_text(diff + "\n", encoding="utf-8")
            typer.echo(diff)
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
    data: dict[str, Any] = {
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
