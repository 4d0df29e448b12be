"""Shared fixtures: a real index in a temp dir (real model, real Chroma), built once per session."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answerer
from bot.config import PROJECT_ROOT, Settings
from bot.records import Passage
from bot.service import build_answerer, ingest

CORPUS = PROJECT_ROOT / "corpus"
ARTICLE = "wypr-2026-03-05-baltimore-immigration-order"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"

MALICIOUS_DOC = """---
title: Library card notice <script>window.__pwned = 1</script>
source: "javascript:window.__pwned = 2"
date: 2026-03-06
publisher: Test <img src=x onerror="window.__pwned = 3">
language: en
---

Library cards can be renewed at any branch <img src=x onerror="window.__pwned = 4"> with proof of address.

Renewal is free <script>window.__pwned = 5</script> and takes <b onmouseover="window.__pwned = 6">ten minutes</b>.

Renewal forms are [online](javascript:window.__pwned=7) and <a href="javascript:window.__pwned=8">at the desk</a>.
"""


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test touches the developer's data dir or a Chroma server."""
    monkeypatch.setenv("CIVICBOT_DATA_DIR", str(tmp_path_factory.getbasetemp() / "default-data"))
    monkeypatch.delenv("CIVICBOT_CHROMA_HOST", raising=False)
    monkeypatch.delenv("CIVICBOT_CORPUS_DIR", raising=False)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding an index of the real corpus."""
    path = tmp_path_factory.mktemp("data")
    ingest(Settings(data_dir=path, corpus_dir=CORPUS))
    return path


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    """Settings over the session's real index."""
    return Settings(data_dir=data_dir, corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def answerer(settings: Settings) -> Answerer:
    """The real answerer: real model, real Chroma, real corpus."""
    return build_answerer(settings)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A copy of the real corpus that a test may change."""
    path = tmp_path / "corpus"
    shutil.copytree(CORPUS, path)
    return path


@pytest.fixture(scope="session")
def hostile_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real corpus plus a document full of markup that must render as text."""
    path = tmp_path_factory.mktemp("hostile-corpus")
    for f in CORPUS.iterdir():
        shutil.copy(f, path / f.name)
    (path / "zz-library-notice.md").write_text(MALICIOUS_DOC, encoding="utf-8")
    return path


def make_passage(slug: str, n: int, text: str) -> Passage:
    """A passage for tests of one piece of logic, without a corpus file."""
    return Passage(
        id=f"{slug}#p{n}",
        document=f"{slug.title()} notice",
        slug=slug,
        n=n,
        text=text,
        source="s",
        date="2026-01-01",
        publisher="City",
        language="en",
        content_hash=f"{slug}{n}",
    )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Real headless Debian Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian chromium is required: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free port of 127.0.0.1 in a thread, as `civicbot serve` runs it; yields
    its URL once it accepts connections."""
    from bot.server import bind, uvicorn_server

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    runner = uvicorn_server(app)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not runner.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        runner.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, hostile_corpus: Path) -> Iterator[tuple[str, Settings]]:
    """The real app of `civicbot serve` (chat, JSON API, metrics) on 127.0.0.1, over the hostile corpus; yields
    (url, settings)."""
    from bot.server import create_app

    data = tmp_path_factory.mktemp("server-data")
    # No rate limit and no trusted proxy, whatever the environment says: many tests share this one server.
    server_settings = Settings(data_dir=data, corpus_dir=hostile_corpus, rate_limit=None, trusted_proxies=[])
    with serving(create_app(build_answerer(server_settings), server_settings)) as url:
        yield url, server_settings


def run_cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed `civicbot` command for real."""
    exe = shutil.which("civicbot") or str(Path(sys.executable).with_name("civicbot"))
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([exe, *args], input=stdin, capture_output=True, timeout=600, env=full_env)
