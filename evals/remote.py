"""Ask a running civicbot server over HTTP, through Gradio's REST call API for the `ask` endpoint: what the fuzz
test and the load benchmark use to treat the server as a resident's browser would, from outside."""

import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Reply:
    """What one HTTP round trip brought back: the event Gradio closed with, and the answer object if any."""

    event: str
    answer: dict[str, Any] | None
    status: int

    @property
    def ok(self) -> bool:
        """Whether the server answered (an answer object, not an error event or an HTTP error)."""
        return self.status == 200 and self.event == "complete" and isinstance(self.answer, dict)


def ask(client: httpx.Client, base_url: str, question: str) -> Reply:
    """POST the question, then read the event stream until Gradio says the call is complete (or failed)."""
    base = base_url.rstrip("/")
    # Escaped as a browser's JSON.stringify would, so even a lone surrogate reaches the server as the browser sent it.
    body = json.dumps({"data": [question]}, ensure_ascii=True)
    started = client.post(f"{base}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"})
    if started.status_code != 200:
        return Reply("http_error", None, started.status_code)
    event_id = started.json()["event_id"]
    stream = client.get(f"{base}/gradio_api/call/ask/{event_id}")
    event, data = "", None
    for line in stream.text.splitlines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
    payload = json.loads(data) if data and data != "null" else None
    answer = payload[0] if isinstance(payload, list) and payload else None
    return Reply(event, answer if isinstance(answer, dict) else None, stream.status_code)
