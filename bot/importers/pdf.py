"""A PDF's text layer → blocks. pdfplumber gives every word with its position, size and font; from those the page
is read in order (two-column stretches column by column), running headers, footers and page numbers are dropped,
wrapped lines are joined into paragraphs, and larger or bold lines become headings. pypdf reads the metadata
(info dictionary and XMP) and tells an encrypted file from a readable one."""

import datetime as dt
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from bot.importers.common import (
    BadImport,
    Block,
    Extracted,
    Metadata,
    edge_noise,
    heading,
    join_lines,
    list_marker,
    no_text,
)

BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
ENDS_SENTENCE = re.compile(r"[.!?:;][\"'”’)]?$")
# What PDF makers put in the title field when nobody filled it in: "Microsoft Word - report.docx", "Untitled".
PLACEHOLDER_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint) - .*|untitled.*|.*\.(?:docx?|pdf|indd|pptx?))$", re.IGNORECASE
)


@dataclass(frozen=True)
class Line:
    """One printed line of one column, with what the paragraph and heading rules need to know about it."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    column: tuple[int, int, int]  # (page, region, side): lines of one column of one page share it


Word = dict[str, Any]


# -- metadata -----------------------------------------------------------------------------------------------------


def read_metadata(path: Path) -> Metadata:
    """Title, publisher, date and language from the info dictionary and XMP; refuses an encrypted file."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadImport(
                f"{path}: the PDF is encrypted (it needs a password to open); save a copy without the password and add "
                "that"
            )
        info: Any = reader.metadata or {}
        xmp = _xmp(reader)
        lang = reader.root_object.get("/Lang")
    except BadImport:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        raise unreadable(path, exc) from exc
    title = _text(info.get("/Title")) or _first(getattr(xmp, "dc_title", None))
    return Metadata(
        title=None if title and PLACEHOLDER_TITLE.match(title) else title,
        publisher=_first(getattr(xmp, "dc_publisher", None))
        or _text(info.get("/Publisher"))
        or _text(info.get("/Author"))
        or _first(getattr(xmp, "dc_creator", None)),
        date=_date(info, xmp),
        language=_text(lang) or _first(getattr(xmp, "dc_language", None)),
    )


def unreadable(path: Path, exc: Exception) -> BadImport:
    """The error for a PDF that its libraries cannot parse."""
    return BadImport(f"{path}: not a readable PDF ({exc.__class__.__name__}); export it again from the original")


def _xmp(reader: PdfReader) -> Any:
    try:
        return reader.xmp_metadata
    except Exception:  # XMP is optional and often malformed; the info dictionary still counts
        return None


def _text(value: object) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _first(value: object) -> str | None:
    """The first entry of an XMP list, or the default entry of an XMP language alternative."""
    if isinstance(value, dict):
        value = value.get("x-default") or next(iter(value.values()), None)
    elif isinstance(value, list | tuple):
        value = value[0] if value else None
    return _text(value)


def _date(info: Any, xmp: Any) -> dt.date | None:
    for get in (
        lambda: info.creation_date,
        lambda: xmp.xmp_create_date,
        lambda: xmp.dc_date[0],
    ):
        try:
            value = get()
        except Exception:  # a malformed date in one place must not hide a good one in another
            continue
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
    return None


# -- words → rows → lines in reading order ------------------------------------------------------------------------


def rows_of(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped into printed rows (tops within half a character of each other), each sorted left to right."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if rows and abs(word["top"] - rows[-1][0]["top"]) <= 0.5 * word["size"]:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [sorted(row, key=lambda w: w["x0"]) for row in rows]


def row_text(row: Sequence[Word]) -> str:
    """A row's words as one string."""
    return " ".join(w["text"] for w in row)


def segments(row: Sequence[Word]) -> list[tuple[float, float]]:
    """The stretches of a row that are not broken by a gap wider than a word space can be."""
    out: list[tuple[float, float]] = []
    for w in row:
        if out and w["x0"] - out[-1][1] <= 1.5 * w["size"]:
            out[-1] = (out[-1][0], w["x1"])
        else:
            out.append((w["x0"], w["x1"]))
    return out


def gutter(rows: Sequence[Sequence[Word]], width: float) -> float | None:
    """The x of the widest vertical strip in the middle of the page that the fewest rows' text crosses."""
    lo, hi = int(width * 0.3), int(width * 0.7)
    if not rows or hi <= lo:
        return None
    crossing = [0] * (hi - lo)
    for row in rows:
        for x0, x1 in segments(row):
            for x in range(max(lo, int(x0)), min(hi, int(x1) + 1)):
                crossing[x - lo] += 1
    least = min(crossing)
    best: tuple[int, int] = (0, -1)  # (start, end) of the widest run of least-crossed positions
    start = None
    for i, n in enumerate([*crossing, least + 1]):
        if n == least and start is None:
            start = i
        elif n != least and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return lo + (best[0] + best[1]) / 2


def _columns_pass(left: Sequence[Sequence[Word]], right: Sequence[Sequence[Word]], x: float) -> bool:
    """Whether text on both sides of x reads as two columns of prose (full lines), not a table or a form."""
    if len(left) < 2 or len(right) < 2:
        return False
    left_edge = min(w["x0"] for row in left for w in row)
    right_edge = max(w["x1"] for row in right for w in row)
    left_width = statistics.median(row[-1]["x1"] - row[0]["x0"] for row in left)
    right_width = statistics.median(row[-1]["x1"] - row[0]["x0"] for row in right)
    return left_width >= 0.6 * (x - left_edge) and right_width >= 0.6 * (right_edge - x)


def reading_order(rows: Sequence[Sequence[Word]], width: float, page: int) -> Iterator[Line]:
    """A page's lines in reading order: a stretch of rows that no text crosses at the gutter is read as two
    columns, left then right; every other row is one line."""
    x = gutter(rows, width)
    region = 0
    run: list[Sequence[Word]] = []

    def flush() -> Iterator[Line]:
        nonlocal region
        left = [kept for r in run if (kept := [w for w in r if x is not None and w["x1"] <= x])]
        right = [kept for r in run if (kept := [w for w in r if x is not None and w["x0"] >= x])]
        if x is not None and _columns_pass(left, right, x):
            region += 1
            yield from (make_line(r, (page, region, 1)) for r in left)
            yield from (make_line(r, (page, region, 2)) for r in right)
            region += 1
        else:
            yield from (make_line(r, (page, region, 0)) for r in run)
        run.clear()

    for row in rows:
        if x is not None and not any(x0 < x < x1 for x0, x1 in segments(row)):
            run.append(row)
            continue
        yield from flush()
        yield make_line(row, (page, region, 0))
    yield from flush()


def make_line(row: Sequence[Word], column: tuple[int, int, int]) -> Line:
    """A row's words as a Line: its text, box, main font size and whether it is bold throughout."""
    sizes: Counter[float] = Counter()
    bold = 0
    for w in row:
        sizes[round(float(w["size"]) * 2) / 2] += len(w["text"])
        bold += len(w["text"]) if BOLD.search(str(w.get("fontname", "")).split("+")[-1]) else 0
    chars = sum(len(w["text"]) for w in row)
    return Line(
        text=row_text(row),
        x0=min(w["x0"] for w in row),
        x1=max(w["x1"] for w in row),
        top=min(w["top"] for w in row),
        bottom=max(w["bottom"] for w in row),
        size=sizes.most_common(1)[0][0],
        bold=bold >= 0.9 * chars,
        column=column,
    )


# -- lines → blocks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """What the document's body text looks like: its size, the usual gap between its lines, its column edges."""

    body_size: float
    line_gap: float
    right: dict[tuple[int, int, int], float]
    heading_sizes: tuple[float, ...]

    def style(self, line: Line) -> str:
        """'h<size>' for a larger line, 'bold' for a short bold line at body size, else 'body'."""
        if line.size >= self.body_size + 1 and len(line.text) <= 200:
            return f"h{line.size}"
        if line.bold and line.size >= self.body_size - 0.5 and len(line.text) <= 120:
            return "bold"
        return "body"

    def level(self, style: str) -> int:
        """Larger type is a higher heading; bold body-size lines come below every larger size."""
        if style == "bold":
            return len(self.heading_sizes) + 1
        return self.heading_sizes.index(float(style[1:])) + 1


def layout_of(lines: Sequence[Line]) -> Layout:
    """The body size (the size most characters are set in), the usual line gap, and each column's right edge."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0]
    gaps = [
        b.top - a.bottom
        for a, b in zip(lines, lines[1:], strict=False)
        if a.column == b.column and a.size == b.size == body and b.top > a.top
    ]
    right: dict[tuple[int, int, int], float] = {}
    for line in lines:
        right[line.column] = max(right.get(line.column, 0.0), line.x1)
    larger = sorted({line.size for line in lines if line.size >= body + 1 and len(line.text) <= 200}, reverse=True)
    return Layout(body, statistics.median(gaps) if gaps else 0.3 * body, right, tuple(larger))


def starts_block(prev: Line, line: Line, layout: Layout, group: list[Line]) -> bool:
    """Whether a line begins a new block rather than continuing the one the previous line is in."""
    style = layout.style(line)
    if style != layout.style(prev):
        return True
    if style != "body":
        return line.column != prev.column or line.top - prev.bottom > layout.line_gap + 0.5 * line.size
    if list_marker(line.text):
        return True
    if line.column != prev.column:  # a paragraph runs on over a column or page break only mid-sentence
        return bool(ENDS_SENTENCE.search(prev.text)) or not line.text[:1].islower()
    if line.top - prev.bottom > layout.line_gap + 0.35 * line.size:
        return True
    right = layout.right[prev.column]
    short = prev.x1 < right - 0.15 * (right - min(g.x0 for g in group))
    if short and ENDS_SENTENCE.search(prev.text):
        return True
    first_line_indent = not list_marker(group[0].text) and line.x0 > min(g.x0 for g in group) + 0.8 * line.size
    return first_line_indent and len(group) > 1


def group_lines(lines: Sequence[Line], layout: Layout) -> list[list[Line]]:
    """Consecutive lines that make one heading, paragraph or list item."""
    groups: list[list[Line]] = []
    for line in lines:
        if groups and not starts_block(groups[-1][-1], line, layout, groups[-1]):
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def to_block(group: Sequence[Line], layout: Layout) -> Block:
    """A group of lines as a heading, a list item or a paragraph."""
    text = join_lines([line.text for line in group])
    style = layout.style(group[0])
    if style != "body" and len(text) <= 200:
        return heading(text, layout.level(style))
    item = list_marker(text)
    if item:
        return Block(item[0], kind="item", ordered=item[1])
    return Block(text)


# -- the whole file -----------------------------------------------------------------------------------------------


def read_pdf(path: Path) -> Extracted:
    """A PDF's text as blocks, with its metadata; a PDF without a text layer is refused with a reason."""
    meta = read_metadata(path)
    try:
        with pdfplumber.open(path) as pdf:
            pages = [
                (rows_of(page.extract_words(extra_attrs=["size", "fontname"])), float(page.width), bool(page.images))
                for page in pdf.pages
            ]
    except Exception as exc:  # pdfminer raises many kinds of error on a damaged file
        raise unreadable(path, exc) from exc
    if not any(rows for rows, _, _ in pages):
        if any(images for _, _, images in pages):
            raise BadImport(
                f"{path}: the PDF has no text layer (a scan?); run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) "
                "and add the result"
            )
        raise no_text(path, "the PDF's pages are empty")
    noise = edge_noise([[row_text(r) for r in rows] for rows, _, _ in pages])
    lines = [
        line
        for page, ((rows, width, _), drop) in enumerate(zip(pages, noise, strict=True))
        for line in reading_order([r for i, r in enumerate(rows) if i not in drop], width, page)
    ]
    if not lines:
        raise no_text(path, "the PDF holds only page numbers and running headers")
    layout = layout_of(lines)
    return Extracted([to_block(g, layout) for g in group_lines(lines, layout)], meta)
