"""Questions of an eval set, and how one answer is scored on every metric, summarized and gated."""

import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.answer import Answerer
from bot.language import language_name, message
from bot.records import Answer
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
        # Refusals the answer cut-off did not decide: injection, bad input, nothing asked, and those made though the
        # probability was above it (what to do in one's own case, no sentence worth citing).
        "forced": _forced(answer),
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


def _forced(answer: Answer) -> bool:
    """Whether a refusal was made for a reason other than the answer probability falling below its cut-off."""
    signals = answer.signals
    if answer.kind not in ("answer", "out_of_scope", "legal_advice") or "answerable" not in signals:
        return True
    return bool(answer.abstained and signals["answerable"] >= signals.get("needed", 0.0))


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
