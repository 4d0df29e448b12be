"""WCAG 2.1 AA on the chat page: axe-core in real Chromium, and a resident who uses only the keyboard."""

import json
import re
from typing import Any

import pytest

from bot.config import Settings
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
PAGES = {
    "en": {"label": "Your question", "ask": "Ask", "question": "Can the police help ICE?"},
    "es": {"label": "Su pregunta", "ask": "Preguntar", "question": "¿La policía de Baltimore va a ayudar a ICE?"},
}
# WCAG 1.4.11: a focus indicator is a non-text graphic and needs 3:1 against what it is drawn on.
INDICATOR_CONTRAST = 3.0

FOCUS_STYLE_JS = """() => {
    const e = document.activeElement;
    const cs = getComputedStyle(e);
    let under = e.parentElement, background = 'rgb(255, 255, 255)';
    while (under) {
        const bg = getComputedStyle(under).backgroundColor;
        if (bg !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(bg)) { background = bg; break; }
        under = under.parentElement;
    }
    return {
        tag: e.tagName.toLowerCase(),
        name: (e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)
            || e.innerText || e.value || '').trim().slice(0, 40),
        outline: [cs.outlineStyle, cs.outlineWidth, cs.outlineColor],
        shadow: cs.boxShadow,
        background: background,
    };
}"""


def _show_answer_with_source(page, url: str, lang: str) -> Any:  # type: ignore[no-untyped-def]
    words = PAGES[lang]
    page.goto(url)
    page.get_by_label(PAGES["en"]["label"]).wait_for(timeout=15000)
    if lang != "en":
        page.get_by_label("Español").check()
        page.get_by_label(words["label"]).wait_for(timeout=15000)
    page.get_by_label(words["label"]).fill(words["question"])
    page.get_by_role("button", name=words["ask"], exact=True).click()
    bubble = page.locator(".answer, .abstention").first
    bubble.wait_for(timeout=30000)
    bubble.locator("details.source summary").first.click()
    bubble.locator("blockquote.passage").first.wait_for(state="visible")
    return bubble


def _describe(violations: list[dict[str, Any]], where: str) -> str:
    lines = [f"{len(violations)} serious or critical WCAG 2.1 AA violation(s) {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            why = (node.get("failureSummary") or "").replace("\n", " ").strip()
            lines.append(f"    at {json.dumps(node['target'])}: {why}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("lang", "width", "scheme"),
    [
        ("en", 360, "light"),
        ("en", 1280, "light"),
        ("es", 360, "light"),
        ("es", 1280, "light"),
        # Gradio follows the system's dark mode, so residents who use it get another set of colours.
        ("en", 1280, "dark"),
        ("es", 360, "dark"),
    ],
)
def test_axe_finds_no_serious_violations_with_an_answer_and_a_source_open(  # type: ignore[no-untyped-def]
    server: tuple[str, Settings], browser, lang: str, width: int, scheme: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    url, _ = server
    name = f"axe-{lang}-{width}-{scheme}"
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    try:
        bubble = _show_answer_with_source(page, url, lang)
        assert page.evaluate("document.documentElement.lang") == lang
        # Screen readers pick a voice per part: the answer's language, and the quoted passage's own (English).
        assert bubble.get_attribute("lang") == lang
        assert bubble.locator("blockquote.passage").first.get_attribute("lang") == "en"
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}}).response
        ARTIFACTS.mkdir(exist_ok=True)
        report = ARTIFACTS / f"{name}.json"
        report.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        page.close()
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not blocking, _describe(blocking, f"on the {lang} page at {width} px, {scheme} ({report})")


def _rgba(color: str) -> tuple[float, float, float, float] | None:
    m = re.match(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", color.strip())
    if not m:
        return None
    r, g, b, a = m.groups()
    return float(r), float(g), float(b), float(a) if a is not None else 1.0


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(c: tuple[float, ...]) -> float:
        lin = [(v / 255) / 12.92 if v / 255 <= 0.04045 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c[:3]]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _indicator_is_visible(style: dict[str, Any]) -> bool:
    """An outline or a box-shadow ring, opaque enough and in a colour that stands out from what is around it."""
    background = _rgba(style["background"]) or (255.0, 255.0, 255.0, 1.0)
    kind, width, color = style["outline"]
    colors = []
    if kind != "none" and float(width.removesuffix("px") or 0) >= 1:
        colors.append(_rgba(color))
    if style["shadow"] != "none":
        colors += [_rgba(c) for c in re.findall(r"rgba?\([^)]*\)", style["shadow"])]
    return any(c and c[3] >= 0.5 and _contrast(c, background) >= INDICATOR_CONTRAST for c in colors)


def _focus_style(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    # Gradio's buttons fade their outline in; the style that counts is the one the resident sees once it settles.
    page.wait_for_function("() => document.activeElement.getAnimations().length === 0", timeout=2000)
    return page.evaluate(FOCUS_STYLE_JS)  # type: ignore[no-any-return]


def _tab_until(page, key: str, selector: str, seen: list[dict[str, Any]], limit: int = 40) -> None:  # type: ignore[no-untyped-def]
    """Press key until the focused element matches selector, keeping the focus style of every stop on the way."""
    for _ in range(limit):
        page.keyboard.press(key)
        style = _focus_style(page)
        if style["tag"] != "body":
            seen.append(style)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{limit} presses of {key} never reached {selector}; stops: {[s['name'] for s in seen]}")


def test_a_resident_using_only_the_keyboard_asks_reads_and_opens_a_source(  # type: ignore[no-untyped-def]
    server: tuple[str, Settings], browser
) -> None:
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url)
    box = page.get_by_label("Your question")
    box.wait_for(timeout=15000)
    # Focus starts in the question box; leaving it and tabbing round the whole page must come back to it.
    page.evaluate("document.activeElement.blur()")
    stops: list[dict[str, Any]] = []
    _tab_until(page, "Tab", "textarea", stops)
    assert page.evaluate("document.activeElement.closest('label, .block').innerText").startswith("Your question")
    assert any(s["tag"] == "input" for s in stops), "Tab never reached the language switch"

    # A live region must already be on the page when the answer arrives, or screen readers say nothing.
    page.evaluate(
        """() => { window.__liveRegions = [...document.querySelectorAll(
            '[aria-live=polite], [aria-live=assertive], [role=log], [role=status], [role=alert]')]; }"""
    )
    page.keyboard.type("Can the police help ICE?")
    page.keyboard.press("Enter")
    answer = page.locator(".answer").first
    answer.wait_for(timeout=30000)
    announced = page.evaluate(
        """() => {
            const answer = document.querySelector('.answer');
            if (answer.closest('[aria-hidden=true]')) return null;
            const region = window.__liveRegions.find(r => r.isConnected && r.contains(answer));
            return region ? (region.getAttribute('aria-live') || region.getAttribute('role')) : null;
        }"""
    )
    assert announced in ("polite", "assertive", "log", "status", "alert"), "the answer is in no live region"

    # The sources sit above the question box, in the chat: Shift+Tab reaches them.
    _tab_until(page, "Shift+Tab", ".answer details.source summary", stops)
    details = answer.locator("details.source").first
    passage = answer.locator("blockquote.passage").first
    for key, opens in (("Enter", True), ("Enter", False), ("Space", True), ("Space", False)):
        page.keyboard.press(key)
        assert details.evaluate("d => d.open") is opens, (
            f"{key} on the source's summary did not {'open' if opens else 'close'} it"
        )
        assert passage.is_visible() is opens
        if opens:
            assert "directs Baltimore police not to participate" in passage.inner_text()

    hidden = [s for s in stops if not _indicator_is_visible(s)]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "keyboard.png"), full_page=True)
    page.close()
    assert not hidden, "focus is not visible on: " + "; ".join(
        f"{s['tag']} '{s['name']}' outline={s['outline']} shadow={s['shadow']} on {s['background']}" for s in hidden
    )
