"""How the English model's precision is chosen from what the processor computes natively, and how concurrent
questions are embedded together."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from bot import embeddings


@pytest.fixture(autouse=True)
def _fresh_flags():
    cached = embeddings._cpu_flags
    cached.cache_clear()
    yield
    cached.cache_clear()  # the real flags again for the tests that follow


def test_bfloat16_is_used_only_where_the_processor_computes_it_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "_cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert embeddings._dtype() is torch.float32
    monkeypatch.setattr(embeddings, "_cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    expected = torch.bfloat16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else torch.float32
    assert embeddings._dtype() is expected


def test_cpu_flags_are_read_from_the_flags_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512_bf16\nbugs\t\t: spectre\n", encoding="utf-8")
    real_path = embeddings.Path
    monkeypatch.setattr(embeddings, "Path", lambda p: info if p == "/proc/cpuinfo" else real_path(p))
    monkeypatch.setattr(embeddings.platform, "machine", lambda: "x86_64")
    assert embeddings._cpu_flags() == frozenset({"fpu", "sse2", "avx2", "avx512_bf16"})
    assert embeddings.cpu_supports_e5()


class _SlowModel:
    """A stand-in model whose every call takes a while, recording the batches it is given."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.release = threading.Event()
        self.release.set()

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        self.release.wait(5)
        time.sleep(0.01)
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return [[float(len(t)), float(i)] for i, t in enumerate(texts)]


def test_a_lone_question_is_embedded_at_once_on_its_own() -> None:
    model = _SlowModel()
    batcher = embeddings.QueryBatcher(model)
    assert batcher.embed("abc") == [3.0, 0.0]
    assert model.batches == [["abc"]]


def test_questions_that_arrive_while_the_model_is_busy_share_its_next_call() -> None:
    model = _SlowModel()
    model.release.clear()  # the model is busy with the first question until the others have arrived
    batcher = embeddings.QueryBatcher(model, max_batch=8)
    texts = ["x" * n for n in range(1, 21)]
    with ThreadPoolExecutor(max_workers=21) as pool:
        first = pool.submit(batcher.embed, "first question")
        waiting = [pool.submit(batcher.embed, t) for t in texts]
        deadline = time.monotonic() + 5
        while len(batcher._waiting) < len(texts) and time.monotonic() < deadline:
            time.sleep(0.005)
        model.release.set()
        vectors = [w.result() for w in waiting]
    assert first.result()[0] == float(len("first question"))
    # Each caller gets its own text's vector, whatever batch it rode in.
    assert [v[0] for v in vectors] == [float(len(t)) for t in texts]
    assert sorted(t for batch in model.batches for t in batch) == sorted([*texts, "first question"])
    assert [len(b) for b in model.batches] == [1, 8, 8, 4]


def test_a_failed_call_fails_each_question_in_it_and_the_next_call_works() -> None:
    model = _SlowModel(fail_on="bad")
    batcher = embeddings.QueryBatcher(model)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.embed("bad")
    assert batcher.embed("good") == [4.0, 0.0]
