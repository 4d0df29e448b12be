"""Warm `ask` latency against the bare query-embedding floor, ingest throughput and peak RSS.

Run: python benchmarks/latency.py [--out benchmarks/results/latency.json]. Prints the figures and writes them."""

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings
from bot.embeddings import get_embeddings
from bot.service import build_answerer, ingest
from evals.metrics import percentile
from evals.run import HERE, load_questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "latency.json")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    questions = [q.question for q in load_questions(HERE / "questions.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        get_embeddings().embed_query("load")
        started = time.perf_counter()
        report = ingest(settings)
        ingest_s = time.perf_counter() - started
        answerer = build_answerer(settings)
        for q in questions:  # warm: every code path and cache touched once
            answerer.ask(q)
        ask_ms, embed_ms = [], []
        emb = get_embeddings()
        for _ in range(args.rounds):
            for q in questions:
                t = time.perf_counter()
                emb.embed_query(q)
                embed_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                answerer.ask(q)
                ask_ms.append((time.perf_counter() - t) * 1000)
    figures = {
        "questions": len(questions),
        "samples": len(ask_ms),
        "ask_p50_ms": round(percentile(ask_ms, 50), 2),
        "ask_p95_ms": round(percentile(ask_ms, 95), 2),
        "embed_p50_ms": round(percentile(embed_ms, 50), 2),
        "embed_p95_ms": round(percentile(embed_ms, 95), 2),
        "ask_over_embed_p95": round(percentile(ask_ms, 95) / percentile(embed_ms, 95), 3),
        "ask_mean_ms": round(statistics.fmean(ask_ms), 2),
        "ingest_passages": report.total,
        "ingest_passages_per_s": round(report.total / ingest_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for key, value in figures.items():
        print(f"{key:24} {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
