"""Wire Settings into ready components: the indexes (built if missing, recovered if broken) and the Answerer."""

import datetime as dt
import logging
from collections.abc import Callable

from bot.answer import Answerer, AnswerPolicy
from bot.config import Settings
from bot.corpus import load_corpus
from bot.embeddings import get_embeddings, get_multilingual_embeddings, model_id, multilingual_model_id
from bot.errors import IndexUnavailable
from bot.index import PassageIndex, Progress, SyncReport, forget_stores, open_client, publish
from bot.passages import split_corpus
from bot.referrals import load_referrals
from bot.retrieve import HybridRetriever

logger = logging.getLogger(__name__)

Notify = Callable[[str], None]


def open_indexes(settings: Settings, client: object | None = None) -> tuple[PassageIndex, PassageIndex | None]:
    """The English index and, where the multilingual model runs, its Spanish-question twin, on one client."""
    client = client if client is not None else open_client(settings)
    english = PassageIndex(client, get_embeddings(), model_id(), settings.collection)
    embeddings = get_multilingual_embeddings() if settings.multilingual else None
    multilingual = (
        PassageIndex(client, embeddings, multilingual_model_id(), settings.multilingual_collection)
        if embeddings is not None
        else None
    )
    return english, multilingual


def open_index(settings: Settings) -> PassageIndex:
    """The English passage index named by the settings (embedded store or Chroma server)."""
    return open_indexes(settings)[0]


def open_multilingual_index(settings: Settings) -> PassageIndex | None:
    """The multilingual passage index; None where the model cannot run or it is turned off."""
    return open_indexes(settings)[1]


def ingest(settings: Settings, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
    """Bring every index in line with the corpus folder: new versions are built beside the live ones and switched
    live together, so a running server never reads a half-built index. Idempotent; prunes removed documents."""
    passages = split_corpus(load_corpus(settings.corpus_dir))
    client = open_client(settings)
    indexes = [i for i in open_indexes(settings, client) if i is not None]
    staged = [index.stage(passages, rebuild=rebuild, progress=progress) for index in indexes]
    publish(client, staged)
    return staged[0].report


def recover_store(settings: Settings, notify: Notify = logger.warning) -> None:
    """Open the store; if the embedded one is unreadable, move it aside (kept for inspection) and start afresh.
    A Chroma server's store is the server's to repair: that error is raised as it is."""
    try:
        open_client(settings)
    except IndexUnavailable as exc:
        if settings.chroma_host or not settings.chroma_path.exists():
            raise
        aside = settings.chroma_path.with_name(f"chroma.broken-{dt.datetime.now():%Y%m%d-%H%M%S}")
        settings.chroma_path.rename(aside)
        forget_stores()
        notify(f"The index could not be read ({exc}); moved it to {aside} and rebuilding it from the corpus.")


def ensure_indexes(settings: Settings, notify: Notify = logger.warning) -> tuple[PassageIndex, PassageIndex | None]:
    """Both indexes, built first (in one ingest) when one is missing or was made by another embedding model."""
    english, multilingual = open_indexes(settings)
    rebuild = missing = False
    for index in (i for i in (english, multilingual) if i is not None):
        built = index.built_with()
        if built is not None and built != index.model_id:
            notify(f"The {index.name} index was built with {built}; rebuilding it with {index.model_id}.")
            rebuild = True
        elif not index.exists():
            notify(f"No {index.name} index yet; building it from the corpus (one time).")
            missing = True
    if rebuild or missing:
        ingest(settings, rebuild=rebuild)
    return english, multilingual


def ensure_index(settings: Settings, notify: Notify = logger.warning) -> PassageIndex:
    """The English index, built first when an index is missing or was made by another embedding model."""
    return ensure_indexes(settings, notify)[0]


def build_answerer(settings: Settings, notify: Notify = logger.warning, repair: bool = False) -> Answerer:
    """A warmed-up Answerer over the settings' indexes; with repair, a broken embedded store is rebuilt."""
    if repair:
        recover_store(settings, notify)
    english, multilingual = ensure_indexes(settings, notify)
    answerer = Answerer(
        HybridRetriever(
            english, get_embeddings(), k=settings.top_k, multilingual=multilingual, reload_after_s=settings.reload_s
        ),
        load_referrals(settings.referrals_path),
        AnswerPolicy(
            max_sentences=settings.max_answer_sentences,
            max_question_chars=settings.max_question_chars,
            min_coverage=settings.min_coverage,
        ),
        log_questions=settings.log_questions,
    )
    answerer.warm_up()
    return answerer
