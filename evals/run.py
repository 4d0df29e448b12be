"""`civicbot eval`: run the staff question set through the one answer path, score it, gate it, report it."""

import base64
import html
import io
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
from bot.language import message
from evals import metrics as m

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
        if q.answerable and not q.gold:
            raise ValueError(f"{path}:{n}: an answerable question needs gold passage ids")
        seen.add(q.id)
        out.append(q)
    return out


def score(q: Question, answerer: Answerer) -> dict[str, Any]:
    """Ask one question and judge the answer on every metric."""
    answer = answerer.ask(q.question, history=q.history)
    retriever = answerer.retriever
    ranked = [h.passage.id for h in retriever.retrieve(retriever.analyze(q.question, tuple(q.history)), k=K)]
    gold = set(q.gold)
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
    }
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
    """civicbot's own framing (the lead-in it puts before quoted evidence) is not a claim that needs a citation."""
    lead = message(answer.language, "lead")
    return bool(m.MARKER.search(sentence)) or not (lead and sentence.strip() in lead)


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


def failures(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Questions that failed any per-question check, with what failed."""
    out = []
    for r in rows:
        c, why = r["checks"], []
        if c["abstained"] != c["should_abstain"]:
            why.append("abstained" if c["abstained"] else "should have abstained")
        if c.get("recall@3", 1) < 1:
            why.append("gold not in top 3")
        if c.get("fact_recall", 1) < 1:
            why.append("missing required fact")
        if c.get("citation_precision", 1) < 1:
            why.append("unsupported citation")
        if c["forbidden"]:
            why.append(f"forbidden: {c['forbidden']}")
        if not c["markers_match"]:
            why.append("markers do not match citations")
        if why:
            out.append((r, why))
    return out


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


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Markdown: metric deltas, then the questions that got better or worse."""
    lines = ["| metric | old | new | Δ |", "|---|---|---|---|"]
    for key, value in new["summary"]["gated"].items():
        before = old["summary"]["gated"].get(key)
        if isinstance(value, (int, float)) and isinstance(before, (int, float)):
            lines.append(f"| {key} | {before} | {value} | {value - before:+.4g} |")
    old_fail = {r["id"]: why for r, why in failures(old["questions"])}
    new_fail = {r["id"]: why for r, why in failures(new["questions"])}
    better = sorted(set(old_fail) - set(new_fail))
    worse = sorted(set(new_fail) - set(old_fail))
    lines += ["", f"**Better ({len(better)}):** " + (", ".join(better) or "none")]
    lines += [f"**Worse ({len(worse)}):** " + (", ".join(f"{i} ({'; '.join(new_fail[i])})" for i in worse) or "none")]
    return "\n".join(lines)


def write_reports(out: Path, data: dict[str, Any]) -> None:
    """results.json, report.md and report.html (with plots) under out."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    md = markdown_report(data)
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "report.html").write_text(html_report(data, md), encoding="utf-8")


SUMMARY_KEYS = (
    "questions",
    "recall@3",
    "mrr",
    "fact_recall",
    "citation_precision",
    "citation_recall",
    "abstention_f1",
    "false_abstention",
    "forbidden_claims",
    "words_median",
    "latency_p95_ms",
)


def markdown_report(data: dict[str, Any]) -> str:
    """The summary table by category, then every failure with its answer and cited passages."""
    s = data["summary"]
    head = "| scope | " + " | ".join(SUMMARY_KEYS) + " |"
    rows = [head, "|" + "---|" * (len(SUMMARY_KEYS) + 1)]
    for name, block in [("**gated**", s["gated"]), ("all", s["all"]), *s["categories"].items()]:
        rows.append(
            f"| {name} | " + " | ".join("–" if block.get(k) is None else str(block.get(k)) for k in SUMMARY_KEYS) + " |"
        )
    parts = [
        "# civicbot eval report",
        "",
        "Environment: " + ", ".join(f"{k}={v}" for k, v in data["environment"].items()),
        "",
        *rows,
        "",
        "Gates: " + ("all pass" if not data["gate_failures"] else "; ".join(data["gate_failures"])),
        "",
        "## Failures",
    ]
    failed = failures(data["questions"])
    for r, why in failed:
        parts += [
            "",
            f"### {r['id']} ({r['category']}): {'; '.join(why)}",
            f"**Q:** {r['question']}",
            "",
            f"**A:** {r['result']['answer']}",
        ]
        for c in r["result"]["citations"]:
            parts.append(f"- [{c['n']}] `{c['passage_id']}`: {c['text']}")
    if not failed:
        parts.append("\nNone.")
    return "\n".join(parts) + "\n"


def _plot(data: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    cats = data["summary"]["categories"]
    fig, ax = plt.subplots(figsize=(9, 4))
    names = list(cats)
    for i, key in enumerate(("recall@3", "fact_recall", "abstention_f1")):
        vals = [cats[c].get(key) or 0 for c in names]
        ax.bar([x + i * 0.27 for x in range(len(names))], vals, width=0.27, label=key)
    ax.set_xticks([x + 0.27 for x in range(len(names))], names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics by category")
    ax.legend()
    fig.tight_layout()
    images.append(_png(fig))
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.hist([r["checks"]["latency_ms"] for r in data["questions"]], bins=20)
    ax.set_xlabel("latency per question (ms)")
    ax.set_title("Answer latency")
    fig.tight_layout()
    images.append(_png(fig))
    plt.close("all")
    return images


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode()


def html_report(data: dict[str, Any], md: str) -> str:
    """A self-contained page: plots inline, the markdown report as preformatted text (escaped)."""
    imgs = "".join(f'<img alt="eval plot" src="data:image/png;base64,{b}">' for b in _plot(data))
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>civicbot eval report</title>'
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}img{max-width:100%}"
        "pre{white-space:pre-wrap}</style>"
        f"<h1>civicbot eval report</h1>{imgs}<pre>{html.escape(md)}</pre></html>"
    )


def command(
    questions: Annotated[Path, typer.Option(help="question set (JSON lines)")] = HERE / "questions.jsonl",
    out: Annotated[Path, typer.Option(help="folder for results.json, report.md and report.html")] = Path("eval-report"),
    thresholds: Annotated[Path, typer.Option(help="gated metrics and their thresholds")] = HERE / "thresholds.toml",
    compare_to: Annotated[
        Path | None, typer.Option("--compare", help="an earlier results.json to diff against")
    ] = None,
) -> None:
    """Run the staff eval suite, write its report, and fail when a gated metric is below its threshold."""
    from bot.service import build_answerer

    try:
        qs = load_questions(questions)
        limits = tomllib.loads(thresholds.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"civicbot: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = Settings()
    answerer = build_answerer(settings, notify=lambda msg: typer.echo(msg, err=True))
    gated = set(limits.pop("gated_categories", {}).get("names", []))
    rows = [score(q, answerer) for q in track(qs, description="asking", console=None, transient=True)]
    summary = summarize(rows, gated)
    data = {"environment": environment(settings), "summary": summary, "questions": rows}
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
