"""Wire Settings into ready components: the index (built if missing) and the Answerer."""

import logging
from collections.abc import Callable

from bot.answer import Answerer, AnswerPolicy
from bot.config import Settings
from bot.corpus import load_corpus
from bot.embeddings import get_embeddings, get_multilingual_embeddings, model_id, multilingual_model_id
from bot.index import PassageIndex, Progress, SyncReport, open_client
from bot.passages import split_corpus
from bot.referrals import load_referrals
from bot.retrieve import HybridRetriever

logger = logging.getLogger(__name__)


def open_index(settings: Settings) -> PassageIndex:
    """The passage index named by the settings (embedded store or Chroma server)."""
    return PassageIndex(open_client(settings), get_embeddings(), model_id(), settings.collection)


def open_multilingual_index(settings: Settings) -> PassageIndex | None:
    """The same passages embedded by the multilingual model, in their own collection; None where it cannot run."""
    embeddings = get_multilingual_embeddings() if settings.multilingual else None
    if embeddings is None:
        return None
    return PassageIndex(open_client(settings), embeddings, multilingual_model_id(), settings.multilingual_collection)


def ingest(settings: Settings, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
    """Bring every index in line with the corpus folder: idempotent, prunes passages of removed documents."""
    passages = split_corpus(load_corpus(settings.corpus_dir))
    report = open_index(settings).sync(passages, rebuild=rebuild, progress=progress)
    multilingual = open_multilingual_index(settings)
    if multilingual is not None:
        multilingual.sync(passages, rebuild=rebuild, progress=progress)
    return report


def _ensure(index: PassageIndex, settings: Settings, notify: Callable[[str], None]) -> None:
    built = index.built_with()
    if built is not None and built != index.model_id:
        notify(f"The {index.collection_name} index was built with {built}; rebuilding it with {index.model_id}.")
        ingest(settings, rebuild=True)
    elif not index.exists():
        notify(f"No {index.collection_name} index yet; building it from the corpus (one time).")
        ingest(settings)


def ensure_index(settings: Settings, notify: Callable[[str], None] = logger.warning) -> PassageIndex:
    """The index, built first when it is missing or was made by another embedding model."""
    index = open_index(settings)
    _ensure(index, settings, notify)
    return index


def build_answerer(settings: Settings, notify: Callable[[str], None] = logger.warning) -> Answerer:
    """A warmed-up Answerer over the settings' indexes."""
    index = ensure_index(settings, notify)
    multilingual = open_multilingual_index(settings)
    if multilingual is not None:
        _ensure(multilingual, settings, notify)
    answerer = Answerer(
        HybridRetriever(
            index,
            get_embeddings(),
            k=settings.top_k,
            multilingual=multilingual,
        ),
        load_referrals(settings.referrals_path),
        AnswerPolicy(max_sentences=settings.max_answer_sentences, max_question_chars=settings.max_question_chars),
    )
    answerer.warm_up()
    return answerer
