"""A corpus about another topic (an eval suite's tenant FAQ, without a profile of its own) shows nothing of the
project's own corpus: not in the web chat (read in real Chromium, both languages, with a refusal shown), not in the
CLI's answers and refusals."""

import re
import shutil
from collections.abc import Iterator

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.service import build_answerer, ingest
from tests.conftest import run_cli, serving

pytestmark = pytest.mark.slow

OTHER = PROJECT_ROOT / "evals" / "suites" / "faq" / "corpus"
# Words of the shipped corpus and its topic; none belongs in what a tenant FAQ's residents see.
FOREIGN = re.compile(r"baltimore|immigra|inmigra|\bICE\b|\bScott\b|WYPR", re.IGNORECASE)
QUESTIONS = [
    "What are the walk-in hours?",  # answered from the FAQ
    "Who won the football game last night?",  # out of scope: the refusal says what the sources cover
    "my landlord changed the locks, what do i do",  # the resident's own case: the referral
    "¿Cuál es el horario de la oficina?",
]


@pytest.fixture(scope="module")
def other_topic(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An index of the FAQ corpus alone, without profile.yaml or referrals.yaml: every word comes from defaults."""
    root = tmp_path_factory.mktemp("other-topic")
    corpus = root / "corpus"
    shutil.copytree(OTHER, corpus)
    assert not (corpus / "profile.yaml").exists() and not (corpus / "referrals.yaml").exists()
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, rate_limit=None, trusted_proxies=[])
    ingest(settings)
    return settings


def _foreign(text: str) -> list[str]:
    return sorted({m.group(0) for m in FOREIGN.finditer(text)})


def test_the_cli_answers_and_refuses_without_a_word_of_another_corpus(other_topic: Settings) -> None:
    env = {"CIVICBOT_DATA_DIR": str(other_topic.data_dir), "CIVICBOT_CORPUS_DIR": str(other_topic.corpus_dir)}
    kinds = set()
    for question in QUESTIONS:
        done = run_cli("ask", question, env=env)
        assert done.returncode == 0, done.stderr.decode()
        text = done.stdout.decode()
        assert text.strip() and not _foreign(text), f"{question!r} → {text}"
        kinds.add("cited" if "[1]" in text else "refused")
    assert kinds == {"cited", "refused"}  # both an answer and a refusal were read
    helps = run_cli("--help", env=env).stdout.decode() + run_cli("ask", "--help", env=env).stdout.decode()
    assert not _foreign(helps)


@pytest.fixture(scope="module")
def page_url(other_topic: Settings) -> Iterator[str]:
    from bot.server import create_app

    with serving(create_app(build_answerer(other_topic), other_topic)) as url:
        yield url


@pytest.mark.browser
def test_the_web_chat_names_only_its_own_corpus(page_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    try:
        page.goto(page_url)
        box = page.get_by_label("Your question")
        box.wait_for(timeout=15000)
        english = page.inner_text("body")
        assert "Tenant Help Desk" in english  # the header names what this corpus covers: its documents' titles
        box.fill(QUESTIONS[1])
        page.get_by_role("button", name="Ask", exact=True).click()
        page.locator(".abstention").first.wait_for(timeout=30000)
        answered = page.inner_text("body")
        page.get_by_label("Español").check()
        page.get_by_label("Su pregunta").wait_for(timeout=15000)
        spanish = page.inner_text("body")
        title = page.title()
    finally:
        page.close()
    for name, text in (("English page", english), ("after a refusal", answered), ("Spanish page", spanish)):
        assert not _foreign(text), f"{name}: {_foreign(text)}"
    assert not _foreign(title)
