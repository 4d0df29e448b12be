"""Corpus loading, passage splitting and sentence splitting (no model needed)."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.corpus import load_corpus, parse_document
from bot.errors import CorpusError
from bot.passages import split_corpus, split_document
from bot.text import clean, ends_with_abbreviation, split_sentences
from tests.conftest import ARTICLE, CORPUS

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed"

GOOD = """---
title: T
source: https://example.org/a
date: 2026-03-05
publisher: P
language: en
---

First paragraph.

Second paragraph.
"""


def test_the_article_has_its_header_and_paragraphs() -> None:
    (doc,) = [d for d in load_corpus(CORPUS) if d.slug == ARTICLE]
    assert doc.date == "2026-03-05" and doc.language == "en"
    assert len(doc.paragraphs) == 12


@pytest.mark.skipif(
    not list(SEED.glob("*.txt")), reason="the shared seed article (../shared/seed) is not beside this clone"
)
def test_seed_article_is_in_the_corpus_verbatim() -> None:
    (doc,) = [d for d in load_corpus(CORPUS) if d.slug == ARTICLE]
    seed_text = " ".join(next(SEED.glob("*.txt")).read_text(encoding="utf-8").split())
    for paragraph in doc.paragraphs:
        assert paragraph in seed_text


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("title: T\nsource: s\ndate: 2026-03-05\npublisher: P\n", "language"),
        ("title: T\nsource: s\ndate: not-a-date\npublisher: P\nlanguage: en\n", "date"),
        ("title: ''\nsource: s\ndate: 2026-03-05\npublisher: P\nlanguage: en\n", "title"),
        ("title: T\nsource: s\ndate: 2026-03-05\npublisher: P\nlanguage: klingon\n", "language"),
    ],
)
def test_bad_front_matter_names_file_and_field(header: str, field: str) -> None:
    with pytest.raises(CorpusError) as err:
        parse_document(Path("corpus/bad-doc.md"), f"---\n{header}---\n\nText.\n")
    assert "bad-doc.md" in str(err.value) and f"'{field}'" in str(err.value)


@pytest.mark.parametrize("raw", ["no header at all", "---\n: [unclosed\n---\n\ntext", "---\n- a list\n---\n\ntext"])
def test_unusable_documents_are_refused_with_the_file_named(raw: str) -> None:
    with pytest.raises(CorpusError, match="x.md"):
        parse_document(Path("x.md"), raw)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin.md").write_bytes(GOOD.encode("utf-8").replace(b"First", b"F\xefrst\xff"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus(tmp_path)


def test_passage_ids_are_stable_and_never_mix_documents(tmp_path: Path) -> None:
    (tmp_path / "a-doc.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b-doc.md").write_text(GOOD.replace("First", "Other"), encoding="utf-8")
    first = split_corpus(load_corpus(tmp_path))
    again = split_corpus(load_corpus(tmp_path))
    assert [p.id for p in first] == ["a-doc#p0", "a-doc#p1", "a-doc#p2", "b-doc#p0", "b-doc#p1", "b-doc#p2"]
    assert [(p.id, p.content_hash) for p in first] == [(p.id, p.content_hash) for p in again]
    assert first[1].content_hash != first[4].content_hash
    assert all(p.id.startswith(p.slug + "#") for p in first)


def test_passage_zero_cites_the_publication_details() -> None:
    (doc,) = [d for d in load_corpus(CORPUS) if d.slug == ARTICLE]
    details = split_document(doc)[0]
    assert details.id == f"{ARTICLE}#p0"
    assert details.text.startswith("WYPR published “") and "March 5, 2026" in details.text
    assert doc.title in details.text


def test_quotations_stay_whole_with_their_attribution() -> None:
    para = "“One. Two, three,” she said. Then Gov. Smith left at 5.30 p.m. sharp. Done."
    assert split_sentences(para) == [
        "“One. Two, three,” she said.",
        "Then Gov. Smith left at 5.30 p.m. sharp.",
        "Done.",
    ]


def test_titles_and_abbreviations_in_english_and_spanish_do_not_end_a_sentence() -> None:
    para = "La directora es la Dra. Itzel Ríos. Llame al Tel. (555) 010-2000, ext. 4. Gracias."
    assert split_sentences(para) == [
        "La directora es la Dra. Itzel Ríos.",
        "Llame al Tel. (555) 010-2000, ext. 4.",
        "Gracias.",
    ]


def test_a_closing_stop_belongs_to_an_abbreviation_only_when_it_ends_one() -> None:
    for sentence in ("Open until 4:30 p.m.", "Se aplica en EE.UU.", "Pens, paper, etc."):
        assert ends_with_abbreviation(sentence), sentence
    # The word "no", an address, a lone stop and one set apart by a space are no abbreviations.
    for sentence in ("The answer is no.", "Write to meals@city.org.", ".", "Done .", "Wait..", ""):
        assert not ends_with_abbreviation(sentence), sentence


@given(st.text(max_size=400))
def test_sentence_split_loses_no_words(text: str) -> None:
    paragraph = clean(text)
    assert " ".join(split_sentences(paragraph)).split() == paragraph.split()
