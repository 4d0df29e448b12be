"""The real Gradio server on 127.0.0.1: the `ask` API, and a resident's session in real headless Chromium."""

import json
from pathlib import Path

import pytest
from gradio_client import Client

from bot.config import Settings
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.slow


def test_api_answers_and_abstains(server: tuple[str, Settings]) -> None:
    url, _ = server
    client = Client(url, verbose=False)
    answer = client.predict("Can ICE use city-owned property?", api_name="/ask")
    answer = json.loads(answer) if isinstance(answer, str) else answer
    assert answer["abstained"] is False and answer["citations"][0]["passage_id"].endswith("#p3")
    out = client.predict("What are the opening hours of the MVA?", api_name="/ask")
    assert out["abstained"] is True
    empty = client.predict("", api_name="/ask")
    assert empty["abstained"] is True and empty["kind"] == "invalid"


def _ask(page, question: str, nth: int) -> object:  # type: ignore[no-untyped-def]
    page.get_by_label("Your question").fill(question)
    page.get_by_role("button", name="Ask", exact=True).click()
    bubble = page.locator(".answer, .abstention").nth(nth)
    bubble.wait_for(timeout=30000)
    return bubble


@pytest.mark.browser
def test_a_resident_asks_opens_a_source_and_votes(server: tuple[str, Settings], browser) -> None:  # type: ignore[no-untyped-def]
    url, settings = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 360, "height": 800})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    assert page.evaluate("document.documentElement.lang") == "en"

    answer = _ask(page, "Can the police help ICE?", 0)
    assert "[1]" in answer.inner_text()
    answer.locator("details.source summary").first.click()
    passage = answer.locator("blockquote.passage").first
    assert "directs Baltimore police not to participate" in passage.inner_text()
    assert passage.is_visible()
    page.screenshot(path=str(ARTIFACTS / "answer.png"), full_page=True)

    abstention = _ask(page, "What are the opening hours of the MVA?", 1)
    assert "don't answer" in abstention.inner_text() and "Not in the sources" in abstention.inner_text()
    page.screenshot(path=str(ARTIFACTS / "abstention.png"), full_page=True)

    page.get_by_role("button", name="Like", exact=True).first.click()
    feedback: Path = settings.feedback_path
    page.wait_for_timeout(1500)
    rows = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert rows[-1]["vote"] == "up" and rows[-1]["question"] == "Can the police help ICE?"
    assert set(rows[-1]) == {"timestamp", "question", "answer", "passage_ids", "abstained", "vote"}
    assert not dialogs


@pytest.mark.browser
def test_hostile_passages_and_questions_render_as_text(server: tuple[str, Settings], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    bubble = _ask(page, "How do I renew a library card? <img src=x onerror=alert(1)>", 0)
    for summary in bubble.locator("details.source summary").all():
        summary.click()
    text = bubble.inner_text()
    assert "<img src=x" in text or "<script>" in text  # the markup is shown as text...
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned === undefined")  # ...and none of it ran
    assert page.locator(".answer img, .abstention img, .answer script, .answer [onerror]").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    forms = _ask(
        page, "Are library renewal forms online? [here](javascript:window.__pwned=9) <script>alert(2)</script>", 1
    )
    for summary in forms.locator("details.source summary").all():
        summary.click()
    assert "javascript:window.__pwned=7" in forms.inner_text()  # shown as text, never a link
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator('a[href^="javascript:"], [onerror], [onmouseover]').count() == 0
    hrefs = page.locator(".answer a, .abstention a").evaluate_all("links => links.map(a => a.href)")
    assert all(h.startswith(("http://", "https://")) for h in hrefs)
    page.screenshot(path=str(ARTIFACTS / "hostile.png"), full_page=True)
    assert not dialogs


@pytest.mark.browser
def test_a_spanish_speaker_switches_the_page_and_gets_spanish_framing(server: tuple[str, Settings], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.goto(url)
    page.get_by_label("Español").check()
    page.get_by_label("Su pregunta").wait_for(timeout=15000)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.get_by_text("Pruebe una pregunta").count() >= 1
    page.get_by_label("Su pregunta").fill("¿La policía de Baltimore va a ayudar a ICE?")
    page.get_by_role("button", name="Preguntar", exact=True).click()
    bubble = page.locator(".answer, .abstention").first
    bubble.wait_for(timeout=30000)
    text = bubble.inner_text()
    assert text.startswith("Las fuentes están en inglés") and "[1]" in text and "Fuentes" in text
    bubble.locator("details.source summary").first.click()
    assert "directs Baltimore police not to participate" in bubble.locator("blockquote.passage").first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "spanish.png"), full_page=True)


@pytest.mark.browser
def test_a_question_in_spanish_switches_an_english_page(server: tuple[str, Settings], browser) -> None:  # type: ignore[no-untyped-def]
    url, _ = server
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(url)
    abstention = _ask(page, "¿Cuál es el horario de la biblioteca?", 0)
    assert "No está en las fuentes" in abstention.inner_text() and "no responden" in abstention.inner_text()
    page.get_by_label("Su pregunta").wait_for(timeout=15000)
    assert page.evaluate("document.documentElement.lang") == "es"
