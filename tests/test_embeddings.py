"""How the English model's precision is chosen from what the processor computes natively."""

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
