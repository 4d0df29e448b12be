"""The `civicbot` command as staff scripts use it, run as a real subprocess, and the shared contract check."""

import json
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

CONTRACT_CHECK = PROJECT_ROOT.parent / "shared" / "tools" / "contract_check.py"


def env_for(settings: Settings) -> dict[str, str]:
    return {"CIVICBOT_DATA_DIR": str(settings.data_dir), "CIVICBOT_CORPUS_DIR": str(settings.corpus_dir)}


def test_ask_json_prints_one_answer_object(settings: Settings) -> None:
    done = run_cli("ask", "--json", "Can ICE use city-owned property?", env=env_for(settings))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["abstained"] is False and "judicial warrant" in answer["answer"]
    assert any(c["passage_id"].endswith("#p3") for c in answer["citations"])
    out = json.loads(run_cli("ask", "--json", "What are the opening hours of the MVA?", env=env_for(settings)).stdout)
    assert out["abstained"] is True and out["citations"] == []


def test_batch_answers_every_line_in_order_even_blank_and_broken_ones(settings: Settings) -> None:
    lines = [b"Can the police help ICE?", b"", b"\xff\xfe not utf-8", b"DMV hours?", b"\x00\x01"]
    done = run_cli("ask", "--json", "-", stdin=b"\n".join(lines) + b"\n", env=env_for(settings))
    assert done.returncode == 0 and b"Traceback" not in done.stderr
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(answers) == len(lines)
    assert answers[0]["abstained"] is False and answers[0]["question"] == "Can the police help ICE?"
    assert all(a["abstained"] for a in answers[1:])
    assert answers[1]["kind"] == answers[2]["kind"] == answers[4]["kind"] == "invalid"
    assert "type a question" in answers[1]["answer"] and "readable text" in answers[2]["answer"]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 20000, "\x01\x02\x03"])
def test_bad_questions_exit_non_zero_with_one_line(settings: Settings, bad: str) -> None:
    done = run_cli("ask", "--json", bad, env=env_for(settings))
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode != 0 and done.stdout == b""
    assert len(lines) == 1 and lines[0].startswith("civicbot: ") and "Traceback" not in done.stderr.decode()


def test_human_output_lists_numbered_sources(settings: Settings) -> None:
    done = run_cli("ask", "Do city lawyers charge?", env=env_for(settings))
    text = done.stdout.decode()
    assert "[1]" in text and "Sources:" in text and "pro bono basis" in text


def test_ingest_reports_and_a_bad_corpus_is_one_clear_line(tmp_path: Path, settings: Settings) -> None:
    env = env_for(settings)
    done = run_cli("ingest", env=env)
    assert done.returncode == 0 and "13 unchanged" in done.stderr.decode()  # 12 paragraphs and the publication details
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.md").write_text("---\ntitle: x\n---\n\ntext\n", encoding="utf-8")
    done = run_cli("ingest", "--corpus", str(bad), env={**env, "CIVICBOT_DATA_DIR": str(tmp_path / "d")})
    err = done.stderr.decode().strip()
    assert done.returncode != 0 and "broken.md" in err and "'source'" in err and "Traceback" not in err


def test_an_unusable_index_is_one_clear_line(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the data dir should be", encoding="utf-8")
    done = run_cli("ask", "--json", "Can ICE use city property?", env={"CIVICBOT_DATA_DIR": str(blocked)})
    err = done.stderr.decode().strip()
    assert done.returncode != 0 and "Traceback" not in err and len(err.splitlines()) <= 3 and "index" in err


@pytest.mark.skipif(
    not CONTRACT_CHECK.exists(), reason="the outside contract checker (../shared/tools) is not beside this clone"
)
def test_the_shared_contract_check_passes(settings: Settings, server: tuple[str, Settings]) -> None:
    import os
    import subprocess

    exe = str(Path(sys.executable).with_name("civicbot"))
    url, _ = server  # the web side too: the Gradio `ask` endpoint and the JSON API, health and metrics
    done = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), "--exe", exe, "--url", url],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env_for(settings)},
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "all contract checks hold" in done.stdout
    assert "POST /api/v1/ask is 200" in done.stdout and "skip HTTP API" not in done.stdout
