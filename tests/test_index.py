"""The Chroma index on the real model: idempotent ingest, pruning, model tracking, self-retrieval."""

from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import IndexUnavailable
from bot.service import ensure_index, ingest, open_index
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


def test_ingest_is_idempotent_and_prunes_removed_documents(tmp_path: Path, corpus_copy: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy)
    first = ingest(settings)
    assert first.added == 13 and first.removed == 0  # 12 paragraphs and the publication details
    ids = sorted(p.id for p in open_index(settings).all_passages())
    again = ingest(settings)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 13)
    assert sorted(p.id for p in open_index(settings).all_passages()) == ids

    extra = corpus_copy / "second-doc.md"
    extra.write_text(
        "---\ntitle: Second\nsource: s\ndate: 2026-03-07\npublisher: P\nlanguage: en\n---\n\nOne.\n\nTwo.\n",
        encoding="utf-8",
    )
    assert ingest(settings).added == 3
    extra.write_text(extra.read_text(encoding="utf-8").replace("Two.", "Two, changed."), encoding="utf-8")
    changed = ingest(settings)
    assert (changed.added, changed.updated) == (0, 1)
    extra.unlink()
    pruned = ingest(settings)
    assert pruned.removed == 3
    index = open_index(settings)
    assert index.count() == 13
    assert sorted(p.id for p in index.all_passages()) == ids


def test_every_passage_retrieves_itself(settings: Settings) -> None:
    from bot.embeddings import get_embeddings

    index = open_index(settings)
    passages = index.all_passages()
    assert len({p.id for p in passages}) == len(passages) == index.count()
    vectors = get_embeddings().embed_documents([p.text for p in passages])
    for passage, vector in zip(passages, vectors, strict=False):
        (best_id, similarity), *_ = index.search(vector, 1)
        assert best_id == passage.id and similarity > 0.99


def test_a_model_change_is_refused_then_rebuilt(tmp_path: Path) -> None:
    from bot.embeddings import get_embeddings
    from bot.index import PassageIndex, open_client

    settings = Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)
    ingest(settings)
    other = PassageIndex(open_client(settings), get_embeddings(), "some-other-model", settings.collection)
    with pytest.raises(IndexUnavailable, match="ingest --rebuild"):
        other.check_model()
    messages: list[str] = []
    # The stored index says it was built by another model: ensure_index must rebuild, not serve wrong vectors.
    other.sync(other.all_passages(), rebuild=True)
    index = ensure_index(settings, notify=messages.append)
    assert messages and "rebuilding" in messages[0]
    assert index.built_with() == index.model_id and index.count() == 13


def test_missing_index_is_built_on_demand(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh", corpus_dir=CORPUS)
    notes: list[str] = []
    assert ensure_index(settings, notify=notes.append).count() == 13
    assert notes and "building" in notes[0]


def test_a_collection_is_read_back_whole_a_page_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from bot import index as index_module
    from bot.index import PassageIndex, open_client, publish
    from tests.conftest import make_passage

    monkeypatch.setattr(index_module, "READ_PAGE", 3)  # so that ten passages take four pages
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)
    index = PassageIndex(open_client(settings), DeterministicFakeEmbedding(size=8), "fake", "paged")
    passages = [make_passage("doc", n, f"Paragraph number {n} of the document.") for n in range(1, 11)]
    publish(index._client, [index.stage(passages)])
    assert [p.id for p in index.all_passages()] == [p.id for p in sorted(passages, key=lambda p: p.n)]
    assert len(index.vectors()) == 10
    # A second ingest compares content hashes read the same way: nothing changed, nothing re-embedded.
    assert index.stage(passages).report.unchanged == 10
