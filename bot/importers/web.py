"""A saved web page → blocks. trafilatura finds the main text (leaving out navigation, ads, cookie banners, share
buttons and comments) and returns it as XML that keeps headings, paragraphs, lists and tables; its metadata (title,
og: and meta tags, dates) fills the header."""

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from bot.importers.common import Block, Extracted, Metadata, heading, no_text
from bot.text import clean

# A page saved by a browser may say where it came from in a comment at its top.
SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.IGNORECASE)


def page_language(page: str) -> str | None:
    """The language the page declares (<html lang>, or a content-language meta tag)."""
    try:
        root = lxml_html.document_fromstring(page.encode("utf-8"))
    except (etree.ParserError, ValueError):
        return None
    declared = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not declared:
        metas = root.xpath("//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']")
        declared = metas[0].get("content") if metas else None
    return declared.strip() if declared else None


def metadata_of(doc: Any, page: str) -> Metadata:
    """The header trafilatura read from the page: the site's name (or the author) as publisher, the canonical or
    og:url (or the address a browser noted when saving) as source."""
    date = None
    if doc.get("date"):
        try:
            date = dt.date.fromisoformat(str(doc.get("date"))[:10])
        except ValueError:
            date = None
    saved = SAVED_FROM.search(page[:4096])
    return Metadata(
        title=clean(doc.get("title") or "") or None,
        source=doc.get("url") or (saved.group(1) if saved else None),
        date=date,
        publisher=clean(doc.get("sitename") or doc.get("author") or "") or None,
        language=page_language(page),
    )


def _own_text(element: Any) -> str:
    """An element's text without the text of lists nested in it (those are blocks of their own)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "list":
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return clean(" ".join(parts))


def blocks_of(element: Any) -> Iterator[Block]:
    """The blocks of trafilatura's XML body, in order."""
    for child in element:
        tag = child.tag
        if tag == "head":
            rend = child.get("rend") or ""
            level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
            yield heading(clean("".join(child.itertext())), level)
        elif tag == "list":
            ordered = child.get("rend") == "ol"
            for item in child.iter("item"):
                yield Block(_own_text(item), kind="item", ordered=ordered)
        elif tag == "table":
            for row in child.iter("row"):
                cells = [clean("".join(cell.itertext())) for cell in row.iter("cell")]
                yield Block(" | ".join(c for c in cells if c))
        elif tag in ("quote", "div", "main", "section") and len(child):
            yield from blocks_of(child)
        else:  # p, code, and anything newer: its text as a paragraph
            yield Block(clean("".join(child.itertext())))


def read_web(path: Path, raw: bytes) -> Extracted:
    """A saved web page's main text as blocks, with the page's metadata."""
    page = raw.decode("utf-8", errors="replace")  # for the few tags read here; trafilatura reads the page's charset
    xml = trafilatura.extract(
        raw,
        output_format="xml",
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        include_formatting=False,
    )
    if not xml:
        raise no_text(path, "no article text found in the page (save the page again once it has loaded)")
    doc = etree.fromstring(xml.encode("utf-8"))
    body = doc.find("main")
    blocks = [b for b in blocks_of(body if body is not None else doc) if b.text]
    if not blocks:
        raise no_text(path, "no article text found in the page (save the page again once it has loaded)")
    return Extracted(blocks, metadata_of(doc, page))
