"""Residents' thumbs up/down, appended to a JSONL file for staff: no IP, no cookies, nothing else personal."""

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def record_vote(path: Path, answer: dict[str, Any], liked: bool) -> None:
    """Append one vote as a single line; one write call per line, so a crash leaves no half line behind."""
    row = {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "question": answer.get("question", ""),
        "answer": answer.get("answer", ""),
        "passage_ids": [c.get("passage_id") for c in answer.get("citations", [])],
        "abstained": bool(answer.get("abstained")),
        "vote": "up" if liked else "down",
    }
    data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
