"""Residents' thumbs up/down, appended to a JSONL file for staff: no IP, no cookies, nothing else personal."""

import datetime as dt
import json
import os
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def record_vote(path: Path, answer: dict[str, Any], liked: bool) -> None:
    """Append one vote as a single line with one write call; earlier lines are never rewritten or truncated."""
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
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            size = os.fstat(fd).st_size
            # A process killed mid-write can leave a last line without its newline: start ours on a line of its own
            # so that fragment stays one unreadable line and every row after it reads.
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
