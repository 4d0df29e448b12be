"""Frozen records passed between the stages: Document, Passage, Hit, Citation, Answer."""

from dataclasses import dataclass, field
from typing import Any, Literal

AnswerKind = Literal["answer", "out_of_scope", "legal_advice", "invalid"]


@dataclass(frozen=True)
class Document:
    """One corpus document: its validated header and its blocks (paragraphs, list items) in order, each with the
    headings it sits under as context."""

    slug: str
    title: str
    source: str
    date: str
    publisher: str
    language: str
    paragraphs: tuple[str, ...]
    path: str
    subject: str | None = None
    contexts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    """One paragraph of one document, as stored in the index."""

    id: str
    document: str
    slug: str
    n: int
    text: str
    source: str
    date: str
    publisher: str
    language: str
    content_hash: str
    subject: str | None = None
    context: str = ""

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for the vector store (no None values)."""
        meta: dict[str, Any] = {
            "passage_id": self.id,
            "document": self.document,
            "slug": self.slug,
            "n": self.n,
            "source": self.source,
            "date": self.date,
            "publisher": self.publisher,
            "language": self.language,
            "content_hash": self.content_hash,
        }
        if self.subject:
            meta["subject"] = self.subject
        if self.context:
            meta["context"] = self.context
        return meta

    @classmethod
    def from_metadata(cls, text: str, meta: dict[str, Any]) -> "Passage":
        """Rebuild a passage from what the vector store returned."""
        return cls(
            id=str(meta["passage_id"]),
            document=str(meta["document"]),
            slug=str(meta["slug"]),
            n=int(meta["n"]),
            text=text,
            source=str(meta["source"]),
            date=str(meta["date"]),
            publisher=str(meta["publisher"]),
            language=str(meta["language"]),
            content_hash=str(meta["content_hash"]),
            subject=meta.get("subject") or None,
            context=str(meta.get("context") or ""),
        )


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and the signals behind it."""

    passage: Passage
    score: float
    dense_similarity: float
    lexical_score: float
    rank: int


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer, with the sentences of it that the answer used."""

    n: int
    passage: Passage
    score: float
    used: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The citation as the JSON answer object spells it."""
        p = self.passage
        return {
            "n": self.n,
            "passage_id": p.id,
            "document": p.document,
            "source": p.source,
            "date": p.date,
            "publisher": p.publisher,
            "paragraph": p.n,
            "text": p.text,
            "score": round(self.score, 4),
            "used": list(self.used),
        }


@dataclass(frozen=True)
class Answer:
    """What civicbot says to one question."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    language: str = "en"
    kind: AnswerKind = "answer"
    latency_ms: float = 0.0
    referral: str = ""
    signals: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer object of DESIGN.md (plus `kind` and `referral`)."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "language": self.language,
            "kind": self.kind,
            "referral": self.referral,
            "latency_ms": round(self.latency_ms, 2),
        }
