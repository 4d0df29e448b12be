"""Answers as safe HTML for the web chat: every string from a question or a source is escaped here."""

import html
import re
from urllib.parse import urlparse

from bot.records import Answer, Citation

MARKER = re.compile(r"\[(\d+)\]")
LANG_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")

LABELS = {
    "en": {
        "sources": "Sources",
        "paragraph": "paragraph",
        "details": "publication details",
        "open": "Open the source",
        "not_covered": "Not in the sources",
    },
    "es": {
        "sources": "Fuentes",
        "paragraph": "párrafo",
        "details": "datos de publicación",
        "open": "Abrir la fuente",
        "not_covered": "No está en las fuentes",
    },
}


def safe_url(url: str) -> str | None:
    """The URL if it is plain http(s), else None (a `javascript:` source must never become a link)."""
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def lang_attr(language: str) -> str:
    """A lang attribute for text in that language, so a screen reader reads it with the right voice (WCAG 3.1.2)."""
    return f' lang="{html.escape(language, quote=True)}"' if LANG_TAG.fullmatch(language) else ""


def _highlight(citation: Citation) -> str:
    text = html.escape(citation.passage.text)
    for used in citation.used:
        escaped = html.escape(used)
        if escaped in text:
            text = text.replace(escaped, f"<mark>{escaped}</mark>", 1)
    return text


def render_citation(citation: Citation, language: str) -> str:
    """One source: title, publisher, date, paragraph, the whole passage with the used sentences marked, the link."""
    labels = LABELS.get(language, LABELS["en"])
    p = citation.passage
    url = safe_url(p.source)
    link = (
        f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer nofollow">'
        f"{html.escape(labels['open'])}</a>"
        if url
        else html.escape(p.source)
    )
    where = f"{labels['paragraph']} {p.n}" if p.n else labels["details"]
    summary = f"[{citation.n}] {html.escape(p.document)} — {html.escape(p.publisher)}, {html.escape(p.date)}, {where}"
    return (
        f'<details class="source" id="source-{citation.n}"><summary>{summary}</summary>'
        f'<blockquote class="passage"{lang_attr(p.language)}>{_highlight(citation)}</blockquote><p>{link}</p></details>'
    )


def render_answer(answer: Answer) -> str:
    """The chat bubble for an answer: its text with [n] markers, then its sources; abstentions look different."""
    labels = LABELS.get(answer.language, LABELS["en"])
    body = MARKER.sub(lambda m: f"<sup>[{m.group(1)}]</sup>", html.escape(answer.text))
    sources = "".join(render_citation(c, answer.language) for c in answer.citations)
    if sources:
        sources = f'<div class="sources"><strong>{labels["sources"]}</strong>{sources}</div>'
    # Earlier answers keep their language when the page switches; the bubble says which it is.
    lang = lang_attr(answer.language)
    if answer.abstained:
        return (
            f'<div class="abstention" role="note"{lang}><strong>{html.escape(labels["not_covered"])}</strong>'
            f"<p>{body}</p>{sources}</div>"
        )
    return f'<div class="answer"{lang}><p>{body}</p>{sources}</div>'
