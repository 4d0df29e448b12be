"""How fast each shipped model embeds what ingest gives it: passages and sentences (in context) per second, in
the batches ingest uses. Ingest embeds every passage and every sentence with both models, so its rate is bounded
by the slower one.

Run: python benchmarks/embed.py [--passages 512] [--out FILE]"""

import argparse
import json
import time
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import PROJECT_ROOT
from bot.embeddings import get_embeddings, get_multilingual_embeddings, model_id, multilingual_model_id
from bot.index import BATCH
from bot.passages import sentence_records
from bot.records import Passage

try:
    from scale import synthetic_passages
except ImportError:  # run as a module
    from benchmarks.scale import synthetic_passages


def passages(n: int) -> list[Passage]:
    """n synthetic passages of city business, as ingest stores them."""
    return [
        Passage(
            id=f"bench#p{i}",
            document="City services bulletin",
            slug="bench",
            n=i + 1,
            text=text,
            source="synthetic",
            date="2026-01-01",
            publisher="Bench",
            language="en",
            content_hash=str(i),
        )
        for i, text in enumerate(synthetic_passages(n))
    ]


def rate(model: Embeddings, texts: list[str]) -> float:
    """Texts per second, embedded in ingest's batches sorted by length."""
    model.embed_documents(texts[:8])  # first call pays kernel set-up
    ordered = sorted(texts, key=len)
    started = time.perf_counter()
    for start in range(0, len(ordered), BATCH):
        model.embed_documents(ordered[start : start + BATCH])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--passages", type=int, default=512)
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results" / "embed.json")
    args = ap.parse_args()
    items = passages(args.passages)
    texts = [p.text for p in items]
    sentences = [s.text for s in sentence_records(items)]
    models: list[tuple[str, Embeddings | None]] = [
        (model_id(), get_embeddings()),
        (multilingual_model_id(), get_multilingual_embeddings()),
    ]
    rows: list[dict[str, Any]] = []
    for name, model in models:
        if model is None:
            continue
        row = {
            "model": name,
            "passages_per_s": round(rate(model, texts), 1),
            "sentences_per_s": round(rate(model, sentences), 1),
            "sentences_per_passage": round(len(sentences) / len(texts), 2),
        }
        rows.append(row)
        print(f"{name}: {row['passages_per_s']} passages/s, {row['sentences_per_s']} sentences/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
