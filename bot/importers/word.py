"""A Word document (.docx) → blocks with python-docx. Heading and Title styles become headings, Word's numbered and
bulleted paragraphs become list items, a table row becomes one paragraph; the core properties fill the header."""

import datetime as dt
from pathlib import Path
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from bot.importers.common import BadImport, Block, Extracted, Metadata, heading, no_text
from bot.text import clean

# What word processors and libraries put in the author field when nobody filled it in.
PLACEHOLDER_AUTHORS = {"python-docx", "microsoft office user", "microsoft word", "administrator", "user", "author"}
BULLET_FORMATS = {"bullet", "none"}


def numbering_formats(document: Any) -> dict[tuple[str, str], str]:
    """Each (numbering id, level) → its number format ("decimal", "bullet", …), from the numbering part."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        return {}
    abstract: dict[str, dict[str, str]] = {}
    for definition in numbering.findall(qn("w:abstractNum")):
        levels = {}
        for level in definition.findall(qn("w:lvl")):
            fmt = level.find(qn("w:numFmt"))
            levels[level.get(qn("w:ilvl"))] = fmt.get(qn("w:val")) if fmt is not None else "decimal"
        abstract[definition.get(qn("w:abstractNumId"))] = levels
    formats: dict[tuple[str, str], str] = {}
    for num in numbering.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        for ilvl, fmt in abstract.get(ref.get(qn("w:val")) if ref is not None else "", {}).items():
            formats[(num.get(qn("w:numId")), ilvl)] = fmt
    return formats


def _num_pr(paragraph: Paragraph) -> Any:
    """The paragraph's numbering properties, its own or its style's."""
    own: Any = paragraph._p.pPr
    styled: Any = getattr(paragraph.style.element, "pPr", None) if paragraph.style else None
    for ppr in (own, styled):
        if ppr is not None and ppr.numPr is not None and ppr.numPr.numId is not None:
            return ppr.numPr
    return None


def list_kind(paragraph: Paragraph, formats: dict[tuple[str, str], str]) -> bool | None:
    """True for an item of a numbered list, False for a bulleted one, None for no list item."""
    style = (paragraph.style.name if paragraph.style else "") or ""
    num_pr = _num_pr(paragraph)
    if num_pr is not None and str(num_pr.numId.val) != "0":
        ilvl = str(num_pr.ilvl.val) if num_pr.ilvl is not None else "0"
        fmt = formats.get((str(num_pr.numId.val), ilvl))
        if fmt is not None:
            return fmt not in BULLET_FORMATS
        return not style.startswith("List Bullet")
    if style.startswith("List Number"):
        return True
    if style.startswith("List Bullet"):
        return False
    return None


def _all_bold(paragraph: Paragraph) -> bool:
    runs = [r for r in paragraph.runs if r.text.strip()]
    return bool(runs) and all(r.bold for r in runs)


def paragraph_block(paragraph: Paragraph, formats: dict[tuple[str, str], str], shift: int, deepest: int) -> Block:
    """One Word paragraph as a heading, list item or paragraph."""
    text = clean(paragraph.text)
    style = (paragraph.style.name if paragraph.style else "") or ""
    if style == "Title":
        return heading(text, 1)
    if style.startswith("Heading ") and style[8:].isdigit():
        return heading(text, int(style[8:]) + shift)
    ordered = list_kind(paragraph, formats)
    if ordered is not None:
        return Block(text, kind="item", ordered=ordered)
    if _all_bold(paragraph) and len(text) <= 120 and not text.endswith("."):
        return heading(text, deepest + 1)  # a heading typed in bold rather than styled
    return Block(text)


def table_blocks(table: Table) -> list[Block]:
    """Each row as one paragraph, its cells joined (a merged cell counted once)."""
    blocks = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = clean(cell.text)
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            blocks.append(Block(" | ".join(cells)))
    return blocks


def metadata_of(document: Any) -> Metadata:
    """Title, author (as publisher), creation date, language and an identifier that is a URL, from core properties."""
    props = document.core_properties
    author = clean(props.author or "")
    created = props.created
    identifier = clean(props.identifier or "")
    return Metadata(
        title=clean(props.title or "") or None,
        source=identifier if identifier.startswith(("http://", "https://")) else None,
        date=created.date() if isinstance(created, dt.datetime) else None,
        publisher=author if author and author.lower() not in PLACEHOLDER_AUTHORS else None,
        language=clean(props.language or "") or None,
    )


def read_word(path: Path) -> Extracted:
    """A .docx file's body as blocks, with its core properties."""
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise BadImport(f"{path}: not a readable Word document; open it in Word and save it again as .docx") from exc
    formats = numbering_formats(document)
    styles = [p.style.name or "" for p in document.paragraphs if p.style is not None]
    shift = 1 if "Title" in styles else 0
    levels = [int(s[8:]) + shift for s in styles if s.startswith("Heading ") and s[8:].isdigit()]
    deepest = max(levels, default=shift)
    blocks: list[Block] = []
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            blocks += table_blocks(part)
        elif clean(part.text):
            blocks.append(paragraph_block(part, formats, shift, deepest))
    if not blocks:
        raise no_text(path, "the document has no text")
    return Extracted(blocks, metadata_of(document))
