"""Split Documents into paragraph Passages with stable ids and content hashes."""

import datetime as dt
import hashlib
import re

from bot.records import Document, Passage


def content_hash(text: str) -> str:
    """A short, stable fingerprint of a passage's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def publication_text(doc: Document) -> str:
    """The document's header as one citable sentence: who published it, under what title, and when."""
    date = dt.date.fromisoformat(doc.date)
    return f"{doc.publisher} published this article, “{doc.title}”, on {date:%B} {date.day}, {date.year}."


def without_headline(text: str) -> str:
    """Passage 0 minus the quoted title: what it says about the publication, not what the headline is about."""
    return re.sub(r"“[^”]*”", " ", text)


def split_document(doc: Document) -> list[Passage]:
    """Passage 0 holds the publication details (so "who reported this, and when?" has a citable answer); then one
    passage per paragraph, numbered from 1: `<slug>#p<N>`."""
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
            content_hash=content_hash(text),
            subject=doc.subject,
        )
        for n, text in enumerate((publication_text(doc), *doc.paragraphs))
    ]


def split_corpus(docs: list[Document]) -> list[Passage]:
    """All passages of all documents, in corpus order."""
    return [p for doc in docs for p in split_document(doc)]
