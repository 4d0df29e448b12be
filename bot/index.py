"""The only module that touches chromadb: open the store, sync passages into it, read them back."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.errors import IndexUnavailable
from bot.records import Passage

logger = logging.getLogger(__name__)

BATCH = 64
MODEL_KEY = "embedding_model"


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


class Progress(Protocol):
    """Where ingest reports how many passages it will embed, and each batch done."""

    def start(self, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


def open_client(settings: Settings) -> Any:
    """A Chroma client: a server when CIVICBOT_CHROMA_HOST is set, else the embedded store."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:
        where = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else str(settings.chroma_path)
        )
        raise IndexUnavailable(f"index store unavailable at {where}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:200]


class PassageIndex:
    """Passages and their vectors in one Chroma collection (cosine space), tagged with the model that built it."""

    def __init__(self, client: Any, embeddings: Embeddings, model_id: str, collection: str = "passages") -> None:
        self._client = client
        self._embeddings = embeddings
        self.model_id = model_id
        self.collection_name = collection
        self._vectorstore: Chroma | None = None

    @property
    def embeddings(self) -> Embeddings:
        """The model that embeds this collection's passages and the queries against it."""
        return self._embeddings

    def _store(self) -> Chroma:
        # Opening the LangChain wrapper costs a round trip; a warm query must not pay it every time.
        if self._vectorstore is None:
            self._vectorstore = Chroma(
                collection_name=self.collection_name,
                embedding_function=self._embeddings,
                client=self._client,
                collection_metadata={"hnsw:space": "cosine", MODEL_KEY: self.model_id},
            )
        return self._vectorstore

    def _collection(self) -> Any:
        try:
            return self._client.get_collection(self.collection_name)
        except Exception:
            return None

    def exists(self) -> bool:
        """Whether the collection exists and holds passages."""
        try:
            col = self._collection()
            return col is not None and col.count() > 0
        except Exception as exc:
            raise IndexUnavailable(f"index cannot be read: {_reason(exc)}") from exc

    def built_with(self) -> str | None:
        """The embedding model that built the index, or None if there is no index."""
        col = self._collection()
        if col is None:
            return None
        return (col.metadata or {}).get(MODEL_KEY)

    def check_model(self) -> None:
        """Refuse to query vectors made by another model: they would be silently wrong."""
        built = self.built_with()
        if built is not None and built != self.model_id:
            raise IndexUnavailable(
                f"the index was built with {built}, not {self.model_id}; run `civicbot ingest --rebuild`"
            )

    def count(self) -> int:
        """Passages in the index."""
        col = self._collection()
        return 0 if col is None else int(col.count())

    def sync(
        self,
        passages: Sequence[Passage],
        rebuild: bool = False,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Make the index hold exactly these passages: upsert new or changed ones, delete the rest."""
        try:
            built = self.built_with()
            rebuilt = rebuild or (built is not None and built != self.model_id)
            if rebuilt and built is not None:
                self._client.delete_collection(self.collection_name)
                self._vectorstore = None
            store = self._store()
            stored = self._stored_hashes()
            wanted = {p.id: p for p in passages}
            changed = [p for p in passages if stored.get(p.id) != p.content_hash]
            stale = [pid for pid in stored if pid not in wanted]
            if progress:
                progress.start(len(changed))
            for start in range(0, len(changed), BATCH):
                batch = changed[start : start + BATCH]
                store.add_texts(
                    texts=[p.text for p in batch], metadatas=[p.metadata() for p in batch], ids=[p.id for p in batch]
                )
                if progress:
                    progress.advance(len(batch))
            for start in range(0, len(stale), 1000):
                store.delete(ids=stale[start : start + 1000])
        except IndexUnavailable:
            raise
        except Exception as exc:
            raise IndexUnavailable(f"index could not be updated: {_reason(exc)}") from exc
        updated = sum(1 for p in changed if p.id in stored)
        return SyncReport(
            added=len(changed) - updated,
            updated=updated,
            removed=len(stale),
            unchanged=len(passages) - len(changed),
            rebuilt=rebuilt,
        )

    def _stored_hashes(self) -> dict[str, str]:
        col = self._collection()
        if col is None:
            return {}
        got = col.get(include=["metadatas"])
        return {
            pid: str((meta or {}).get("content_hash", ""))
            for pid, meta in zip(got["ids"], got["metadatas"], strict=False)
        }

    def all_passages(self) -> list[Passage]:
        """Every stored passage, ordered by document and paragraph."""
        try:
            col = self._collection()
            if col is None:
                return []
            got = col.get(include=["documents", "metadatas"])
            passages = [
                Passage.from_metadata(text, meta)
                for text, meta in zip(got["documents"], got["metadatas"], strict=False)
            ]
        except Exception as exc:
            raise IndexUnavailable(f"index cannot be read: {_reason(exc)}") from exc
        return sorted(passages, key=lambda p: (p.slug, p.n))

    def search(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        """The k nearest passage ids with their cosine similarity (1 - cosine distance)."""
        try:
            found = self._store().similarity_search_by_vector_with_relevance_scores(vector, k=k)
        except Exception as exc:
            raise IndexUnavailable(f"index search failed: {_reason(exc)}") from exc
        # Chroma returns a cosine *distance* here; turn it into a similarity so higher is closer.
        return [(str(doc.metadata["passage_id"]), 1.0 - float(distance)) for doc, distance in found]
