"""The JSON HTTP API under /api/v1: ask (the same answer path as the chat) and health, every error as
{"error": "one-line reason"}; and the body-size limit that guards it."""

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.answer import Answerer
from bot.errors import BadQuestion, IndexUnavailable
from bot.language import detect_language, message
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.records import Answer

logger = logging.getLogger(__name__)

PREFIX = "/api/v1"
MAX_BODY_BYTES = 16 * 1024
CHANNEL = "api"


class AskRequest(BaseModel):
    """A question, with the asker's earlier questions for follow-ups and their language for civicbot's own words."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="the resident's question")
    history: list[str] = Field(
        default_factory=list, max_length=20, description="earlier questions of the conversation, oldest first"
    )
    language: Literal["en", "es"] | None = Field(
        default=None, description="the asker's language, for a refusal when the question itself is unusable"
    )


class CitationOut(BaseModel):
    """One numbered source of an answer."""

    model_config = ConfigDict(extra="allow")

    n: int
    passage_id: str
    document: str
    source: str
    date: str
    text: str
    score: float


class AnswerOut(BaseModel):
    """The JSON answer object of civicbot's contract."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    language: str
    kind: str
    latency_ms: float


class HealthOut(BaseModel):
    """The server is ready: what it answers from."""

    status: Literal["ok"]
    index_version: str | None
    passages: int


class ErrorOut(BaseModel):
    """Why a request was not answered."""

    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": what}
    for code, what in (
        (400, "the body is not JSON"),
        (413, "the body is larger than 16 KB"),
        (422, "a field is missing, unknown or of the wrong type"),
        (429, "over the rate limit; the Retry-After header says in how many seconds to try again"),
        (503, "still starting, or the index cannot be read"),
    )
}


@dataclass
class ApiContext:
    """What the API routes need: the answerer, the pool answers run in, the limiter and the metrics."""

    answerer: Answerer
    pool: Executor
    limiter: RateLimiter
    metrics: Metrics
    started: Callable[[], bool]


def error(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error response in the API's one shape."""
    return JSONResponse({"error": reason}, status_code=status, headers=headers)


def answer_request(answerer: Answerer, body: AskRequest) -> Answer:
    """The answer to one request; an unusable question is an abstention that says why, as everywhere else."""
    try:
        return answerer.ask(body.question, history=body.history)
    except BadQuestion as exc:
        question = body.question.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates in the reply
        language = body.language or (detect_language(question) if question.strip() else "en")
        return answerer.refusal(question, message(language, exc.key) if exc.key else str(exc), language)


def index_state(answerer: Answerer) -> tuple[str, int] | None:
    """The live index version and its passage count, or None before the index is loaded."""
    retriever = answerer.retriever
    if not retriever.ready:
        return None
    snapshot = retriever.current()
    return str(snapshot.versions[0] or "unversioned"), len(snapshot.passages)


def api_router(ctx: ApiContext) -> APIRouter:
    """The /api/v1 routes over one answerer."""
    router = APIRouter(prefix=PREFIX)

    @router.post("/ask", response_model=AnswerOut, responses=ERRORS, summary="Answer a question from the sources")
    async def ask(body: AskRequest, request: Request) -> Response:
        if not ctx.started():
            return error(503, "civicbot is still starting")
        if ctx.limiter.enabled:
            peer = request.client.host if request.client else None
            verdict = ctx.limiter.hit(ctx.limiter.client(peer, request.headers))
            if not verdict.allowed:
                ctx.metrics.limited(CHANNEL)
                reason = f"too many questions; try again in {verdict.retry_after_s} seconds"
                return error(429, reason, {"Retry-After": str(verdict.retry_after_s)})
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(ctx.pool, partial(answer_request, ctx.answerer, body))
        except IndexUnavailable as exc:
            ctx.metrics.error(CHANNEL, "unavailable")
            return error(503, str(exc))
        ctx.metrics.observe(answer, CHANNEL)
        return JSONResponse(answer.to_dict())

    @router.get("/health", response_model=HealthOut, responses={503: ERRORS[503]}, summary="Readiness")
    async def health() -> Response:
        state = index_state(ctx.answerer) if ctx.started() else None
        if state is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        version, passages = state
        return JSONResponse({"status": "ok", "index_version": version, "passages": passages})

    @router.api_route(
        "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], include_in_schema=False
    )
    async def unknown(rest: str, request: Request) -> Response:
        if rest in {"ask", "health"}:
            return error(405, f"{request.method} is not allowed on {PREFIX}/{rest}")
        return error(404, f"no such route: {PREFIX}/{rest}")

    return router


def validation_reason(exc: RequestValidationError) -> tuple[int, str]:
    """The status and one-line reason for a body FastAPI could not read (400 for non-JSON, else 422)."""
    errors = list(exc.errors())
    if not errors:
        return 422, "the request is invalid"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    kind = first.get("type", "")
    if kind == "json_invalid":
        return 400, "the body is not valid JSON"
    if kind == "extra_forbidden":
        return 422, f"unknown field {where!r}"
    if kind == "missing":
        return 422, f"missing field {where!r}" if where else "a JSON object body is required"
    return 422, f"{where or 'body'}: {first.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    """Make every error of the app's own routes a JSON {"error": ...} (the mounted chat keeps its own)."""

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        status, reason = validation_reason(exc)
        metrics.error(CHANNEL, "bad_request")
        return error(status, reason)

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        metrics.error(CHANNEL, "bad_request" if exc.status_code < 500 else "internal")
        return error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    async def on_crash(request: Request, exc: Exception) -> Response:
        # The type only: a message could hold what the resident wrote.
        logger.error("request failed: %s", type(exc).__name__)
        metrics.error(CHANNEL if request.url.path.startswith(PREFIX) else "chat", "internal")
        return error(500, "internal error")

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


class BodyLimit:
    """Refuse, with 413, a request under a path prefix whose body is over the limit, before anything parses it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, prefix: str = PREFIX, metrics: Metrics | None = None):
        self.app = app
        self.limit = limit
        self.prefix = prefix
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        # Read at most limit + 1 bytes whatever the header claims (chunked bodies have none).
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                break
            chunks.append(msg.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.metrics is not None:
            self.metrics.error(CHANNEL, "too_large")
        await error(413, f"the request body is over {self.limit // 1024} KB")(scope, receive, send)
