"""Faults a deployment meets: a re-ingest while serving, a crash or a full disk mid-ingest, a corrupt store, a
process killed mid-write of feedback. Real model, real Chroma in temp dirs, the real CLI as a subprocess."""

import contextlib
import errno
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import IndexUnavailable
from bot.feedback import record_vote
from bot.service import build_answerer, ingest, open_indexes
from tests.conftest import FIXTURES, run_cli

NEW_DOC = FIXTURES / "zz-council-clinics.md"

pytestmark = pytest.mark.slow


def test_a_server_switches_to_a_reingested_corpus_and_never_fails_meanwhile(tmp_path: Path, corpus_copy: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, reload_s=0.05)
    ingest(settings)
    answerer = build_answerer(settings)
    question = "Did the city council fund legal clinics at libraries?"
    assert answerer.ask(question).abstained

    failures: list[str] = []
    stop = threading.Event()

    def resident() -> None:
        while not stop.is_set():
            try:
                answer = answerer.ask("Can ICE use city-owned property?")
                if answer.abstained or not answer.citations or not answer.text.strip():
                    failures.append(answer.text)
            except Exception as exc:  # noqa: BLE001 - any failure a resident would see counts
                failures.append(repr(exc))

    threads = [threading.Thread(target=resident) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        shutil.copy(NEW_DOC, corpus_copy)
        report = ingest(settings)
        time.sleep(0.2)
        report_again = ingest(settings)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    assert (report.added, report.total) == (2, 15) and report_again.unchanged == 15

    answer = answerer.ask(question)
    assert not answer.abstained and answer.citations[0].passage.slug == "zz-council-clinics"
    indexes = open_indexes(settings)
    for index in indexes.present():
        ids = [p.id for p in index.all_passages()]
        expected = len(indexes.records(index, answerer.retriever.current().passages))
        assert len(ids) == len(set(ids)) == expected  # no passage (or sentence) twice
        assert expected >= 15
        assert len(index.versions()) <= 2  # the live version and the one before it


def test_a_full_disk_mid_ingest_leaves_the_live_index_serving(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy)
    ingest(settings)
    english = open_indexes(settings).passages
    live_before = english.live()
    shutil.copy(NEW_DOC, corpus_copy)

    def disk_full(self: object, texts: list[str]) -> list[list[float]]:
        raise OSError(errno.ENOSPC, "No space left on device")

    embeddings_type = type(english.embeddings)
    monkeypatch.setattr(embeddings_type, "embed_documents", disk_full)
    with pytest.raises(IndexUnavailable, match="disk is full"):
        ingest(settings)
    monkeypatch.undo()

    english = open_indexes(settings).passages
    assert english.live() == live_before and english.count() == 13
    answer = build_answerer(settings).ask("Can ICE use city-owned property?")
    assert not answer.abstained
    ingest(settings)  # once there is room again, the half-built version is cleaned up
    assert english.count() == 15 and len(english.versions()) <= 2


def test_a_corrupt_store_is_one_clear_line_and_rebuild_recovers_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"CIVICBOT_DATA_DIR": str(data)}
    assert run_cli("ingest", env=env).returncode == 0
    sqlite = data / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database " * 4096)

    done = run_cli("ask", "--json", "Can ICE use city property?", env=env)
    err = done.stderr.decode().strip()
    assert done.returncode != 0 and done.stdout == b""
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "ingest --rebuild" in err

    rebuilt = run_cli("ingest", "--rebuild", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr.decode()
    assert "moved it to" in rebuilt.stderr.decode() and any(data.glob("chroma.broken-*"))
    answer = json.loads(run_cli("ask", "--json", "Can ICE use city property?", env=env).stdout)
    assert answer["abstained"] is False


def test_a_chroma_server_that_is_down_is_one_clear_line() -> None:
    from tests.conftest import free_port

    env = {"CIVICBOT_CHROMA_HOST": "127.0.0.1", "CIVICBOT_CHROMA_PORT": str(free_port())}
    done = run_cli("ask", "--json", "Can ICE use city property?", env=env)
    err = done.stderr.decode().strip()
    assert done.returncode != 0 and "Traceback" not in err
    assert "Chroma server 127.0.0.1" in err and "running" in err


WRITER = """
import sys
from pathlib import Path
from bot.feedback import record_vote
answer = {"question": "q" * 2000, "answer": "a" * 4000, "citations": [{"passage_id": "x#p1"}], "abstained": False}
for _ in range(100000):
    record_vote(Path(sys.argv[1]), answer, True)
"""


def test_feedback_survives_a_process_killed_mid_write(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
        time.sleep(1.0)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    size_before = path.stat().st_size
    record_vote(path, {"question": "after the crash", "citations": []}, False)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert path.stat().st_size > size_before  # appended, nothing truncated
    parsed = []
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError):
            parsed.append(json.loads(line))
    assert len(lines) - len(parsed) <= 3  # at most the line each kill cut short
    assert len(parsed) > 10 and parsed[-1]["question"] == "after the crash" and parsed[-1]["vote"] == "down"
