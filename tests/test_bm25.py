"""The postings-backed BM25 scores exactly as rank-bm25's BM25Okapi does."""

import random

import numpy as np
from rank_bm25 import BM25Okapi

from bot.bm25 import PostingsBM25


def _corpus(seed: int, n: int = 300) -> list[list[str]]:
    rng = random.Random(seed)
    # "common" is in most passages, so its idf is negative and BM25Okapi floors it: that path is covered too.
    vocab = [f"w{i}" for i in range(60)]
    return [["common"] * rng.randint(0, 2) + rng.choices(vocab, k=rng.randint(1, 25)) for _ in range(n)]


def test_scores_match_rank_bm25_term_for_term() -> None:
    for seed in range(5):
        corpus = _corpus(seed)
        reference, postings = BM25Okapi(corpus), PostingsBM25(corpus)
        for query in (["w1"], ["w1", "w1", "w7"], ["common", "w3"], ["unknown"], [], ["w59", "w0", "common", "w0"]):
            np.testing.assert_allclose(postings.get_scores(query), reference.get_scores(query), rtol=1e-12, atol=0)


def test_batch_scores_and_top_n_match() -> None:
    corpus = _corpus(11)
    reference, postings = BM25Okapi(corpus), PostingsBM25(corpus)
    ids = [0, 5, 17, 299]
    np.testing.assert_allclose(
        postings.get_batch_scores(["w2", "w9"], ids), reference.get_batch_scores(["w2", "w9"], ids)
    )
    documents = [" ".join(d) for d in corpus]
    assert postings.get_top_n(["w4", "w8"], documents, n=5) == reference.get_top_n(["w4", "w8"], documents, n=5)


def test_a_term_no_passage_uses_scores_nothing() -> None:
    scores = PostingsBM25([["a", "b"], ["b", "c"]]).get_scores(["zzz"])
    assert scores.tolist() == [0.0, 0.0]
