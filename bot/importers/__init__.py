"""Turn PDFs, saved web pages, Word documents and text files into corpus documents (`<corpus>/<slug>.md`: YAML front
matter, then Markdown). Each file is checked before it is read (size, what its content really is), read by the
importer for its format, given a header from its own metadata and the options, validated as a corpus document, and
only then written, through a temporary file in the corpus folder, so a failure leaves nothing half-written."""

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.corpus import LANGUAGES, parse_document, slug_for
from bot.errors import CorpusError
from bot.importers.common import BadImport, Extracted, Metadata, body_text, first_heading, no_text, to_markdown
from bot.language import detect_language
from bot.records import Document

__all__ = ["BadImport", "Imported", "Options", "SUPPORTED", "convert", "plan", "write"]

SUPPORTED = {".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx", ".txt": "text"}
KIND_NAMES = {
    "pdf": "a PDF",
    "html": "a web page (HTML)",
    "docx": "a Word document (.docx)",
    "text": "plain text",
    "xlsx": "an Excel workbook",
    "pptx": "a PowerPoint presentation",
    "zip": "a ZIP archive",
    "ole": "an old Office file (.doc, .xls)",
    "image": "an image",
    "binary": "binary data",
}
EXTENSION = {"pdf": ".pdf", "html": ".html", "docx": ".docx", "text": ".txt"}
HEAD_BYTES = 64 * 1024
HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body|article|main|title|meta|div|p)[\s>/]", re.IGNORECASE)
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")
FIELDS = ("title", "source", "date", "publisher", "language")


# The command line gives the same header fields a file may carry; each one given wins over the file's.
Options = Metadata


@dataclass(frozen=True)
class Imported:
    """A file converted into a corpus document, validated, not yet written."""

    path: Path
    slug: str
    markdown: str
    document: Document


# -- what a file really is ----------------------------------------------------------------------------------------


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is: pdf, zip, ole, image, binary, html or text ('' when empty)."""
    if not head.strip():
        return ""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    return "html" if HTML_TAG.search(head) else "text"


def file_kind(path: Path) -> str:
    """What a file's content is, looking inside a ZIP for the parts an Office file has."""
    with path.open("rb") as fh:
        kind = sniff(fh.read(HEAD_BYTES))
    if kind != "zip":
        return kind
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return "binary"
    for part, office in (("word/document.xml", "docx"), ("xl/workbook.xml", "xlsx"), ("ppt/presentation.xml", "pptx")):
        if part in names:
            return office
    return "zip"


def check_file(path: Path, max_mb: float) -> str:
    """The importer a file needs; refuses it (before reading it) when it is too large or is not what its name says."""
    expected = SUPPORTED.get(path.suffix.lower())
    if expected is None:
        raise BadImport(f"{path}: not a supported kind of file ({', '.join(sorted(SUPPORTED))})")
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise BadImport(
                f"{path}: {size / 1024 / 1024:.1f} MB is over the import limit of {max_mb:g} MB; split the file, or "
                "raise CIVICBOT_MAX_IMPORT_MB"
            )
        actual = file_kind(path)
    except OSError as exc:
        raise BadImport(f"{path}: cannot be read ({exc.strerror})") from exc
    if not actual:
        raise no_text(path, "the file is empty")
    if actual != expected:
        fix = (
            f"rename it to {path.stem}{EXTENSION[actual]}"
            if actual in EXTENSION
            else "save it again as PDF, HTML, DOCX or text"
        )
        raise BadImport(f"{path}: the name says {KIND_NAMES[expected]} but the content is {KIND_NAMES[actual]}; {fix}")
    return expected


def extract(path: Path, kind: str) -> Extracted:
    """Read a checked file with the importer for its kind (each library is loaded only when needed)."""
    if kind == "pdf":
        from bot.importers.pdf import read_pdf

        return read_pdf(path)
    if kind == "docx":
        from bot.importers.word import read_word

        return read_word(path)
    if kind == "html":
        from bot.importers.web import read_web

        return read_web(path, path.read_bytes())
    from bot.importers.plain import read_plain

    return read_plain(path, path.read_bytes())


# -- the header ---------------------------------------------------------------------------------------------------


def language_of(path: Path, extracted: Extracted, option: str | None) -> str:
    """The option, else the language the file declares, else the one its text is written in."""
    if option:
        return option
    declared = (extracted.meta.language or "").lower().replace("_", "-").split("-")[0]
    if declared in LANGUAGES:
        return declared
    if declared and len(declared) in (2, 3):
        raise BadImport(
            f"{path}: the file says its language is '{extracted.meta.language}', and civicbot reads "
            f"{' and '.join(sorted(LANGUAGES))}; pass --language to import it anyway"
        )
    return detect_language(body_text(extracted.blocks)[:5000])


def header_for(path: Path, extracted: Extracted, options: Options) -> dict[str, object]:
    """The front matter: each option, else the file's metadata (a title may also come from the first heading)."""
    meta: Metadata = extracted.meta
    header: dict[str, object | None] = {
        "title": options.title or meta.title or first_heading(extracted.blocks),
        "source": options.source or meta.source,
        "date": options.date or meta.date,
        "publisher": options.publisher or meta.publisher,
    }
    missing = [name for name, value in header.items() if not value]
    if missing:
        fields = _listed(missing, "or")
        options_needed = _listed([f"--{name}" for name in missing], "and")
        raise BadImport(f"{path}: no {fields} in the file's metadata; pass {options_needed}")
    header["language"] = language_of(path, extracted, options.language)
    return {name: header[name] for name in FIELDS}


def _listed(names: list[str], last: str) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def render(header: dict[str, object], extracted: Extracted) -> str:
    """The corpus document's text: YAML front matter, a blank line, the Markdown body."""
    front = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n\n{to_markdown(extracted.blocks)}"


def convert(path: Path, options: Options, corpus_dir: Path, max_mb: float) -> Imported:
    """One file as a validated corpus document (not written); BadImport or CorpusError says why not."""
    kind = check_file(path, max_mb)
    extracted = extract(path, kind)
    markdown = render(header_for(path, extracted, options), extracted)
    slug = slug_for(path)
    document = parse_document(corpus_dir / f"{slug}.md", markdown)
    return Imported(path, slug, markdown, document)


# -- a batch ------------------------------------------------------------------------------------------------------


def expand(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to import: each file named, and every supported file in each folder named (not its subfolders)."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED and not p.name.startswith("."))
            if not found:
                problems.append(f"{path}: no files to import in this folder ({', '.join(sorted(SUPPORTED))})")
            files += [p for p in found if p.is_file()]
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


def existing_slugs(corpus_dir: Path) -> dict[str, Path]:
    """The slugs the corpus folder's documents already use."""
    slugs: dict[str, Path] = {}
    for path in sorted(corpus_dir.glob("*.md")) if corpus_dir.is_dir() else []:
        try:
            slugs[slug_for(path)] = path
        except CorpusError:
            continue
    return slugs


def plan(
    paths: list[Path], options: Options, corpus_dir: Path, max_mb: float, force: bool
) -> tuple[list[Imported], list[str]]:
    """Convert every file, and say (one line each) why any cannot be imported: unreadable, a slug already taken."""
    files, problems = expand(paths)
    if options.title and len(files) > 1:  # one title on several documents is a slip, not a wish
        problems.append(f"--title names one document, and {len(files)} files were given; add them one at a time")
        return [], problems
    done: list[Imported] = []
    for path in files:
        try:
            done.append(convert(path, options, corpus_dir, max_mb))
        except CorpusError as exc:
            problems.append(str(exc))
    taken = existing_slugs(corpus_dir)
    batch: dict[str, Path] = {}
    for imp in done:
        target = corpus_dir / f"{imp.slug}.md"
        if imp.slug in batch:
            problems.append(f"{imp.path}: gives the same document name '{imp.slug}' as {batch[imp.slug]}; rename one")
        elif imp.slug in taken and (taken[imp.slug] != target or not force):
            problems.append(
                f"{imp.path}: the corpus already has a document '{imp.slug}' ({taken[imp.slug]}); pass --force to "
                "replace it, or rename the file"
                if taken[imp.slug] == target
                else f"{imp.path}: the document name '{imp.slug}' is taken by {taken[imp.slug]}; rename the file"
            )
        batch[imp.slug] = imp.path
    return done, problems


def _umask() -> int:
    current = os.umask(0)  # the only way to read it is to set it
    os.umask(current)
    return current


def write(imports: list[Imported], corpus_dir: Path) -> list[Path]:
    """Write each document: to a temporary file beside it, then renamed over its name, so none is ever partial."""
    try:
        corpus_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CorpusError(f"{corpus_dir}: the corpus folder cannot be created ({exc.strerror})") from exc
    mode = 0o666 & ~_umask()
    written: list[Path] = []
    for imp in imports:
        target = corpus_dir / f"{imp.slug}.md"
        fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=f".{imp.slug}.", suffix=".tmp")
        try:
            os.chmod(tmp, mode)  # mkstemp makes it private; a corpus document is as readable as any file made here
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(imp.markdown)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            before = f"written before it: {', '.join(p.name for p in written)}" if written else "nothing was written"
            raise CorpusError(f"{target}: cannot be written ({exc.strerror}); {before}") from exc
        written.append(target)
    return written
