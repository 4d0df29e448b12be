"""Scale-out on a real Chroma server: `chroma run` on 127.0.0.1 with a temp path, `civicbot ingest` into it, two
`civicbot serve` replicas against it, and the same answers from both."""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from evals.remote import ask
from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Can ICE use city-owned property?",
    "will baltimore cops help ICE arrest people",
    "¿Los abogados de la ciudad cobran?",
    "What are the opening hours of the MVA?",
    "Is the 1300% number real?",
]


def _chroma_exe() -> str:
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    assert Path(exe).exists(), "the chromadb package ships the `chroma` command"
    return exe


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [_chroma_exe(), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/api/v2/heartbeat")
        yield {
            "CIVICBOT_CHROMA_HOST": "127.0.0.1",
            "CIVICBOT_CHROMA_PORT": str(port),
            "CIVICBOT_DATA_DIR": str(tmp_path / "data"),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("civicbot") or str(Path(sys.executable).with_name("civicbot"))
    return subprocess.Popen(
        [exe, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_two_replicas_on_one_chroma_server_give_identical_answers(chroma_server: dict[str, str]) -> None:
    ingest = run_cli("ingest", env=chroma_server)
    assert ingest.returncode == 0, ingest.stderr.decode()
    assert "13 added" in ingest.stderr.decode()
    ports = [free_port(), free_port()]
    replicas = [_serve(chroma_server, port) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}/" for port in ports]
        for url in urls:
            _wait(url, seconds=180)
        with httpx.Client(timeout=60) as client:
            answers = [[ask(client, url, q).answer for q in QUESTIONS] for url in urls]
    finally:
        for proc in replicas:
            proc.terminate()
            proc.wait(timeout=30)
    first, second = answers
    for a, b in zip(first, second, strict=True):
        assert a is not None and b is not None
        assert (a["answer"], a["abstained"], a["language"]) == (b["answer"], b["abstained"], b["language"])
        assert [c["passage_id"] for c in a["citations"]] == [c["passage_id"] for c in b["citations"]]
    assert not first[0]["abstained"] and first[0]["citations"][0]["passage_id"].endswith("#p3")
    assert first[3]["abstained"]
    # Nothing was written to the local data dir: the store is the server's.
    assert not (Path(chroma_server["CIVICBOT_DATA_DIR"]) / "chroma").exists()
    again = run_cli("ingest", env=chroma_server)
    assert again.returncode == 0 and "13 unchanged" in again.stderr.decode()
