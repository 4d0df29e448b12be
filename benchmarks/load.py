"""Load on a real `civicbot serve` over loopback: N simulated residents asking M questions each, at once, through
the chat's Gradio `ask` endpoint, the JSON API (POST /api/v1/ask), or both back to back on one server; optionally a
re-ingest of a changed corpus in the middle of the (first) run.

Run: python benchmarks/load.py [--target chat|api|both] [--residents 50] [--questions 20] [--think 1 3] [--reingest]
     [--out FILE]
Bounded in count (residents × questions) and time (--max-seconds); talks to 127.0.0.1 only."""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bot.config import PROJECT_ROOT
from evals.metrics import percentile
from evals.remote import Reply
from evals.remote import ask as ask_chat
from evals.scoring import HERE, load_questions

# The same added document as the re-ingest test's.
NEW_DOC = PROJECT_ROOT / "tests" / "fixtures" / "zz-council-clinics.md"
NEW_QUESTION = "Did the city council fund legal clinics at libraries?"
RESULTS = PROJECT_ROOT / "benchmarks" / "results"


def ask_api(client: httpx.Client, base_url: str, question: str) -> Reply:
    """POST the question to the JSON API; one round trip."""
    reply = client.post(f"{base_url.rstrip('/')}/api/v1/ask", json={"question": question})
    answer = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else None
    return Reply("complete" if reply.status_code == 200 else "http_error", answer, reply.status_code)


ASK = {"chat": ask_chat, "api": ask_api}


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    """`civicbot serve` on 127.0.0.1:port, returned once it prints its URL."""
    exe = str(Path(sys.executable).with_name("civicbot"))
    proc = subprocess.Popen(
        [exe, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        if f"127.0.0.1:{port}" in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit("civicbot serve did not start")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process (and its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--residents", type=int, default=50)
    ap.add_argument("--questions", type=int, default=20, help="questions per resident")
    ap.add_argument("--reingest", action="store_true", help="change the corpus and re-ingest during the run")
    ap.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 3.0),
        metavar=("MIN", "MAX"),
        help="seconds a resident reads an answer before the next question (0 0: a stress test, back to back)",
    )
    ap.add_argument("--max-seconds", type=float, default=300, help="per target")
    ap.add_argument(
        "--target",
        choices=("chat", "api", "both"),
        default="chat",
        help="the chat's Gradio `ask` endpoint, the JSON API, or both one after the other on the same server",
    )
    ap.add_argument("--out", type=Path, help="default: results/load.json, load-api.json or load-api-vs-chat.json")
    ap.add_argument(
        "--check", action="store_true", help="exit 1 on any failed or empty answer, or a re-ingest that did not switch"
    )
    args = ap.parse_args()
    questions = [q.question for q in load_questions(HERE / "suites" / "baltimore" / "questions.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(PROJECT_ROOT / "corpus", corpus)
        env = {**os.environ, "CIVICBOT_DATA_DIR": str(Path(tmp) / "data"), "CIVICBOT_CORPUS_DIR": str(corpus)}
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server = start_server(env, port)
        targets = ["chat", "api"] if args.target == "both" else [args.target]
        runs: dict[str, dict[str, Any]] = {}
        try:
            for i, target in enumerate(targets):
                one = partial(run_load, args, questions, url, corpus, env, target, reingest=i == 0)
                runs[target] = measured(server.pid, one)
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = runs[targets[0]] if len(targets) == 1 else {**runs, "api_vs_chat_throughput": ratio(runs)}
    out = (
        args.out
        or RESULTS / {"chat": "load.json", "api": "load-api.json", "both": "load-api-vs-chat.json"}[args.target]
    )
    report(runs, figures, out)
    broken = any(run["errors"] for run in runs.values())
    first = runs[targets[0]]
    if args.reingest:
        broken = broken or not first["new_corpus_answered"] or first["duplicate_passages"] or first["ingest_rc"]
    if args.check and broken:
        raise SystemExit("load check failed: errors, a re-ingest that did not switch, or duplicate passages")


def report(runs: dict[str, dict[str, Any]], figures: dict[str, Any], out: Path) -> None:
    """Write the figures to the results file and print them (with a side-by-side table for several targets)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for target, run in runs.items():
        print(f"-- {target}")
        for key, value in run.items():
            print(f"{key:34} {value}")
    if len(runs) > 1:
        print(table(runs))
    print(f"written to {out}")


def measured(pid: int, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one load and add the server's and the load generator's CPU time per request to its figures."""
    server_cpu, client_cpu = cpu_seconds(pid), resource.getrusage(resource.RUSAGE_SELF)
    figures = run()
    used = cpu_seconds(pid) - server_cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    client_used = after.ru_utime + after.ru_stime - client_cpu.ru_utime - client_cpu.ru_stime
    requests = int(figures["requests"]) or 1
    figures["server_cpu_ms_per_request"] = round(1000 * used / requests, 2)
    figures["load_generator_cpu_ms_per_request"] = round(1000 * client_used / requests, 2)
    return figures


def ratio(runs: dict[str, dict[str, Any]]) -> float:
    """The JSON API's answers per second over the chat's."""
    return round(runs["api"]["throughput_rps"] / max(runs["chat"]["throughput_rps"], 1e-9), 2)


def table(runs: dict[str, dict[str, Any]]) -> str:
    """Answers/s and latency percentiles side by side."""
    rows = ["| target | answers/s | p50 s | p95 s | errors | server CPU ms/answer |", "|---|---|---|---|---|---|"]
    for target, r in runs.items():
        rows.append(
            f"| {target} | {r['throughput_rps']} | {r['p50_s']} | {r['p95_s']} | {r['errors']} "
            f"| {r['server_cpu_ms_per_request']} |"
        )
    return "\n".join(rows)


def run_load(
    args: argparse.Namespace,
    questions: list[str],
    url: str,
    corpus: Path,
    env: dict[str, str],
    target: str = "chat",
    reingest: bool = True,
) -> dict[str, Any]:
    """Run the residents against one target (and the re-ingest), then check what a resident and staff would check."""
    ask = ASK[target]
    reingest = reingest and args.reingest
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.max_seconds

    def resident(seed: int) -> None:
        rng = random.Random(seed)
        time.sleep(rng.uniform(0, args.think[1]))  # residents arrive over a few seconds, not in one instant
        with httpx.Client(timeout=60) as client:
            for _ in range(args.questions):
                if time.monotonic() > deadline:
                    return
                question = rng.choice(questions)
                started = time.perf_counter()
                reply = ask(client, url, question)
                elapsed = time.perf_counter() - started
                answer = reply.answer or {}
                with lock:
                    latencies.append(elapsed)
                    if not reply.ok or not str(answer.get("answer", "")).strip():
                        failures.append(f"{reply.event}/{reply.status}: {question[:40]}")
                time.sleep(rng.uniform(*args.think))

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(args.residents)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    ingested: dict[str, object] = {}
    if reingest:
        time.sleep(2.0)
        shutil.copy(NEW_DOC, corpus)
        exe = str(Path(sys.executable).with_name("civicbot"))
        t0 = time.perf_counter()
        done = subprocess.run([exe, "ingest"], env=env, capture_output=True, text=True, timeout=300)
        ingested = {"ingest_s": round(time.perf_counter() - t0, 2), "ingest_rc": done.returncode}
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    figures: dict[str, Any] = {
        "target": target,
        "residents": args.residents,
        "questions_each": args.questions,
        "think_s": list(args.think),
        "requests": len(latencies),
        "errors": len(failures),
        "throughput_rps": round(len(latencies) / wall, 1),
        "p50_s": round(percentile(latencies, 50), 3),
        "p95_s": round(percentile(latencies, 95), 3),
        "p99_s": round(percentile(latencies, 99), 3),
        "max_s": round(max(latencies, default=0.0), 3),
        "wall_s": round(wall, 1),
        "first_errors": failures[:5],
    }
    if reingest:
        time.sleep(3.0)  # servers look for a new version every CIVICBOT_RELOAD_S (2 s)
        with httpx.Client(timeout=60) as client:
            after = ask(client, url, NEW_QUESTION).answer or {}
        cited = [c["passage_id"] for c in after.get("citations", [])]
        figures.update(ingested)
        figures["new_corpus_answered"] = bool(cited) and cited[0].startswith("zz-council-clinics")
        figures["passages_after"], figures["duplicate_passages"] = count_passages(env)
    return figures


def count_passages(env: dict[str, str]) -> tuple[int, int]:
    """Passages in the live English index and how many ids appear more than once."""
    from bot.config import Settings
    from bot.service import open_index

    settings = Settings(data_dir=Path(env["CIVICBOT_DATA_DIR"]), corpus_dir=Path(env["CIVICBOT_CORPUS_DIR"]))
    ids = [p.id for p in open_index(settings).all_passages()]
    return len(ids), len(ids) - len(set(ids))


if __name__ == "__main__":
    main()
