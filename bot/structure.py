"""A document's Markdown body → text blocks with their headings as context (markdown-it-py, CommonMark).

Headings are context for the blocks under them, never a block of their own; a paragraph that is bold from end to
end (an FAQ's question), or whose first line alone is, counts as a heading for the blocks that follow it. Bold,
italics and links are reduced to their text. Each list item is its own block, with the paragraph that introduces
the list ("Bring:") as context. Each row of a table is a block that names its cells by their column headings
("Youth aged 14 to 17 — Fee: $5"), so a row read alone still says what its numbers are."""

from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from bot.text import clean

_PARSER = MarkdownIt("commonmark").enable("table")
CONTEXT_DEPTH = 2  # the innermost headings kept as context: "Deposits — How long does my landlord have?"


@dataclass(frozen=True)
class Block:
    """One paragraph or list item as plain text, with the headings (and list lead-in) it sits under."""

    text: str
    context: str = ""


def plain_text(inline: Any) -> str:
    """An inline token's text without Markdown marks: link and image text kept, addresses dropped."""
    return _text_of(inline.children or [])


def _text_of(children: list[Any]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return clean("".join(parts))


def _bold_head(inline: Any) -> tuple[str, str] | None:
    """A paragraph's bold heading, used as one (an FAQ's question), and the text after it: the whole paragraph and
    "" when it is bold from end to end, its first line and the rest when that line alone is bold; else None."""
    children = inline.children or []
    kids = [i for i, c in enumerate(children) if not (c.type == "text" and not c.content.strip())]
    if len(kids) < 3 or children[kids[0]].type != "strong_open":
        return None
    if children[kids[-1]].type == "strong_close":
        return plain_text(inline), ""
    close = next((k for k, i in enumerate(kids) if children[i].type == "strong_close"), None)
    if close is None or children[kids[close + 1]].type not in ("softbreak", "hardbreak"):
        return None
    head, rest = _text_of(children[kids[0] + 1 : kids[close]]), _text_of(children[kids[close + 1] + 1 :])
    return (head, rest) if head and rest else None


def _context(headings: list[tuple[int, str]]) -> str:
    """The innermost headings; a top-level heading (usually the document's title) only when it is the only one."""
    inner = [h for h in headings if h[0] > 1] or headings
    return " — ".join(h for _, h in inner[-CONTEXT_DEPTH:])


def _table_rows(tokens: list[Any], start: int) -> tuple[list[str], list[list[str]], int]:
    """A table's column headings, its body rows' cells, and the index of its closing token."""
    header: list[str] = []
    rows: list[list[str]] = []
    in_head = False
    i = start
    while tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type in ("thead_open", "thead_close"):
            in_head = tok.type == "thead_open"
        elif tok.type == "tr_open":
            cells: list[str] = []
            if in_head:
                header = cells
            else:
                rows.append(cells)
        elif tok.type == "inline":
            cells.append(plain_text(tok))
        i += 1
    return header, rows, i


def _row_text(header: list[str], cells: list[str]) -> str:
    """One table row as a line: its first cell, then each other cell after its column's heading."""
    headings = header[1:] + [""] * max(0, len(cells) - len(header))
    named = [f"{h}: {c}" if h else c for h, c in zip(headings, cells[1:], strict=False) if c]
    first = cells[0] if cells else ""
    return clean(" — ".join(x for x in [first, "; ".join(named)] if x))


def parse_blocks(body: str) -> list[Block]:
    """The body's blocks in reading order, each with its heading context."""
    tokens = _PARSER.parse(body)
    headings: list[tuple[int, str]] = []  # (level, text); a bold line sits one level below the last real heading
    heading_level = 0
    blocks: list[Block] = []
    lead_in = ""
    list_depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0:
                lead_in = ""
        elif tok.type == "heading_open":
            level = heading_level = int(tok.tag[1:])
            text = plain_text(tokens[i + 1])
            headings = [h for h in headings if h[0] < level] + ([(level, text)] if text else [])
            lead_in = ""
            i += 3
            continue
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            text = plain_text(tok)
            bold = _bold_head(tok) if text and list_depth == 0 else None
            if bold is not None:
                level = heading_level + 1
                headings = [h for h in headings if h[0] < level] + [(level, bold[0].rstrip(":"))]
                lead_in = ""
                text = bold[1]
            if text:
                context = _context(headings)
                if list_depth and lead_in:
                    context = f"{context} — {lead_in}" if context else lead_in
                blocks.append(Block(text=text, context=context))
                if list_depth == 0:
                    lead_in = text if text.endswith(":") else ""
        elif tok.type == "table_open":
            header, rows, i = _table_rows(tokens, i)
            context = " — ".join(x for x in [_context(headings), header[0] if header else ""] if x)
            blocks.extend(Block(text=_row_text(header, cells), context=context) for cells in rows if any(cells))
            lead_in = ""
        elif tok.type in ("html_block", "code_block", "fence"):
            text = clean(tok.content)
            if text:
                blocks.append(Block(text=text, context=_context(headings)))
        i += 1
    return blocks
