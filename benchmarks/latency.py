"""Warm `ask` latency (English and Spanish in the same run) against the bare query-embedding floor, model load time
and memory for each model, ingest throughput and peak RSS.

Run: python benchmarks/latency.py [--out benchmarks/results/latency.json]. Prints the figures and writes them."""

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings
from bot.embeddings import get_embeddings, get_multilingual_embeddings
from bot.language import detect_language
from bot.service import build_answerer, ingest
from evals.metrics import percentile
from evals.scoring import HERE, load_questions


def rss_mb() -> float:
    """Resident memory of this process now (not the peak)."""
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_load(load: object) -> tuple[float, float]:
    """Seconds and RSS megabytes that loading (and one first call of) a model costs."""
    before, started = rss_mb(), time.perf_counter()
    load()  # type: ignore[operator]
    return time.perf_counter() - started, rss_mb() - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "latency.json")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    questions = load_questions(HERE / "suites" / "baltimore" / "questions.jsonl")
    english = [q.question for q in questions if q.language == "en"]
    spanish = [q.question for q in questions if q.language == "es"]
    base_rss = rss_mb()
    english_load_s, english_mb = timed_load(lambda: get_embeddings().embed_query("load"))

    def load_spanish() -> None:
        model = get_multilingual_embeddings()
        assert model is not None, "multilingual-e5-small cannot run here"
        model.embed_query("cargar")
        detect_language("¿Puede la policía ayudar a ICE?")

    spanish_load_s, spanish_mb = timed_load(load_spanish)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        started = time.perf_counter()
        report = ingest(settings)
        ingest_s = time.perf_counter() - started
        answerer = build_answerer(settings)
        for q in english + spanish:  # warm: every code path and cache touched once
            answerer.ask(q)
        ask_ms: dict[str, list[float]] = {"en": [], "es": []}
        embed_ms, both_ms = [], []
        emb, multilingual = get_embeddings(), get_multilingual_embeddings()
        for _ in range(args.rounds):
            for q in english:
                t = time.perf_counter()
                emb.embed_query(q)
                embed_ms.append((time.perf_counter() - t) * 1000)
                if multilingual is not None:  # an English question is embedded by both models on the answer path
                    multilingual.embed_query(q)
                    both_ms.append((time.perf_counter() - t) * 1000)
            for lang, qs in (("en", english), ("es", spanish)):
                for q in qs:
                    t = time.perf_counter()
                    answerer.ask(q)
                    ask_ms[lang].append((time.perf_counter() - t) * 1000)
    en_p95, es_p95 = percentile(ask_ms["en"], 95), percentile(ask_ms["es"], 95)
    figures = {
        "questions_en": len(english),
        "questions_es": len(spanish),
        "rounds": args.rounds,
        "ask_en_p50_ms": round(percentile(ask_ms["en"], 50), 2),
        "ask_en_p95_ms": round(en_p95, 2),
        "ask_es_p50_ms": round(percentile(ask_ms["es"], 50), 2),
        "ask_es_p95_ms": round(es_p95, 2),
        "ask_es_over_en_p95": round(es_p95 / en_p95, 3),
        "embed_p50_ms": round(percentile(embed_ms, 50), 2),
        "embed_p95_ms": round(percentile(embed_ms, 95), 2),
        "ask_en_over_embed_p95": round(en_p95 / percentile(embed_ms, 95), 3),
        "embed_both_models_p95_ms": round(percentile(both_ms, 95), 2),
        "ask_en_over_embed_both_p95": round(en_p95 / percentile(both_ms, 95), 3) if both_ms else None,
        "ask_en_mean_ms": round(statistics.fmean(ask_ms["en"]), 2),
        "english_model_load_s": round(english_load_s, 2),
        "english_model_rss_mb": round(english_mb, 1),
        "spanish_models_load_s": round(spanish_load_s, 2),
        "spanish_models_rss_mb": round(spanish_mb, 1),
        "rss_before_models_mb": round(base_rss, 1),
        "ingest_passages": report.total,
        "ingest_s_all_collections": round(ingest_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for key, value in figures.items():
        print(f"{key:28} {value}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
