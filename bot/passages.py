"""Split Documents into paragraph Passages with stable ids and content hashes."""

import datetime as dt
import hashlib
import re
from dataclasses import replace

from bot.records import Document, Passage
from bot.text import split_sentences


def content_hash(text: str) -> str:
    """A short, stable fingerprint of a passage's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def publication_text(doc: Document) -> str:
    """The document's header as one citable sentence: who published it, under what title, and when."""
    date = dt.date.fromisoformat(doc.date)
    return f"{doc.publisher} published “{doc.title}” on {date:%B} {date.day}, {date.year}."


def without_headline(text: str) -> str:
    """Passage 0 minus the quoted title: what it says about the publication, not what the headline is about."""
    return re.sub(r"“[^”]*”", " ", text)


def split_document(doc: Document) -> list[Passage]:
    """Passage 0 holds the publication details (so "who reported this, and when?" has a citable answer); then one
    passage per block (paragraph or list item), numbered from 1: `<slug>#p<N>`, each with its headings as context."""
    contexts = ("", *(doc.contexts or ("",) * len(doc.paragraphs)))
    return [
        Passage(
            id=f"{doc.slug}#p{n}",
            document=doc.title,
            slug=doc.slug,
            n=n,
            text=text,
            source=doc.source,
            date=doc.date,
            publisher=doc.publisher,
            language=doc.language,
            content_hash=content_hash(f"{contexts[n]}\n{text}"),
            subject=doc.subject,
            context=contexts[n],
        )
        for n, text in enumerate((publication_text(doc), *doc.paragraphs))
    ]


def split_corpus(docs: list[Document]) -> list[Passage]:
    """All passages of all documents, in corpus order."""
    return [p for doc in docs for p in split_document(doc)]


def sentence_id(passage_id: str, index: int) -> str:
    """The id of one sentence of a passage in the sentence indexes."""
    return f"{passage_id}~s{index}"


def in_context(passage: Passage, sentence: str) -> str:
    """A sentence as it is embedded: after the headings it sits under, so "Is it free?" — "Yes." still matches."""
    return f"{passage.context}: {sentence}" if passage.context else sentence


def sentence_records(passages: list[Passage]) -> list[Passage]:
    """One record per sentence of every passage, for the sentence indexes: its text in context, its passage's
    metadata, and an id `<passage id>~s<N>` that the answer path maps back to the passage."""
    return [
        replace(p, id=sentence_id(p.id, i), text=in_context(p, s), content_hash=content_hash(in_context(p, s)))
        for p in passages
        for i, s in enumerate(split_sentences(p.text))
    ]
