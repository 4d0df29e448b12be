"""One HTTP server for everything `civicbot serve` offers: the JSON API, /metrics and the web chat, on one port."""

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from bot.answer import Answerer
from bot.api import ApiContext, BodyLimit, api_router, index_state, install_error_handlers
from bot.config import Settings
from bot.metrics import CONTENT_TYPE, Metrics
from bot.ratelimit import RateLimiter
from bot.ui import build_app, mount

# Answers hold the GIL for their Python steps and release it inside the models, where questions that wait together
# are embedded in one call (bot/embeddings.py): eight threads served the most answers per second on two cores (four
# left the model idle between short calls; more only queue).
ANSWER_THREADS = 8


def create_app(
    answerer: Answerer, settings: Settings, limiter: RateLimiter | None = None, metrics: Metrics | None = None
) -> FastAPI:
    """The JSON API under /api/v1, /metrics, and the chat at /, sharing one answerer, one limiter and one registry."""
    limiter = limiter or RateLimiter.from_settings(settings)
    metrics = metrics or Metrics(index_state=lambda: index_state(answerer))
    pool = ThreadPoolExecutor(max_workers=ANSWER_THREADS, thread_name_prefix="answer")
    started = threading.Event()
    app = FastAPI(
        title="civicbot",
        summary="Answers residents' questions from cited source passages.",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the docs page loads its scripts from a CDN; civicbot serves offline
        redoc_url=None,
    )
    install_error_handlers(app, metrics)
    app.add_middleware(BodyLimit, metrics=metrics)
    app.include_router(api_router(ApiContext(answerer, pool, limiter, metrics, started.is_set)))

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    mount(app, build_app(answerer, settings, limiter, metrics))
    # The chat's queue starts in the lifespan that mounting installed; the server is ready once it has run.
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(target: FastAPI) -> AsyncIterator[Any]:
        async with inner(target) as state:
            started.set()
            yield state
        started.clear()
        pool.shutdown(wait=False, cancel_futures=True)

    app.router.lifespan_context = lifespan
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; raises OSError (port in use, bad address) before anything is served."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
        0
    ]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def uvicorn_server(app: FastAPI) -> uvicorn.Server:
    """A uvicorn server for the app that logs no client addresses and reads no forwarding headers itself: who the
    client is, behind a trusted proxy, is the rate limiter's call."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def local_url(host: str, port: int) -> str:
    """The address a person on this machine opens."""
    shown = "127.0.0.1" if host in {"0.0.0.0", "", "::"} else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def serve(answerer: Answerer, settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve until interrupted; prints the local URL once the server accepts connections."""
    sock = bind(host, port)
    server = uvicorn_server(create_app(answerer, settings))

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"* Running on local URL:  {local_url(host, port)}", flush=True)
            print(f"* JSON API: {local_url(host, port)}api/v1/ask  metrics: {local_url(host, port)}metrics", flush=True)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    server.run(sockets=[sock])
