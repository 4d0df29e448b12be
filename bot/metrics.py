"""Prometheus metrics of one server: answers by kind and language, latency, rate-limited questions, errors, and the
index being served. Each Metrics owns its registry, so several apps (in tests) never share counts."""

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.records import Answer

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Answers take tens of milliseconds when idle and up to seconds under load.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# What the index being served looks like now: (live version, passages), or None before it is loaded.
IndexState = Callable[[], tuple[str, int] | None]


class _IndexCollector(Collector):
    """Reads the index version and passage count when scraped, so they are never stale."""

    def __init__(self, state: IndexState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        current = self.state()
        ready = GaugeMetricFamily("civicbot_ready", "1 once the models and the index are loaded")
        ready.add_metric([], 1.0 if current else 0.0)
        yield ready
        if current is None:
            return
        version, passages = current
        info = InfoMetricFamily("civicbot_index", "the index version being served")
        info.add_metric([], {"version": version})
        yield info
        yield GaugeMetricFamily("civicbot_index_passages", "passages in the index being served", value=passages)


class Metrics:
    """The counters a server updates as it answers; `render()` is the /metrics body."""

    def __init__(self, index_state: IndexState | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.answers = Counter(
            "civicbot_answers",
            "answers given, by kind (answer, out_of_scope, legal_advice, invalid), language and channel",
            ["kind", "language", "channel"],
            registry=self.registry,
        )
        self.abstentions = Counter(
            "civicbot_abstentions",
            "answers that abstained or refused, by kind and channel",
            ["kind", "channel"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "civicbot_answer_latency_seconds",
            "time spent on the answer path per question",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "civicbot_rate_limited",
            "questions refused because the client was over the rate limit",
            ["channel"],
            registry=self.registry,
        )
        self.errors = Counter(
            "civicbot_errors",
            "requests that failed, by channel and reason (bad_request, too_large, unavailable, internal)",
            ["channel", "reason"],
            registry=self.registry,
        )
        if index_state is not None:
            self.registry.register(_IndexCollector(index_state))

    def observe(self, answer: Answer, channel: str) -> None:
        """Count one answer (an abstention too) and its latency."""
        self.answers.labels(answer.kind, answer.language, channel).inc()
        if answer.abstained:
            self.abstentions.labels(answer.kind, channel).inc()
        self.latency.labels(channel).observe(answer.latency_ms / 1000)

    def limited(self, channel: str) -> None:
        """Count one question refused by the rate limit."""
        self.rate_limited.labels(channel).inc()

    def error(self, channel: str, reason: str) -> None:
        """Count one failed request."""
        self.errors.labels(channel, reason).inc()

    def render(self) -> bytes:
        """Every metric in Prometheus's text format."""
        return generate_latest(self.registry)
