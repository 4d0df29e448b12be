"""What every importer shares: the blocks a file is read into, the Markdown they are written as, and the text
repairs a printed page needs (wrapped lines joined, hyphenation undone, running headers and page numbers dropped)."""

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import CorpusError
from bot.text import clean


class BadImport(CorpusError):
    """A file that cannot be imported into the corpus; the message names the file and what to do."""


@dataclass(frozen=True)
class Block:
    """One unit of a document's structure: a heading (level 1-6), a list item, or a paragraph."""

    text: str
    kind: str = "paragraph"  # "heading" | "item" | "paragraph"
    level: int = 0  # a heading's level
    ordered: bool = False  # an item of a numbered list


@dataclass
class Metadata:
    """What a file says about itself; any field may be missing."""

    title: str | None = None
    source: str | None = None
    date: dt.date | None = None
    publisher: str | None = None
    language: str | None = None


@dataclass
class Extracted:
    """A file read into blocks, with its own metadata."""

    blocks: list[Block]
    meta: Metadata = field(default_factory=Metadata)


def heading(text: str, level: int) -> Block:
    """A heading block, its level kept within Markdown's six."""
    return Block(text=text, kind="heading", level=max(1, min(level, 6)))


# -- list markers -------------------------------------------------------------------------------------------------

BULLET = re.compile(r"^\s*[•◦▪‣○●■□\-*+]\s+")
NUMBERED = re.compile(r"^\s*(?:\(?\d{1,3}[.)]|\(?[a-z][.)]|\([ivx]{1,4}\))\s+")


def list_marker(line: str) -> tuple[str, bool] | None:
    """The line without its list marker and whether the list is numbered, or None when it starts no list item."""
    for pattern, ordered in ((BULLET, False), (NUMBERED, True)):
        match = pattern.match(line)
        if match and line[match.end() :].strip():
            return line[match.end() :], ordered
    return None


# -- joining printed lines ----------------------------------------------------------------------------------------

LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
SOFT_HYPHEN = "\u00ad"


def join_lines(lines: Sequence[str]) -> str:
    """The lines of one wrapped paragraph as one line; a word split at a line end ("enforce-" / "ment") is
    rejoined, while a hyphen before a capital ("Spanish-" / "English") is a compound's and stays."""
    out = ""
    for raw in lines:
        line = clean(raw.translate(LIGATURES).replace(SOFT_HYPHEN, ""))
        if not line:
            continue
        if re.search(r"[^\W\d_]-$", out):
            out = out[:-1] + line if line[0].islower() else out + line
        else:
            out = f"{out} {line}" if out else line
    return out


# -- running headers, footers and page numbers --------------------------------------------------------------------

ROMAN = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
PAGE_NUMBER = re.compile(
    rf"^(?:(?:page|p\.|página|pág\.)\s*)?(?:\d{{1,3}}|{ROMAN})(?:\s*(?:of|/|de)\s*\d{{1,4}})?$|^[-–—]\s*\d{{1,3}}\s*[-–—]$",
    re.IGNORECASE,
)
EDGE = 3  # how many lines at the top and bottom of a page can be a running header or footer
MOST = 0.5  # a line at the edge of at least this share of pages (and of two or more) is running text


def page_key(line: str) -> str:
    """A line as compared across pages: page numbers and case do not count."""
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def is_page_number(line: str) -> bool:
    """'12', 'Page 3 of 10', '- 4 -', 'iv': a line that only numbers its page."""
    return bool(PAGE_NUMBER.match(line.strip()))


def running_lines(pages: Sequence[Sequence[str]]) -> set[str]:
    """The page keys of lines repeated at the top or bottom edge of most pages: running headers and footers."""
    seen: Counter[str] = Counter()
    for lines in pages:
        edges = {page_key(t) for t in [*lines[:EDGE], *lines[-EDGE:]] if t.strip()}
        seen.update(edges)
    needed = max(2, MOST * len(pages))
    return {key for key, count in seen.items() if count >= needed}


def edge_noise(pages: Sequence[Sequence[str]]) -> list[set[int]]:
    """For each page, the positions of its lines to drop: running headers and footers, and page numbers."""
    running = running_lines(pages)
    drop: list[set[int]] = []
    for lines in pages:
        n = len(lines)
        edge = [i for i in range(n) if i < EDGE or i >= n - EDGE]
        drop.append({i for i in edge if page_key(lines[i]) in running or is_page_number(lines[i])})
    return drop


# -- Markdown -----------------------------------------------------------------------------------------------------

# Characters that would turn text into Markdown marks (emphasis, code, links, HTML) and line starts that would open
# a heading, quote, list or thematic break; escaped so the text reads back exactly as written.
INLINE_MARKS = re.compile(r"([\\`*_\[\]])|<(?=[A-Za-z/!?])|&(?=#?\w+;)")
BLOCK_START = re.compile(r"^(?:(#{1,6}|>|[-+*]|=+|-{3,}|_{3,})(\s|$)|(\d{1,9})([.)])(\s|$))")


def escape_inline(text: str) -> str:
    """Text with its Markdown marks escaped, for inside a heading or a paragraph."""
    return INLINE_MARKS.sub(lambda m: "\\" + m.group(0), text)


def escape(text: str) -> str:
    """Text as a Markdown block (paragraph or list item content) that parses back to the same text."""
    text = escape_inline(text)
    match = BLOCK_START.match(text)
    if match is None:
        return text
    if match.group(3):  # "2026. The year…" is a sentence, not item 2026 of a list
        return f"{match.group(3)}\\{text[len(match.group(3)) :]}"
    return "\\" + text


def to_markdown(blocks: Sequence[Block]) -> str:
    """The blocks as a Markdown body: headings with #, list items with - or 1., blank lines between blocks."""
    out: list[str] = []
    number = 0
    previous: Block | None = None
    for block in blocks:
        text = clean(block.text)
        if not text:
            continue
        # A heading's trailing # would be read as the closing of "## Heading ##" and dropped.
        text = re.sub(r"#$", r"\\#", escape_inline(text)) if block.kind == "heading" else escape(text)
        same_list = previous is not None and previous.kind == "item" and previous.ordered == block.ordered
        if block.kind == "heading":
            line = f"{'#' * block.level} {text}"
        elif block.kind == "item":
            number = number + 1 if same_list else 1
            line = f"{number}. {text}" if block.ordered else f"- {text}"
        else:
            line = text
        # Items of one list are written tight (one per line); every other block is set off by a blank line.
        out.append(("\n" if block.kind == "item" and same_list else "\n\n") + line)
        previous = block
    return "".join(out).lstrip("\n") + "\n"


def body_text(blocks: Sequence[Block]) -> str:
    """The blocks' text, for detecting the language."""
    return "\n".join(b.text for b in blocks)


def first_heading(blocks: Sequence[Block]) -> str | None:
    """The text of the highest-level heading that comes first: a title for a file whose metadata has none."""
    headings = [b for b in blocks if b.kind == "heading"]
    if not headings:
        return None
    top = min(b.level for b in headings)
    return next(clean(b.text) for b in headings if b.level == top)


def no_text(path: Path, what: str) -> BadImport:
    """The error for a file that holds no text to import."""
    return BadImport(f"{path}: {what}; nothing to import (check that it is the right file)")
