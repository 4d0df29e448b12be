"""The eval report: markdown and self-contained HTML with plots, the list of failures, and the diff between runs."""

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np


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


# Held-out suite metrics a change is judged on: (the check averaged, which questions it is averaged over).
DELTA_METRICS: dict[str, tuple[str, str]] = {
    "gold_cited": ("gold_cited", "scored"),
    "facts": ("facts", "scored"),
    "false_abstention": ("abstained", "answerable"),
    "abstention_recall": ("abstained", "unanswerable"),
    "wrong_document": ("wrong_document", "scored"),
}


def suite_miss(checks: dict[str, Any]) -> bool:
    """Whether a suite question went wrong: refused or answered against its label, a required fact missing, a
    citation from another document, a forbidden claim or a quote given to the wrong speaker."""
    return bool(
        checks["abstained"] != checks["should_abstain"]
        or checks.get("facts", 1.0) < 1.0
        or checks.get("wrong_document")
        or checks["forbidden"]
        or checks.get("wrong_speakers")
    )


def _columns(rows: list[dict[str, Any]], check: str, over: str) -> tuple[np.ndarray, np.ndarray]:
    """A check's value per question, and whether the metric averages over that question."""
    values, counted = [], []
    for r in rows:
        c = r["checks"]
        if over == "scored":
            counted.append(check in c)
        else:
            counted.append(c["should_abstain"] == (over == "unanswerable"))
        values.append(float(c.get(check, 0.0)))
    return np.array(values), np.array(counted, dtype=float)


def paired_deltas(
    old: list[dict[str, Any]], new: list[dict[str, Any]], draws: int = 2000, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Each metric before and after a change on the same questions (rows in the same order), and a 95% interval of
    the difference from a paired bootstrap over questions: one resample scores both runs, so what the two runs
    share cancels, and what is left says whether the change is more than which questions happen to be asked."""
    counts = np.random.default_rng(seed).multinomial(len(old), np.full(len(old), 1.0 / len(old)), size=draws)
    out = {}
    for name, (check, over) in DELTA_METRICS.items():
        (a, a_in), (b, b_in) = _columns(old, check, over), _columns(new, check, over)
        if not a_in.any() or not b_in.any():
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = counts @ (b * b_in) / (counts @ b_in) - counts @ (a * a_in) / (counts @ a_in)
        low, high = np.nanpercentile(spread, [2.5, 97.5])
        before, after = float(a @ a_in / a_in.sum()), float(b @ b_in / b_in.sum())
        out[name] = {"old": before, "new": after, "delta": after - before, "low": float(low), "high": float(high)}
    return out


def compare_suites(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Markdown: held-out suite metrics before and after a change, with how far each could move by chance, then the
    questions that went right or wrong."""
    old_rows = {(suite, r["id"]): r for suite, rows in old["rows"].items() for r in rows}
    pairs = [
        (f"{suite}/{r['id']}", old_rows[(suite, r["id"])], r)
        for suite, rows in new["rows"].items()
        for r in rows
        if (suite, r["id"]) in old_rows
    ]
    if not pairs:
        return "No question is in both runs: nothing to compare."
    lines = [
        f"Held out, on the {len(pairs)} questions in both runs"
        + ("" if old.get("hints") == new.get("hints") else " (one run with corpus word hints, one without)")
        + ". The interval is where 95% of the difference falls when the questions are drawn again (paired "
        "bootstrap); a change whose interval holds 0 is not told apart from chance.",
        "",
        "| metric | old | new | Δ | 95% interval |",
        "|---|---|---|---|---|",
    ]
    for name, d in paired_deltas([a for _, a, _ in pairs], [b for _, _, b in pairs]).items():
        lines.append(
            f"| {name} | {d['old']:.4f} | {d['new']:.4f} | {d['delta']:+.4f} | {d['low']:+.4f} … {d['high']:+.4f} |"
        )
    better = [key for key, a, b in pairs if suite_miss(a["checks"]) and not suite_miss(b["checks"])]
    worse = [key for key, a, b in pairs if not suite_miss(a["checks"]) and suite_miss(b["checks"])]
    lines += ["", f"**Better ({len(better)}):** " + (", ".join(better) or "none")]
    lines += [f"**Worse ({len(worse)}):** " + (", ".join(worse) or "none")]
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
        *calibration_section(data["calibration"]),
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


def calibration_section(cal: dict[str, Any]) -> list[str]:
    """The abstention threshold: what the calibration half picks, what is in use, how both do on the held-out half,
    and the precision/recall curve on each half."""

    def fmt(p: dict[str, Any]) -> str:
        return (
            f"precision {p['precision']}, recall {p['recall']}, F1 {p['f1']}, false abstention {p['false_abstention']}"
        )

    lines = [
        "## Abstention threshold",
        "",
        f"Questions: {cal['questions']['calibration']} for calibration, {cal['questions']['held_out']} held out "
        "(split by a hash of the question id). A question abstains when it is refused outright or when the chosen "
        "sentences cover less than the threshold of its idf-weighted concepts.",
        "",
        f"- chosen on the calibration half: **{cal['chosen_threshold']}** → held out: {fmt(cal['held_out_at_chosen'])}",
        f"- in use (the English view's `answer_threshold`): **{cal['threshold_in_use']}** → held out: "
        f"{fmt(cal['held_out_at_in_use'])}",
        "",
        "| threshold | calib. P | calib. R | calib. F1 | calib. false abst. | held-out P | held-out R | held-out F1 "
        "| held-out false abst. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c, h in zip(cal["curves"]["calibration"], cal["curves"]["held_out"], strict=True):
        lines.append(
            f"| {c['threshold']} | {c['precision']} | {c['recall']} | {c['f1']} | {c['false_abstention']} "
            f"| {h['precision']} | {h['recall']} | {h['f1']} | {h['false_abstention']} |"
        )
    return [*lines, ""]


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
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    cal = data["calibration"]
    for ax, half in zip(axes, ("calibration", "held_out"), strict=True):
        pts = cal["curves"][half]
        xs = [p["threshold"] for p in pts]
        for key in ("precision", "recall", "f1", "false_abstention"):
            ax.plot(xs, [p[key] for p in pts], label=key.replace("_", " "))
        ax.axvline(cal["threshold_in_use"], color="black", linestyle="--", linewidth=1, label="in use")
        ax.set_title(f"Abstention vs answer-probability threshold ({half.replace('_', '-')})")
        ax.set_xlabel("answer-probability threshold")
    axes[0].legend(fontsize=8)
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
