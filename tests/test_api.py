"""The HTTP API beside the chat: who a client is behind proxies, the rate limit and the metrics (fast, no models);
then the real `civicbot serve` app over real HTTP on 127.0.0.1 (slow): ask, health, bad input, 429, metrics."""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from bot.answer import Answerer
from bot.config import Settings
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter, client_address, parse_networks
from bot.records import Answer
from tests.conftest import ARTIFACTS, serving

QUESTION = "Can ICE use city-owned property?"

# -- fast: no models ------------------------------------------------------------------------------------------------


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    nobody = parse_networks([])
    proxies = parse_networks(["10.0.0.0/8", "127.0.0.1"])
    assert client_address("203.0.113.9", "198.51.100.1", nobody) == "203.0.113.9"
    assert client_address("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9"  # not from a proxy we trust
    assert client_address("127.0.0.1", "198.51.100.1", proxies) == "198.51.100.1"
    # A client may send its own header: only what our proxies appended counts, read from the right.
    assert client_address("10.0.0.5", "1.2.3.4, 198.51.100.1, 10.0.0.7", proxies) == "198.51.100.1"
    assert client_address("10.0.0.5", "10.0.0.9, 10.0.0.7", proxies) == "10.0.0.9"  # all ours: the farthest
    assert client_address("10.0.0.5", "not-an-ip, 10.0.0.7", proxies) == "10.0.0.7"
    assert client_address("10.0.0.5", "", proxies) == "10.0.0.5"
    assert client_address("::1", "2001:db8::1", parse_networks(["::1"])) == "2001:db8::1"
    assert client_address(None, "198.51.100.1", proxies) == "unknown"


def test_the_rate_limit_counts_per_client_and_says_when_to_retry() -> None:
    limiter = RateLimiter("2/minute")
    assert limiter.enabled and limiter.hit("a").allowed and limiter.hit("a").allowed
    refused = limiter.hit("a")
    assert not refused.allowed and 1 <= refused.retry_after_s <= 60
    assert limiter.hit("b").allowed
    assert not RateLimiter(None).enabled and RateLimiter(None).hit("a").allowed
    both = RateLimiter("1/second;3/minute")
    assert both.hit("c").allowed and not both.hit("c").allowed


def test_rate_limit_and_proxies_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICBOT_RATE_LIMIT", "30/minute")
    monkeypatch.setenv("CIVICBOT_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    settings = Settings()
    assert settings.rate_limit == "30/minute" and settings.trusted_proxies == ["10.0.0.1", "192.168.0.0/16"]
    limiter = RateLimiter.from_settings(settings)
    assert limiter.client("192.168.4.4", {"x-forwarded-for": "198.51.100.7"}) == "198.51.100.7"
    monkeypatch.delenv("CIVICBOT_RATE_LIMIT")
    assert Settings().rate_limit is None  # off unless set
    for name, bad in (("CIVICBOT_RATE_LIMIT", "lots"), ("CIVICBOT_TRUSTED_PROXIES", "proxy.internal")):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValidationError):
            Settings()
        monkeypatch.delenv(name)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_answers_refusals_limits_and_errors_in_their_own_registry() -> None:
    metrics = Metrics(index_state=lambda: ("passages__v7", 13))
    other = Metrics()  # a second app's metrics share nothing with the first's
    metrics.observe(Answer("q", "a [1].", False, language="es", latency_ms=40.0), "api")
    metrics.observe(Answer("q", "not covered", True, kind="out_of_scope", latency_ms=20.0), "chat")
    metrics.limited("chat")
    metrics.error("api", "bad_request")
    got = _samples(metrics.render().decode())
    assert got[("civicbot_answers_total", (("channel", "api"), ("kind", "answer"), ("language", "es")))] == 1
    assert got[("civicbot_abstentions_total", (("channel", "chat"), ("kind", "out_of_scope")))] == 1
    assert got[("civicbot_rate_limited_total", (("channel", "chat"),))] == 1
    assert got[("civicbot_errors_total", (("channel", "api"), ("reason", "bad_request")))] == 1
    assert got[("civicbot_answer_latency_seconds_count", (("channel", "api"),))] == 1
    assert got[("civicbot_index_info", (("version", "passages__v7"),))] == 1
    assert got[("civicbot_index_passages", ())] == 13 and got[("civicbot_ready", ())] == 1
    assert "civicbot_answers_total{" not in other.render().decode()
    assert _samples(Metrics(index_state=lambda: None).render().decode())[("civicbot_ready", ())] == 0


# -- slow: the real app over real HTTP ------------------------------------------------------------------------------


def _post(url: str, body: object, **kw: object) -> httpx.Response:
    return httpx.post(f"{url}api/v1/ask", json=body, timeout=60, **kw)  # type: ignore[arg-type]


def _counter(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}metrics", timeout=30).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@pytest.mark.slow
def test_ask_answers_with_citations_like_the_chat(server: tuple[str, Settings]) -> None:
    url, _ = server
    reply = _post(url, {"question": QUESTION})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    answer = reply.json()
    assert answer["abstained"] is False and answer["citations"][0]["passage_id"].endswith("#p3")
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])} == {c["n"] for c in answer["citations"]}
    follow = _post(url, {"question": "Can they use it without a warrant?", "history": [QUESTION], "language": "en"})
    assert follow.status_code == 200 and follow.json()["question"] == "Can they use it without a warrant?"
    out = _post(url, {"question": "What are the opening hours of the MVA?"}).json()
    assert out["abstained"] is True and out["kind"] == "out_of_scope"


@pytest.mark.slow
def test_an_unusable_question_is_an_abstention_in_the_askers_language(server: tuple[str, Settings]) -> None:
    url, settings = server
    empty = _post(url, {"question": "   ", "language": "es"})
    assert empty.status_code == 200
    assert empty.json()["abstained"] is True and empty.json()["kind"] == "invalid"
    assert empty.json()["language"] == "es" and "escriba una pregunta" in empty.json()["answer"]
    long = _post(url, {"question": "why " * 1000}).json()
    assert long["kind"] == "invalid" and str(settings.max_question_chars) in long["answer"]
    lone = httpx.post(
        f"{url}api/v1/ask",
        content=b'{"question": "\\ud800 ICE?"}',
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert lone.status_code == 200 and "answer" in lone.json()


@pytest.mark.slow
def test_health_names_the_index_being_served(server: tuple[str, Settings]) -> None:
    url, _ = server
    reply = httpx.get(f"{url}api/v1/health", timeout=30)
    assert reply.status_code == 200
    health = reply.json()
    assert health["status"] == "ok" and health["index_version"] and health["passages"] >= 13


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"question": 42}', 422, "question"),
        (b'{"question": ["a"]}', 422, "question"),
        (b'{"question": "hi", "history": "hi"}', 422, "history"),
        (b'{"question": "hi", "language": "fr"}', 422, "language"),
        (b'{"question": "hi", "admin": true}', 422, "unknown field 'admin'"),
        (b'{"history": []}', 422, "missing field 'question'"),
        (b'["a question"]', 422, "body"),
        (b"", 422, "body"),
    ],
)
def test_bad_requests_are_4xx_with_a_one_line_reason(
    server: tuple[str, Settings], body: bytes, status: int, says: str
) -> None:
    url, _ = server
    reply = httpx.post(f"{url}api/v1/ask", content=body, headers={"content-type": "application/json"}, timeout=30)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert says in error and "\n" not in error and len(error) < 200


@pytest.mark.slow
def test_an_oversize_body_is_refused_before_it_is_parsed(server: tuple[str, Settings]) -> None:
    url, _ = server
    big = json.dumps({"question": "x" * 20_000}).encode()
    declared = httpx.post(f"{url}api/v1/ask", content=big, headers={"content-type": "application/json"}, timeout=30)
    assert declared.status_code == 413 and "16 KB" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is counted as the body arrives
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    streamed = httpx.post(f"{url}api/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


@pytest.mark.slow
def test_wrong_method_and_route_are_json_errors_and_the_schema_is_published(server: tuple[str, Settings]) -> None:
    url, _ = server
    assert httpx.get(f"{url}api/v1/ask", timeout=30).status_code == 405
    missing = httpx.get(f"{url}api/v1/nothing", timeout=30)
    assert missing.status_code == 404 and "error" in missing.json()
    schema = httpx.get(f"{url}api/v1/openapi.json", timeout=30).json()
    assert {"/api/v1/ask", "/api/v1/health"} <= set(schema["paths"])
    body = schema["components"]["schemas"]["AskRequest"]
    assert set(body["properties"]) == {"question", "history", "language"} and body["required"] == ["question"]


@pytest.mark.slow
def test_metrics_go_up_with_answers_from_the_api_and_the_gradio_endpoint(server: tuple[str, Settings]) -> None:
    from gradio_client import Client

    url, _ = server
    api_before = _counter(url, "civicbot_answers_total", channel="api", kind="answer")
    gradio_before = _counter(url, "civicbot_answers_total", channel="gradio")
    latency_before = _counter(url, "civicbot_answer_latency_seconds_count", channel="api")
    errors_before = _counter(url, "civicbot_errors_total", channel="api", reason="bad_request")
    assert _post(url, {"question": QUESTION}).status_code == 200
    Client(url, verbose=False).predict(QUESTION, api_name="/ask")
    httpx.post(f"{url}api/v1/ask", content=b"{", headers={"content-type": "application/json"})
    assert _counter(url, "civicbot_answers_total", channel="api", kind="answer") == api_before + 1
    assert _counter(url, "civicbot_answers_total", channel="gradio") == gradio_before + 1
    assert _counter(url, "civicbot_answer_latency_seconds_count", channel="api") == latency_before + 1
    assert _counter(url, "civicbot_errors_total", channel="api", reason="bad_request") == errors_before + 1
    text = httpx.get(f"{url}metrics", timeout=30).text
    assert "civicbot_index_info{version=" in text and re.search(r"^civicbot_index_passages \d", text, re.M)


# -- rate limits: servers of their own, with a low limit ----------------------------------------------------------

StartApp = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def limited(answerer: Answerer, settings: Settings) -> StartApp:
    """Start the real app over the session's answerer with a rate limit (and trusted proxies) of a test's own."""
    from bot.server import create_app

    def start(rate_limit: str, trusted_proxies: list[str] | None = None) -> AbstractContextManager[str]:
        own = settings.model_copy(update={"rate_limit": rate_limit, "trusted_proxies": trusted_proxies or []})
        return serving(create_app(answerer, own))

    return start


@pytest.mark.slow
def test_over_the_limit_is_429_with_retry_after_whatever_the_client_claims(limited: StartApp) -> None:
    with limited("3/minute") as url:
        for i in range(3):
            assert _post(url, {"question": QUESTION}, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code == 200
        # The peer is not a trusted proxy: a new X-Forwarded-For does not make a new client.
        refused = _post(url, {"question": QUESTION}, headers={"X-Forwarded-For": "198.51.100.99"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60 and "try again" in refused.json()["error"]
        assert _counter(url, "civicbot_rate_limited_total", channel="api") == 1
        assert httpx.get(f"{url}api/v1/health", timeout=30).status_code == 200  # health is never limited
        assert httpx.get(f"{url}metrics", timeout=30).status_code == 200


@pytest.mark.slow
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(limited: StartApp) -> None:
    with limited("2/minute", trusted_proxies=["127.0.0.1"]) as url:
        alice, bob = {"X-Forwarded-For": "203.0.113.5"}, {"X-Forwarded-For": "203.0.113.6"}
        assert [_post(url, {"question": QUESTION}, headers=alice).status_code for _ in range(3)] == [200, 200, 429]
        assert _post(url, {"question": QUESTION}, headers=bob).status_code == 200
        # A client's own header in front of the proxy's entry does not change who it is.
        spoofed = {"X-Forwarded-For": "192.0.2.1, 203.0.113.5"}
        assert _post(url, {"question": QUESTION}, headers=spoofed).status_code == 429


@pytest.mark.slow
def test_the_gradio_endpoint_shares_the_limit(limited: StartApp) -> None:
    from gradio_client import Client

    with limited("1/minute") as url:
        assert _post(url, {"question": QUESTION}).status_code == 200
        with pytest.raises(Exception, match="many questions"):
            Client(url, verbose=False).predict(QUESTION, api_name="/ask")
        assert _counter(url, "civicbot_rate_limited_total", channel="gradio") == 1


@pytest.mark.slow
@pytest.mark.browser
def test_the_chat_counts_answers_and_says_kindly_when_to_wait(limited: StartApp, browser) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    with limited("2/minute") as url:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(url)
        page.get_by_label("Your question").fill("Can the police help ICE?")
        page.get_by_role("button", name="Ask", exact=True).click()
        page.locator(".answer, .abstention").first.wait_for(timeout=30000)
        assert _counter(url, "civicbot_answers_total", channel="chat") == 1
        assert _post(url, {"question": QUESTION}).status_code == 200  # the API and the chat share one limit
        page.get_by_label("Your question").fill("What does the order say about schools?")
        page.get_by_role("button", name="Ask", exact=True).click()
        notice = page.locator(".notice").first
        notice.wait_for(timeout=15000)
        assert "You have asked many questions in a short time" in notice.inner_text()
        # The question stays typed, to send again, and the earlier answer stays readable.
        assert page.get_by_label("Your question").input_value() == "What does the order say about schools?"
        assert page.locator(".answer, .abstention").first.is_visible()
        page.get_by_label("Español").check()
        page.get_by_label("Su pregunta").fill("¿La policía ayuda a ICE?")
        page.get_by_role("button", name="Preguntar", exact=True).click()
        page.locator(".notice").nth(1).wait_for(timeout=15000)
        assert "Ha hecho muchas preguntas en poco tiempo" in page.locator(".notice").nth(1).inner_text()
        assert _counter(url, "civicbot_rate_limited_total", channel="chat") == 2
        page.screenshot(path=str(ARTIFACTS / "rate-limited.png"), full_page=True)
        page.close()
