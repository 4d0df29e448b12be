"""Review a corpus before it goes live: check every file in the corpus folder (reporting all invalid ones, not only
the first), and say what the next ingest would change — per document, the passages added, changed and removed —
by comparing the passages the corpus produces with those in the live index."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.corpus import load_document, slug_for
from bot.embeddings import model_id
from bot.errors import CorpusError, IndexUnavailable
from bot.index import PassageIndex, open_client
from bot.passages import split_corpus
from bot.profile import load_profile
from bot.records import Document, Passage
from bot.referrals import load_referrals

SHOWN_CHARS = 100


@dataclass(frozen=True)
class DocumentChanges:
    """What the next ingest does to one document's passages."""

    slug: str
    title: str
    added: tuple[Passage, ...] = ()
    changed: tuple[tuple[Passage, Passage], ...] = ()  # (live, planned)
    removed: tuple[Passage, ...] = ()
    unchanged: int = 0

    @property
    def touched(self) -> bool:
        """Whether the ingest changes anything of this document."""
        return bool(self.added or self.changed or self.removed)

    def counts(self) -> str:
        """'3 added, 1 changed' (the kinds that occur), or 'unchanged'."""
        parts = [
            f"{n} {what}"
            for n, what in ((len(self.added), "added"), (len(self.changed), "changed"), (len(self.removed), "removed"))
            if n
        ]
        if parts and self.unchanged:
            parts.append(f"{self.unchanged} unchanged")
        return ", ".join(parts) or "unchanged"


def diff_passages(live: Sequence[Passage], planned: Sequence[Passage]) -> list[DocumentChanges]:
    """Per document, in corpus order (documents only in the live index last): the planned passages whose id the
    live index lacks (added), holds with another content hash (changed), and live passages no longer planned."""
    old = {p.id: p for p in live}
    new_ids = {p.id for p in planned}
    slugs = list(dict.fromkeys([p.slug for p in planned] + [p.slug for p in live]))
    titles = {p.slug: p.document for p in [*live, *planned]}
    out = []
    for slug in slugs:
        mine = [p for p in planned if p.slug == slug]
        out.append(
            DocumentChanges(
                slug=slug,
                title=titles[slug],
                added=tuple(p for p in mine if p.id not in old),
                changed=tuple((old[p.id], p) for p in mine if p.id in old and old[p.id].content_hash != p.content_hash),
                removed=tuple(p for p in live if p.slug == slug and p.id not in new_ids),
                unchanged=sum(1 for p in mine if p.id in old and old[p.id].content_hash == p.content_hash),
            )
        )
    return out


def shorten(text: str, width: int = SHOWN_CHARS) -> str:
    """A passage's text on one line, cut at a word with an ellipsis when it is longer than width."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return text[: width - 1].rsplit(" ", 1)[0] + "…"


def totals(changes: Sequence[DocumentChanges]) -> str:
    """The whole ingest in one line."""
    added = sum(len(c.added) for c in changes)
    changed = sum(len(c.changed) for c in changes)
    removed = sum(len(c.removed) for c in changes)
    unchanged = sum(c.unchanged for c in changes)
    if not (added or changed or removed):
        return f"next ingest: nothing to change ({unchanged} passages unchanged)"
    return f"next ingest: {added} added, {changed} changed, {removed} removed, {unchanged} unchanged passages"


def summary(changes: Sequence[DocumentChanges]) -> list[str]:
    """One line of counts per document the ingest changes."""
    return [f"{c.slug}: {c.counts()}" for c in changes if c.touched]


def describe(changes: Sequence[DocumentChanges], limit: int = 10) -> list[str]:
    """Per changed document its counts, then its passages (+ added, ~ changed, - removed) with their text cut
    short; at most `limit` passages a document (0: all)."""
    lines = [totals(changes)]
    for c in changes:
        if not c.touched:
            continue
        lines.append(f"{c.slug} ({shorten(c.title, 60)}): {c.counts()}")
        shown = [
            *(f"  + #p{p.n} {shorten(p.text)}" for p in c.added),
            *(f"  ~ #p{new.n} {shorten(new.text)}\n      was: {shorten(old.text)}" for old, new in c.changed),
            *(f"  - #p{p.n} {shorten(p.text)}" for p in c.removed),
        ]
        cut = shown[:limit] if limit else shown
        lines += cut
        if len(shown) > len(cut):
            lines.append(f"  … and {len(shown) - len(cut)} more (--limit 0 shows all)")
    same = sum(1 for c in changes if not c.touched)
    if same:
        lines.append(f"unchanged: {same} document{'s' if same != 1 else ''}")
    return lines


# -- the corpus folder --------------------------------------------------------------------------------------------


@dataclass
class CorpusCheck:
    """The valid documents of a corpus folder, and one line for each file that is not valid."""

    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    invalid_slugs: set[str] = field(default_factory=set)


def check_corpus(corpus_dir: Path) -> CorpusCheck:
    """Validate every document, the profile and the referral file; collect every problem rather than stop at one."""
    check = CorpusCheck()
    if not corpus_dir.is_dir():
        check.problems.append(f"{corpus_dir}: corpus folder not found")
        return check
    seen: dict[str, str] = {}
    for path in sorted(corpus_dir.glob("*.md")):
        try:
            doc = load_document(path)
        except CorpusError as exc:
            check.problems.append(str(exc))
            check.invalid_slugs.add(_slug_or_name(path))
            continue
        if doc.slug in seen:
            check.problems.append(f"{doc.path}: slug '{doc.slug}' is also used by {seen[doc.slug]}")
            continue
        seen[doc.slug] = doc.path
        check.documents.append(doc)
    if not check.documents and not check.problems:
        check.problems.append(f"{corpus_dir}: no .md documents in the corpus folder")
    try:
        load_profile(corpus_dir / "profile.yaml", check.documents)  # a missing profile is valid: one is derived
    except CorpusError as exc:
        check.problems.append(str(exc))
    if (corpus_dir / "referrals.yaml").is_file():
        try:
            load_referrals(corpus_dir / "referrals.yaml")
        except CorpusError as exc:
            check.problems.append(str(exc))
    return check


def _slug_or_name(path: Path) -> str:
    try:
        return slug_for(path)
    except CorpusError:
        return path.stem


def planned_passages(check: CorpusCheck) -> list[Passage]:
    """The passages the next ingest would store, from the valid documents."""
    return split_corpus(check.documents)


# -- the live index, read only ------------------------------------------------------------------------------------


class _NoEmbeddings(Embeddings):
    """Reading stored passages needs no model; this stands in so none is loaded."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise IndexUnavailable("the review opens the index read-only")

    def embed_query(self, text: str) -> list[float]:
        raise IndexUnavailable("the review opens the index read-only")


@dataclass(frozen=True)
class LiveIndex:
    """The live index's passages, and whether it was built with the model the next ingest uses."""

    passages: list[Passage]
    same_model: bool = True


def live_index(settings: Settings) -> LiveIndex:
    """The passages the live English index holds (none when there is no index yet); loads no model and creates no
    store where there is none."""
    if not settings.chroma_host and not settings.chroma_path.exists():
        return LiveIndex([])
    index = PassageIndex(open_client(settings), _NoEmbeddings(), model_id(), settings.collection)
    built = index.built_with()
    return LiveIndex(index.all_passages(), same_model=built is None or built == index.model_id)


def review(settings: Settings, check: CorpusCheck) -> tuple[list[DocumentChanges], bool]:
    """What the next ingest changes in the index, per document, and whether it re-embeds everything (the index was
    built with another model). Invalid documents are left out of the comparison."""
    live = live_index(settings)
    kept = [p for p in live.passages if p.slug not in check.invalid_slugs]
    return diff_passages(kept, planned_passages(check)), not live.same_model
