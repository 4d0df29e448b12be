"""Read corpus/*.md into validated Documents (YAML front matter, then a Markdown body parsed into blocks)."""

import datetime as dt
import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.errors import CorpusError
from bot.records import Document
from bot.structure import parse_blocks

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGES = {"en", "es"}


class FrontMatter(BaseModel):
    """The header every corpus document must carry."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    title: str
    source: str
    date: dt.date
    publisher: str
    language: str
    subject: str | None = None

    @field_validator("title", "source", "publisher")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {sorted(LANGUAGES)}")
        return value


def field_error(path: Path, what: str, exc: ValidationError) -> CorpusError:
    """One line naming the file, the first invalid field and what is wrong with it."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "file"
    return CorpusError(f"{path}: {what} field '{field}': {first['msg']}")


def slug_for(path: Path) -> str:
    """The document slug: its file name without extension, lower-cased and hyphenated."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    if not SLUG.match(slug):
        raise CorpusError(f"{path}: file name gives no usable slug")
    return slug


def parse_document(path: Path, raw: str) -> Document:
    """Parse one document's text; errors name the file and the field."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n(.*)$", raw, flags=re.DOTALL)
    if not match:
        raise CorpusError(f"{path}: no YAML front matter (the file must start with a '---' header block)")
    try:
        header = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: front matter is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(header, dict):
        raise CorpusError(f"{path}: front matter must be a mapping of fields")
    try:
        meta = FrontMatter.model_validate(header)
    except ValidationError as exc:
        raise field_error(path, "front matter", exc) from exc
    blocks = tuple(parse_blocks(match.group(2)))
    if not blocks:
        raise CorpusError(f"{path}: the document has no text after its front matter")
    return Document(
        slug=slug_for(path),
        title=meta.title,
        source=meta.source,
        date=meta.date.isoformat(),
        publisher=meta.publisher,
        language=meta.language,
        paragraphs=tuple(b.text for b in blocks),
        contexts=tuple(b.context for b in blocks),
        path=str(path),
        subject=meta.subject,
    )


def load_document(path: Path) -> Document:
    """Read and parse one corpus file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise CorpusError(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_document(path, raw)


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Every document under corpus_dir, sorted by file name; slugs must be unique."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"{corpus_dir}: corpus folder not found")
    docs = [load_document(p) for p in sorted(corpus_dir.glob("*.md"))]
    seen: dict[str, str] = {}
    for doc in docs:
        if doc.slug in seen:
            raise CorpusError(f"{doc.path}: slug '{doc.slug}' is also used by {seen[doc.slug]}")
        seen[doc.slug] = doc.path
    if not docs:
        raise CorpusError(f"{corpus_dir}: no .md documents in the corpus folder")
    return docs
