"""Split Documents into paragraph Passages with stable ids and content hashes."""

import hashlib

from bot.records import Document, Passage


def content_hash(text: str) -> str:
    """A short, stable fingerprint of a passage's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def split_document(doc: Document) -> list[Passage]:
    """One passage per paragraph, numbered from 1: `<slug>#p<N>`."""
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
        for n, text in enumerate(doc.paragraphs, start=1)
    ]


def split_corpus(docs: list[Document]) -> list[Passage]:
    """All passages of all documents, in corpus order."""
    return [p for doc in docs for p in split_document(doc)]
