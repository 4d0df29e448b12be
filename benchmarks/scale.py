"""civicbot at growing corpus size: the real article plus N synthetic passages on unrelated city business. For
each size: ingest passages/s (all collections) and each collection's own embedding rate (in the order ingest builds
them: passages and sentences with the English model, then sentences with the multilingual one), warm `ask` p50/p95,
peak RSS, and how many of the eval questions' answers changed against the real corpus alone, and how many of those
now cite the synthetic bulletins (noise must not displace evidence); each changed answer is written out before and
after.

Run: python benchmarks/scale.py [--sizes 1000 10000] [--out FILE]   (100000 takes long: on demand only)
     python benchmarks/scale.py --index-only --sizes 100000   (the index side alone, in minutes; see --help)"""

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib
from rich.progress import Progress, TaskID

from bot.config import PROJECT_ROOT, Settings
from bot.service import build_answerer, ingest
from evals.metrics import percentile
from evals.scoring import HERE, load_questions

matplotlib.use("Agg")

TOPICS = {
    "parks": "playground benches trails pavilions tennis courts splash pads picnic areas dog runs ball fields",
    "trash": "recycling bins bulk pickup yard waste collection routes landfill compost schedules alleys",
    "transit": "bus routes circulator stops fares transfers light rail schedules bike lanes crosswalks",
    "water": "water bills meters rates sewer repairs main breaks hydrants pressure service lines",
    "libraries": "branches story time book clubs computer classes summer reading cards catalogs",
    "permits": "building permits zoning variances inspections contractors renovations fences decks",
    "events": "festivals parades farmers markets concerts fireworks road closures vendors stages",
    "weather": "snow emergency plowing salt trucks cooling centers heat advisories storm drains",
}
VERBS = "announced expanded reviewed scheduled adjusted repaired funded opened extended updated".split()
PLACES = "Hampden Fells Point Canton Remington Highlandtown Mount Vernon Charles Village Pigtown".split()
NOISE_PREFIX = "zz-city-services-"  # the synthetic documents' slugs, to tell an answer that cites them


class StageClock:
    """Ingest progress: a bar on the terminal (a 100k run takes over an hour), and each collection's embedding
    time, so a slow model shows as itself rather than in one total."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.stages: list[dict[str, float]] = []
        self._task: TaskID | None = None
        self._started = 0.0
        self._left = 0

    def start(self, total: int) -> None:
        self._close()
        self._task = self.bar.add_task(f"collection {len(self.stages) + 1}", total=total)
        self.stages.append({"embedded": total})
        self._started = time.perf_counter()
        self._left = total

    def advance(self, done: int) -> None:
        if self._task is not None:
            self.bar.advance(self._task, done)
        self._left -= done
        if self._left <= 0:  # the collection's last batch: what follows (switching versions live) is not embedding
            self._close()

    def _close(self) -> None:
        if self.stages and "seconds" not in self.stages[-1]:
            seconds = time.perf_counter() - self._started
            self.stages[-1].update(seconds=round(seconds, 1), per_s=round(self.stages[-1]["embedded"] / seconds, 1))

    def finish(self) -> list[dict[str, float]]:
        """Each collection's figures, the last one closed."""
        self._close()
        return self.stages


def synthetic_passages(n: int, seed: int = 7) -> list[str]:
    """n deterministic paragraphs about city services that have nothing to do with immigration enforcement."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        topic, words = rng.choice(list(TOPICS.items()))
        vocab = words.split()
        sentences = []
        for _ in range(rng.randint(2, 4)):
            picked = rng.sample(vocab, 3)
            sentences.append(
                f"The {topic} office {rng.choice(VERBS)} {picked[0]} and {picked[1]} in {rng.choice(PLACES)}, "
                f"with new {picked[2]} planned for {rng.choice(['spring', 'summer', 'fall', 'winter'])} "
                f"{rng.randint(2026, 2028)}."
            )
        out.append(" ".join(sentences))
    return out


def write_corpus(root: Path, n: int, per_doc: int = 200) -> Path:
    """The real corpus plus n synthetic passages in documents of per_doc paragraphs."""
    corpus = root / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus)
    paragraphs = synthetic_passages(n)
    for d, start in enumerate(range(0, n, per_doc)):
        body = "\n\n".join(paragraphs[start : start + per_doc])
        (corpus / f"{NOISE_PREFIX}{d:04d}.md").write_text(
            f"---\ntitle: City services bulletin {d}\nsource: synthetic\ndate: 2026-01-01\npublisher: Bench\n"
            f"language: en\n---\n\n{body}\n",
            encoding="utf-8",
        )
    return corpus


def measure(size: int, questions: list[tuple[str, list[str]]], rounds: int) -> dict[str, Any]:
    """Ingest and query one corpus size; answers keyed by question."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(Path(tmp), size)
        settings = Settings(data_dir=Path(tmp) / "data", corpus_dir=corpus)
        started = time.perf_counter()
        with Progress(transient=True) as bar:
            clock = StageClock(bar)
            report = ingest(settings, progress=clock)
        ingest_s = time.perf_counter() - started
        answerer = build_answerer(settings)
        answers = {}
        for q, history in questions:
            a = answerer.ask(q, history=history)
            noise = any(c.passage.slug.startswith(NOISE_PREFIX) for c in a.citations)
            answers[q] = (a.abstained, a.text, noise)
        latencies = []
        for _ in range(rounds):
            for q, history in questions:
                t = time.perf_counter()
                answerer.ask(q, history=history)
                latencies.append((time.perf_counter() - t) * 1000)
    return {
        "synthetic_passages": size,
        "passages": report.total,
        "ingest_s": round(ingest_s, 1),
        "ingest_passages_per_s": round(report.total / ingest_s, 1),
        "collections": clock.finish(),
        "ask_p50_ms": round(percentile(latencies, 50), 2),
        "ask_p95_ms": round(percentile(latencies, 95), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "answers": answers,
    }


def use_stand_in_embeddings() -> None:
    """Both models replaced, for this process, by LangChain's hash-seeded fake embedding of the same size."""
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from bot import service

    stand_in = DeterministicFakeEmbedding(size=384)
    service.get_embeddings = lambda: stand_in  # type: ignore[assignment]
    service.get_multilingual_embeddings = lambda: stand_in  # type: ignore[assignment]


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Query p95 and ingest rate against corpus size."""
    import matplotlib.pyplot as plt

    sizes = [max(r["passages"], 1) for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(sizes, [r["ask_p95_ms"] for r in rows], marker="o")
    left.set(xscale="log", xlabel="passages", ylabel="ask p95 (ms)", title="Query latency")
    right.plot(sizes, [r["ingest_passages_per_s"] for r in rows], marker="o")
    right.set(xscale="log", xlabel="passages", ylabel="passages/s", title="Ingest rate (all collections)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "scale.json")
    ap.add_argument(
        "--index-only",
        action="store_true",
        help="replace both models by a fast deterministic stand-in (same dimension) to measure what grows with the "
        "index (Chroma search, BM25, memory) at sizes the real models would take hours to embed; answers are not "
        "compared, and ask latency then excludes the models' own cost",
    )
    args = ap.parse_args()
    if args.index_only:
        use_stand_in_embeddings()
    questions = [(q.question, q.history) for q in load_questions(HERE / "suites" / "baltimore" / "questions.jsonl")]
    rows = [measure(size, questions, args.rounds) for size in [0, *args.sizes]]
    base = rows[0]["answers"]
    for row in rows:
        answers = row.pop("answers")
        if args.index_only:
            row["embeddings"] = "stand-in (index side only)"
            answers = base  # answers from stand-in vectors say nothing about the real models
        changed = [q for q, a in answers.items() if a != base[q]]
        row["answers_changed"] = len(changed)
        row["abstentions_changed"] = sum(1 for q in changed if answers[q][0] != base[q][0])
        # The harm to look for: an answer that now leans on the unrelated bulletins.
        row["answers_citing_noise"] = sum(1 for q in changed if answers[q][2])
        row["changed"] = [
            {"question": q, "before": base[q][1], "after": answers[q][1], "cites_noise": answers[q][2]} for q in changed
        ]
        print(
            f"{row['passages']:>7} passages  ingest {row['ingest_passages_per_s']:>7}/s  "
            f"ask p50 {row['ask_p50_ms']:>7} ms  p95 {row['ask_p95_ms']:>7} ms  "
            f"peak RSS {row['peak_rss_mb']:>7} MB  answers changed {row['answers_changed']} "
            f"(citing the bulletins {row['answers_citing_noise']})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot(rows, args.out.with_suffix(".png"))
    print(f"written to {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
