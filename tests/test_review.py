"""What the next ingest would change (a pure diff of two passage lists), the corpus check that reports every invalid
file, and `civicbot corpus check` against a real store filled by a stand-in model (no model is loaded)."""

from dataclasses import replace
from pathlib import Path

from langchain_core.embeddings import Embeddings
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings
from bot.embeddings import model_id
from bot.index import PassageIndex, open_client
from bot.passages import content_hash, split_corpus
from bot.records import Passage
from bot.review import check_corpus, describe, diff_passages, review, shorten, summary
from tests.conftest import make_passage

DOC = """---
title: {title}
source: https://example.org/{slug}
date: 2026-03-05
publisher: City Clerk
language: en
---

{body}
"""


def passage(slug: str, n: int, text: str) -> Passage:
    return replace(make_passage(slug, n, text), content_hash=content_hash(text))


def write_doc(folder: Path, slug: str, body: str, title: str = "Notice") -> None:
    (folder / f"{slug}.md").write_text(DOC.format(title=title, slug=slug, body=body), encoding="utf-8")


def test_nothing_changes_when_the_corpus_matches_the_index() -> None:
    live = [passage("a", 0, "Zero."), passage("a", 1, "One.")]
    changes = diff_passages(live, list(live))
    assert [c.touched for c in changes] == [False]
    assert changes[0].unchanged == 2 and summary(changes) == []
    assert describe(changes)[0] == "next ingest: nothing to change (2 passages unchanged)"


def test_without_an_index_every_passage_is_added() -> None:
    planned = [passage("a", 0, "Zero."), passage("a", 1, "One."), passage("b", 0, "Other.")]
    changes = diff_passages([], planned)
    assert [(c.slug, len(c.added), c.unchanged) for c in changes] == [("a", 2, 0), ("b", 1, 0)]
    assert summary(changes) == ["a: 2 added", "b: 1 added"]


def test_edited_added_and_removed_passages_are_told_apart_per_document() -> None:
    live = [passage("a", 0, "Zero."), passage("a", 1, "Old text."), passage("a", 2, "Dropped."), passage("z", 0, "Z.")]
    planned = [passage("a", 0, "Zero."), passage("a", 1, "New text."), passage("n", 0, "New doc.")]
    by_slug = {c.slug: c for c in diff_passages(live, planned)}
    a = by_slug["a"]
    assert [(old.text, new.text) for old, new in a.changed] == [("Old text.", "New text.")]
    assert [p.id for p in a.removed] == ["a#p2"] and a.added == () and a.unchanged == 1
    assert [p.id for p in by_slug["n"].added] == ["n#p0"]
    assert [p.id for p in by_slug["z"].removed] == ["z#p0"]  # a deleted document: all its passages go
    assert list(by_slug) == ["a", "n", "z"]  # corpus order, then documents only the index still has
    assert summary(list(by_slug.values())) == [
        "a: 1 changed, 1 removed, 1 unchanged",
        "n: 1 added",
        "z: 1 removed",
    ]


def test_the_same_text_under_a_new_heading_is_a_change() -> None:
    old = passage("a", 1, "Bring your ID.")
    new = replace(old, context="Renewals", content_hash=content_hash("Renewals\nBring your ID."))
    (change,) = diff_passages([old], [new])
    assert len(change.changed) == 1 and change.unchanged == 0


def test_describe_shows_text_cut_short_and_a_limit_per_document() -> None:
    long = "word " * 60
    planned = [passage("a", n, f"{n} {long}") for n in range(5)]
    lines = describe(diff_passages([], planned), limit=2)
    assert lines[1] == "a (A notice): 5 added"
    assert lines[2].startswith("  + #p0 0 word") and lines[2].endswith("…") and len(lines[2]) < 120
    assert lines[-1] == "  … and 3 more (--limit 0 shows all)"
    assert len(describe(diff_passages([], planned), limit=0)) == 2 + 5
    changed = describe(diff_passages([passage("a", 1, "Old.")], [passage("a", 1, "New.")]))
    assert "  ~ #p1 New.\n      was: Old." in changed
    assert shorten("a b c", 100) == "a b c"


def test_every_invalid_file_is_reported_once_with_its_field(tmp_path: Path) -> None:
    write_doc(tmp_path, "good", "Fine text.")
    (tmp_path / "no-publisher.md").write_text(
        "---\ntitle: T\nsource: s\ndate: 2026-01-02\nlanguage: en\n---\n\nText.\n", encoding="utf-8"
    )
    (tmp_path / "bad-date.md").write_text(
        "---\ntitle: T\nsource: s\ndate: someday\npublisher: P\nlanguage: en\n---\n\nText.\n", encoding="utf-8"
    )
    (tmp_path / "profile.yaml").write_text("cover:\n  en: library hours\n", encoding="utf-8")
    check = check_corpus(tmp_path)
    assert [d.slug for d in check.documents] == ["good"]
    assert len(check.problems) == 3
    bad_date, no_publisher, profile = check.problems
    assert "bad-date.md" in bad_date and "'date'" in bad_date
    assert "no-publisher.md" in no_publisher and "'publisher'" in no_publisher
    assert "profile.yaml" in profile and "'cover'" in profile
    assert check.invalid_slugs == {"bad-date", "no-publisher"}


class StandIn(Embeddings):
    """A stand-in for the model: the same vector for every text, so a store can be filled without loading one."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.0, 0.0]


def test_corpus_check_compares_with_the_live_index_and_fails_on_an_invalid_file(tmp_path: Path) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    write_doc(corpus, "hours", "The library opens at 9 a.m.\n\nIt closes at 6 p.m.", title="Library hours")
    write_doc(corpus, "fees", "Late fees are gone.", title="Fees")
    settings = Settings(data_dir=data, corpus_dir=corpus)
    PassageIndex(open_client(settings), StandIn(), model_id(), settings.collection).sync(
        split_corpus(check_corpus(corpus).documents)
    )
    write_doc(corpus, "hours", "The library opens at 10 a.m.\n\nIt closes at 6 p.m.", title="Library hours")
    (corpus / "fees.md").unlink()
    write_doc(corpus, "parking", "Parking is free on Sundays.", title="Parking")

    changes, rebuild = review(settings, check_corpus(corpus))
    assert not rebuild
    assert summary(changes) == ["hours: 1 changed, 2 unchanged", "parking: 2 added", "fees: 2 removed"]

    env = {"CIVICBOT_DATA_DIR": str(data), "CIVICBOT_CORPUS_DIR": str(corpus)}
    done = CliRunner().invoke(app, ["corpus", "check"], env=env)
    assert done.exit_code == 0, done.output
    assert "next ingest: 2 added, 1 changed, 2 removed, 2 unchanged passages" in done.stdout
    assert "  ~ #p1 The library opens at 10 a.m.\n      was: The library opens at 9 a.m." in done.stdout
    assert "  - #p1 Late fees are gone." in done.stdout

    (corpus / "broken.md").write_text("no header at all\n", encoding="utf-8")
    (corpus / "profile.yaml").write_text("covers: [not, a, mapping]\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["corpus", "check"], env=env)
    errors = done.stderr.strip().splitlines()
    assert done.exit_code == 1
    assert len(errors) == 2 and "broken.md" in errors[0] and "profile.yaml" in errors[1] and "'covers'" in errors[1]
    assert "2 valid documents, 2 invalid files" in done.stdout and "parking (Parking): 2 added" in done.stdout
