"""A plain-text file → blocks. Blank lines separate paragraphs; wrapped lines are joined; `#` lines, underlined
lines and short lines in capitals are headings; lines that start with a bullet or a number are list items. Text
with form feeds (pages, as PDF-to-text tools write them) loses its running headers, footers and page numbers."""

import re
from pathlib import Path

from bot.importers.common import BadImport, Block, Extracted, edge_noise, heading, join_lines, list_marker, no_text

ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
UNDERLINE = re.compile(r"^(=+|-+)\s*$")


def decode(path: Path, raw: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark), else Windows-1252, the usual other one."""
    encodings = ("utf-16",) if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadImport(f"{path}: not readable text (unknown encoding); save it as UTF-8 text and add it again")


def without_page_noise(text: str) -> list[str]:
    """The text's lines, less running headers, footers and page numbers when it is split into pages."""
    pages = [page.split("\n") for page in text.split("\f")]
    if len(pages) < 2:
        return pages[0]
    # Edges are counted in lines with text, so blank lines at a page's top do not hide its header.
    texts = [[line for line in page if line.strip()] for page in pages]
    noise = edge_noise(texts)
    kept: list[str] = []
    for page, drop in zip(pages, noise, strict=True):
        n = -1
        for line in page:
            n += bool(line.strip())
            if not (line.strip() and n in drop):
                kept.append(line)
        kept.append("")
    return kept


def _is_caps_heading(lines: list[str]) -> bool:
    text = lines[0].strip()
    return len(lines) == 1 and len(text) <= 80 and text.isupper() and any(c.isalpha() for c in text)


def paragraph_blocks(lines: list[str]) -> list[Block]:
    """One blank-line-separated stretch of lines as blocks."""
    if len(lines) == 2 and UNDERLINE.match(lines[1].strip()):
        return [heading(lines[0], 1 if lines[1].strip()[0] == "=" else 2)]
    if _is_caps_heading(lines):
        return [heading(lines[0].strip(), 2)]
    blocks: list[Block] = []
    current: list[str] = []
    item: tuple[str, bool] | None = None

    def flush() -> None:
        if current:
            text = join_lines(current)
            blocks.append(Block(text, kind="item", ordered=item[1]) if item else Block(text))
            current.clear()

    for line in lines:
        atx = ATX.match(line.strip())
        marker = list_marker(line)
        if atx:
            flush()
            item = None
            blocks.append(heading(atx.group(2), len(atx.group(1))))
        elif marker:
            flush()
            item = marker
            current.append(marker[0])
        else:
            current.append(line)
    flush()
    return blocks


def read_plain(path: Path, raw: bytes) -> Extracted:
    """A text file's paragraphs, headings and list items as blocks (a text file has no metadata)."""
    lines = without_page_noise(decode(path, raw).replace("\r\n", "\n").replace("\r", "\n"))
    blocks: list[Block] = []
    stretch: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            stretch.append(line.rstrip())
        elif stretch:
            blocks += paragraph_blocks(stretch)
            stretch = []
    if not blocks:
        raise no_text(path, "the file is empty")
    return Extracted(blocks)
