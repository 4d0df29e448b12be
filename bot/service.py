"""Wire Settings into ready components: the indexes (built if missing, recovered if broken) and the Answerer."""

import datetime as dt
import logging
from collections.abc import Callable
from typing import NamedTuple

from threadpoolctl import threadpool_limits

from bot.answer import Answerer, AnswerPolicy
from bot.config import Settings
from bot.corpus import load_corpus
from bot.embeddings import get_embeddings, get_multilingual_embeddings, model_id, multilingual_model_id
from bot.errors import IndexUnavailable
from bot.index import PassageIndex, Progress, SyncReport, forget_stores, open_client, publish
from bot.language import MESSAGES, message
from bot.passages import sentence_records, split_corpus
from bot.profile import Profile, load_profile
from bot.query import load_lexicon
from bot.records import Passage
from bot.referrals import Referrals, load_referrals
from bot.retrieve import HybridRetriever
from bot.scorer import Scorers

logger = logging.getLogger(__name__)

Notify = Callable[[str], None]


class Indexes(NamedTuple):
    """Every index of one store: passages and their sentences by the English model, and (where it runs) the
    sentences by the multilingual one, which ranks passages by their nearest sentence and needs no passage index."""

    passages: PassageIndex
    sentences: PassageIndex
    sentences_multilingual: PassageIndex | None

    def present(self) -> list[PassageIndex]:
        """The indexes this machine can build and read."""
        return [i for i in self if i is not None]

    def records(self, index: PassageIndex, passages: list[Passage]) -> list[Passage]:
        """What one index holds: the passages, or their sentences in context."""
        return sentence_records(passages) if index in (self.sentences, self.sentences_multilingual) else passages


def open_indexes(settings: Settings, client: object | None = None) -> Indexes:
    """The passage and sentence indexes on one client; the multilingual ones where that model runs."""
    client = client if client is not None else open_client(settings)
    english = get_embeddings()
    multilingual = get_multilingual_embeddings() if settings.multilingual else None

    def index(embeddings: object, model: str, name: str) -> PassageIndex:
        return PassageIndex(client, embeddings, model, name)  # type: ignore[arg-type]

    return Indexes(
        passages=index(english, model_id(), settings.collection),
        sentences=index(english, model_id(), settings.sentence_collection),
        sentences_multilingual=index(multilingual, multilingual_model_id(), settings.sentence_multilingual_collection)
        if multilingual is not None
        else None,
    )


def open_index(settings: Settings) -> PassageIndex:
    """The English passage index named by the settings (embedded store or Chroma server)."""
    return open_indexes(settings).passages


def open_multilingual_index(settings: Settings) -> PassageIndex | None:
    """The multilingual (sentence) index; None where the model cannot run or it is turned off."""
    return open_indexes(settings).sentences_multilingual


def ingest(settings: Settings, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
    """Bring every index in line with the corpus folder: new versions are built beside the live ones and switched
    live together, so a running server never reads a half-built index. Idempotent; prunes removed documents."""
    passages = split_corpus(load_corpus(settings.corpus_dir))
    client = open_client(settings)
    indexes = open_indexes(settings, client)
    staged = [
        index.stage(indexes.records(index, passages), rebuild=rebuild, progress=progress) for index in indexes.present()
    ]
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


def ensure_indexes(settings: Settings, notify: Notify = logger.warning) -> Indexes:
    """Every index, built first (in one ingest) when one is missing or was made by another embedding model."""
    indexes = open_indexes(settings)
    rebuild = missing = False
    for index in indexes.present():
        built = index.built_with()
        if built is not None and built != index.model_id:
            notify(f"The {index.name} index was built with {built}; rebuilding it with {index.model_id}.")
            rebuild = True
        elif not index.exists():
            notify(f"No {index.name} index yet; building it from the corpus (one time).")
            missing = True
    if rebuild or missing:
        ingest(settings, rebuild=rebuild)
    return indexes


def ensure_index(settings: Settings, notify: Notify = logger.warning) -> PassageIndex:
    """The English index, built first when an index is missing or was made by another embedding model."""
    return ensure_indexes(settings, notify).passages


def corpus_profile(settings: Settings) -> tuple[Referrals, Profile]:
    """The corpus's referral text and its profile (what it covers, example questions)."""
    documents = load_corpus(settings.corpus_dir)
    profile = load_profile(settings.corpus_dir / "profile.yaml", documents)
    if settings.referrals_path.is_file():
        referrals = load_referrals(settings.referrals_path)
    else:
        default = {lang: message(lang, "referral") for lang in MESSAGES}
        referrals = Referrals(text={**default, **profile.referral})
    return referrals, profile


def build_answerer(
    settings: Settings, notify: Notify = logger.warning, repair: bool = False, scorers: Scorers | None = None
) -> Answerer:
    """A warmed-up Answerer over the settings' indexes; with repair, a broken embedded store is rebuilt."""
    if repair:
        recover_store(settings, notify)
    # numpy's OpenBLAS threads spin for a while after each product of the question with every sentence; on a small
    # machine they starve the models' own threads, and a warm ask at 1,000 passages took twice as long (p50 31 ms
    # against 16 ms, worst 124 ms against 30 ms). One BLAS thread does that product (3,000 sentences) in under 1 ms.
    threadpool_limits(limits=1, user_api="blas")
    indexes = ensure_indexes(settings, notify)
    referrals, profile = corpus_profile(settings)
    lexicon = load_lexicon(settings.corpus_dir / "hints.yaml") if settings.hints else {}
    answerer = Answerer(
        HybridRetriever(
            indexes.passages,
            get_embeddings(),
            k=settings.top_k,
            multilingual=indexes.sentences_multilingual,
            reload_after_s=settings.reload_s,
            sentences=indexes.sentences,
            lexicon=lexicon,
        ),
        referrals,
        AnswerPolicy(max_sentences=settings.max_answer_sentences, max_question_chars=settings.max_question_chars),
        log_questions=settings.log_questions,
        scorers=scorers,
        profile=profile,
    )
    answerer.warm_up()
    return answerer
