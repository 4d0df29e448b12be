"""The only module that touches chromadb: open the store, build passage collections, switch them live, read them.

Each logical index ("passages", "sentences_multilingual") is served from one physical collection at a time. An
ingest that changes anything builds a new version beside the live one (copying the vectors of unchanged passages,
embedding the rest), then switches every index to its new version in one metadata write. A server keeps answering
from the version it loaded until it notices the switch, so a reader never sees a half-built index, and a crash
mid-ingest leaves the live version untouched."""

import errno
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.errors import IndexUnavailable
from bot.records import Passage

logger = logging.getLogger(__name__)

BATCH = 64
COPY_BATCH = 1000
# Reading a whole collection in one call fails past SQLite's limit on query variables (seen at 100k passages).
READ_PAGE = 5000
MODEL_KEY = "embedding_model"
# A collection that holds no passages: its metadata names the live version of each logical index.
POINTER = "civicbot_live"
VERSION_MARK = "__v"


@dataclass(frozen=True)
class SyncReport:
    """What one ingest changed."""

    added: int
    updated: int
    removed: int
    unchanged: int
    rebuilt: bool = False

    @property
    def total(self) -> int:
        """Passages in the index after the sync."""
        return self.added + self.updated + self.unchanged


@dataclass(frozen=True)
class Staged:
    """A version built for one logical index, ready to be switched live (or the live one, if nothing changed)."""

    index: "PassageIndex"
    collection: str
    report: SyncReport

    @property
    def changed(self) -> bool:
        """Whether this is a new version rather than the live one."""
        return self.collection != self.index.live()


class Progress(Protocol):
    """Where ingest reports how many passages it will embed, and each batch done."""

    def start(self, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


def open_client(settings: Settings) -> Any:
    """A Chroma client: a server when CIVICBOT_CHROMA_HOST is set, else the embedded store."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
            return client
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
        client.list_collections()  # a corrupt store fails here, not on a resident's first question
        return client
    except Exception as exc:
        hint = (
            "is the Chroma server running and reachable?"
            if settings.chroma_host
            else "`civicbot ingest --rebuild` or `civicbot serve` rebuilds it from the corpus"
        )
        raise IndexUnavailable(f"index store unavailable at {where(settings)}: {reason(exc)}; {hint}") from exc


def forget_stores() -> None:
    """Drop chromadb's per-process store handles (a failed open leaves a broken one cached), so the next open
    starts clean; used at start-up, after moving a broken store aside."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def where(settings: Settings) -> str:
    """The store the settings name, for messages."""
    if settings.chroma_host:
        return f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
    return str(settings.chroma_path)


def reason(exc: BaseException) -> str:
    """One line saying why a store operation failed."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "the disk is full"
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:200]


def publish(client: Any, staged: Sequence[Staged]) -> None:
    """Switch every staged index to its new version in one write, then drop versions no reader can still use."""
    new = {s.index.name: s.collection for s in staged if s.changed}
    if not new:
        return
    try:
        for s in staged:
            if s.changed and s.index._get(s.collection) is None:
                raise IndexUnavailable(f"{s.collection} vanished before it went live (two ingests at once?); run again")
        pointer = client.get_or_create_collection(POINTER, metadata={"civicbot": "live versions"})
        meta = dict(pointer.metadata or {})
        previous = {name: meta.get(name) for name in new}
        pointer.modify(metadata={**meta, **new})
    except IndexUnavailable:
        raise
    except Exception as exc:
        raise IndexUnavailable(f"the new index could not be switched live: {reason(exc)}") from exc
    for s in staged:
        if s.index.name in new:
            s.index.prune(keep={s.collection, previous.get(s.index.name) or s.index.name})


class PassageIndex:
    """One logical index of passages and their vectors (cosine space), tagged with the model that built it."""

    def __init__(self, client: Any, embeddings: Embeddings, model_id: str, name: str = "passages") -> None:
        self._client = client
        self._embeddings = embeddings
        self.model_id = model_id
        self.name = name
        self._stores: dict[str, Chroma] = {}

    @property
    def embeddings(self) -> Embeddings:
        """The model that embeds this index's passages and the queries against it."""
        return self._embeddings

    # -- which collection is live ---------------------------------------------------------------------------------

    def _get(self, collection: str) -> Any:
        try:
            return self._client.get_collection(collection)
        except Exception:
            return None

    def live(self) -> str | None:
        """The collection now serving this index, or None if there is none."""
        try:
            pointer = self._get(POINTER)
            named = (pointer.metadata or {}).get(self.name) if pointer is not None else None
            if named:
                return str(named)
            # An index built before versions existed lives under its logical name.
            return self.name if self._get(self.name) is not None else None
        except Exception as exc:
            raise IndexUnavailable(f"index cannot be read: {reason(exc)}") from exc

    def _live_collection(self) -> Any:
        live = self.live()
        return self._get(live) if live else None

    def exists(self) -> bool:
        """Whether a live collection exists and holds passages."""
        try:
            col = self._live_collection()
            return col is not None and col.count() > 0
        except Exception as exc:
            raise IndexUnavailable(f"index cannot be read: {reason(exc)}") from exc

    def built_with(self) -> str | None:
        """The embedding model that built the live collection, or None if there is none."""
        col = self._live_collection()
        return None if col is None else (col.metadata or {}).get(MODEL_KEY)

    def check_model(self) -> None:
        """Refuse to query vectors made by another model: they would be silently wrong."""
        built = self.built_with()
        if built is not None and built != self.model_id:
            raise IndexUnavailable(
                f"the {self.name} index was built with {built}, not {self.model_id}; run `civicbot ingest --rebuild`"
            )

    def count(self) -> int:
        """Passages in the live collection."""
        col = self._live_collection()
        return 0 if col is None else int(col.count())

    def versions(self) -> list[str]:
        """Every collection that holds a version of this index, oldest first."""
        names = [c if isinstance(c, str) else c.name for c in self._client.list_collections()]
        mine = [n for n in names if n == self.name or n.startswith(self.name + VERSION_MARK)]
        return sorted(mine, key=_built_at)

    def prune(self, keep: set[str]) -> None:
        """Drop every version but the kept ones that is older than the newest kept: earlier versions and what a
        crashed ingest left half-built. A version newer than that (an ingest still building) is left alone."""
        newest_kept = max((_built_at(k) for k in keep), default=0)
        for name in self.versions():
            if name not in keep and _built_at(name) < newest_kept:
                try:
                    self._client.delete_collection(name)
                except Exception as exc:  # a leftover costs disk, not correctness
                    logger.warning("could not drop old index version %s: %s", name, reason(exc))
            self._stores.pop(name, None)

    # -- building a version ---------------------------------------------------------------------------------------

    def stage(self, passages: Sequence[Passage], rebuild: bool = False, progress: Progress | None = None) -> Staged:
        """Build a new version holding exactly these passages, unless the live one already does."""
        try:
            live = self._live_collection()
            built = None if live is None else (live.metadata or {}).get(MODEL_KEY)
            reuse = live if live is not None and not rebuild and built == self.model_id else None
            stored = _hashes(reuse) if reuse is not None else {}
            wanted = {p.id for p in passages}
            changed = [p for p in passages if stored.get(p.id) != p.content_hash]
            kept = [p for p in passages if stored.get(p.id) == p.content_hash]
            stale = [pid for pid in stored if pid not in wanted]
            updated = sum(1 for p in changed if p.id in stored)
            report = SyncReport(
                added=len(changed) - updated,
                updated=updated,
                removed=len(stale) + (live.count() if live is not None and reuse is None else 0),
                unchanged=len(kept),
                rebuilt=live is not None and reuse is None,
            )
            if reuse is not None and not changed and not stale:
                return Staged(self, reuse.name, report)
            name = f"{self.name}{VERSION_MARK}{time.time_ns()}"
            target = self._client.create_collection(
                name, metadata={"hnsw:space": "cosine", MODEL_KEY: self.model_id}, embedding_function=None
            )
            for batch in _chunks(kept, COPY_BATCH):
                assert reuse is not None
                got = reuse.get(ids=[p.id for p in batch], include=["embeddings"])
                vectors = dict(zip(got["ids"], got["embeddings"], strict=True))
                _add(target, batch, [vectors[p.id] for p in batch])
            if progress:
                progress.start(len(changed))
            # Batches of similar length pad less: the models embed them faster.
            for batch in _chunks(sorted(changed, key=lambda p: len(p.text)), BATCH):
                _add(target, batch, self._embeddings.embed_documents([p.text for p in batch]))
                if progress:
                    progress.advance(len(batch))
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(f"index could not be updated: {reason(exc)}") from exc
        return Staged(self, name, report)

    def sync(self, passages: Sequence[Passage], rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        """Stage and switch live this one index (ingest does all indexes together)."""
        staged = self.stage(passages, rebuild=rebuild, progress=progress)
        publish(self._client, [staged])
        return staged.report

    # -- reading --------------------------------------------------------------------------------------------------

    def all_passages(self, collection: str | None = None) -> list[Passage]:
        """Every passage of a version (the live one by default), ordered by document and paragraph."""
        try:
            col = self._get(collection) if collection else self._live_collection()
            if col is None:
                return []
            got = _get_all(col, ["documents", "metadatas"])
            passages = [
                Passage.from_metadata(text, meta)
                for text, meta in zip(got["documents"], got["metadatas"], strict=False)
            ]
        except Exception as exc:
            raise IndexUnavailable(f"index cannot be read: {reason(exc)}") from exc
        return sorted(passages, key=lambda p: (p.slug, p.n))

    def vectors(self, collection: str | None = None) -> dict[str, np.ndarray]:
        """Every stored vector of a version (the live one by default), by id, as float32 arrays: as lists of
        number objects they took about ten times the memory."""
        try:
            col = self._get(collection) if collection else self._live_collection()
            if col is None:
                return {}
            got = _get_all(col, ["embeddings"])
        except Exception as exc:
            raise IndexUnavailable(f"index cannot be read: {reason(exc)}") from exc
        return {str(i): np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=False)}

    def _store(self, collection: str) -> Chroma:
        # Opening the LangChain wrapper costs a round trip; a warm query must not pay it every time.
        if collection not in self._stores:
            self._stores[collection] = Chroma(
                collection_name=collection,
                embedding_function=self._embeddings,
                client=self._client,
                create_collection_if_not_exists=False,
            )
        return self._stores[collection]

    def search(self, vector: list[float], k: int, collection: str | None = None) -> list[tuple[str, float]]:
        """The k nearest passage ids in a version (the live one by default), with cosine similarity."""
        try:
            name = collection or self.live()
            if name is None:
                raise IndexUnavailable("the index is empty; run `civicbot ingest`")
            found = self._store(name).similarity_search_by_vector_with_relevance_scores(vector, k=k)
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(f"index search failed: {reason(exc)}") from exc
        # Chroma returns a cosine *distance* here; turn it into a similarity so higher is closer.
        return [(str(doc.metadata["passage_id"]), 1.0 - float(distance)) for doc, distance in found]


def _built_at(collection: str) -> int:
    """When a version was built (0 for an index from before versions)."""
    _, _, stamp = collection.partition(VERSION_MARK)
    return int(stamp) if stamp.isdigit() else 0


def _get_all(col: Any, include: list[str]) -> dict[str, list[Any]]:
    """Every record of a collection, read a page at a time: ids and the fields asked for."""
    out: dict[str, list[Any]] = {key: [] for key in ["ids", *include]}
    offset = 0
    while True:
        got = col.get(include=include, limit=READ_PAGE, offset=offset)
        for key in out:
            out[key].extend(got[key])
        if len(got["ids"]) < READ_PAGE:
            return out
        offset += READ_PAGE


def _hashes(col: Any) -> dict[str, str]:
    got = _get_all(col, ["metadatas"])
    return {
        pid: str((meta or {}).get("content_hash", "")) for pid, meta in zip(got["ids"], got["metadatas"], strict=False)
    }


def _chunks(items: Sequence[Passage], size: int) -> Iterator[Sequence[Passage]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _add(col: Any, batch: Sequence[Passage], vectors: Sequence[Any]) -> None:
    col.add(
        ids=[p.id for p in batch],
        embeddings=[list(map(float, v)) for v in vectors],
        documents=[p.text for p in batch],
        metadatas=[p.metadata() for p in batch],
    )
