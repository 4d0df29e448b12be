"""Eval metrics as small pure functions: retrieval ranks, facts, citation support, abstention, percentiles."""

import math
import re
from collections.abc import Sequence

from bot.text import content_words, split_sentences

MARKER = re.compile(r"\[(\d+)\]")


def recall_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of gold passages in the top k."""
    return len(gold & set(ranked[:k])) / len(gold) if gold else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: set[str]) -> float:
    """1 / rank of the first gold passage (0 if none is ranked)."""
    return next((1.0 / i for i, pid in enumerate(ranked, start=1) if pid in gold), 0.0)


def ndcg_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Binary-relevance nDCG@k."""
    dcg = sum(1.0 / math.log2(i + 1) for i, pid in enumerate(ranked[:k], start=1) if pid in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def fact_recall(answer: str, required: Sequence[Sequence[str]]) -> float:
    """Share of required fact groups with at least one phrasing present in the answer (case-insensitive)."""
    if not required:
        return 1.0
    low = answer.lower()
    return sum(any(alt.lower() in low for alt in group) for group in required) / len(required)


def forbidden_hits(answer: str, forbidden: Sequence[str]) -> list[str]:
    """Forbidden claims present in the answer."""
    low = answer.lower()
    return [f for f in forbidden if f.lower() in low]


def cited_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """The answer's sentences with the citation numbers each carries (framing sentences carry none). A quotation
    is one claim, cited once after its closing mark, so it is not split at the full stops inside it."""
    parts = [p for s in split_sentences(answer) for p in re.split(r"(?<=\])\s+(?=[A-Z“¿¡])", s)]
    return [(p, [int(n) for n in MARKER.findall(p)]) for p in parts if p.strip()]


def supports(sentence: str, passage: str, threshold: float = 0.6) -> bool:
    """Whether a passage holds the sentence's content: most of its content words appear in the passage.

    Rewrites civicbot makes (a speaker's name for a pronoun, 'The order' for 'It') add a few words; the
    threshold leaves room for them and nothing more."""
    words = set(content_words(MARKER.sub("", sentence)))
    if not words:
        return True
    return len(words & set(content_words(passage))) / len(words) >= threshold


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def f1(precision: float, recall: float) -> float:
    """Harmonic mean; 0 when both are 0."""
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[“”\"'’‘]", " ", text.lower()).split())


def wrong_speakers(answer: str, passages: Sequence[str], speakers: Sequence[object]) -> list[str]:
    """Quotes the answer attributes to someone other than their speaker: for each known piece of reported speech
    in an answer sentence, the names of other speakers that the answer sentence adds (names already in the source
    sentence are the source's own words, not an attribution civicbot made)."""
    wrong = []
    sources = [s for p in passages for s in split_sentences(p)]
    for sentence, _ in cited_sentences(answer):
        said = _norm(sentence)
        for entry in speakers:
            quote = " ".join(_norm(entry.quote).split()[:6])  # type: ignore[attr-defined]
            if quote not in said:
                continue
            source = next((_norm(s) for s in sources if quote in _norm(s)), "")
            own = {_norm(n) for n in [entry.speaker, *entry.aliases]}  # type: ignore[attr-defined]
            for other in speakers:
                names = [other.speaker, *(a for a in other.aliases if a[:1].isupper())]  # type: ignore[attr-defined]
                for name in names:
                    n = _norm(name)
                    if n in own or any(n in o or o in n for o in own):
                        continue
                    if re.search(rf"\b{re.escape(n)}\b", said) and not re.search(rf"\b{re.escape(n)}\b", source):
                        wrong.append(f"{entry.speaker} → {name}")  # type: ignore[attr-defined]
    return sorted(set(wrong))
