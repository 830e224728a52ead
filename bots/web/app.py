"""The HTTP app (ASGI): Slack's requests at ``POST /slack/events``, the calendar feeds
(``GET /feeds/...``, see ``bots.web.feeds``) and ``GET /healthz``.

Served by uvicorn (``focal serve``); several copies can run behind a reverse proxy, since all
their state is in the database. Slack's requests go to the Bolt app untouched: Bolt verifies
each one (signature, 5-minute window) before anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import TYPE_CHECKING

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bots.web.feeds import feed_routes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request

    from bots.slack.app import FocalSlackApp
    from config.wiring import App

log = logging.getLogger("focal.web")

#: How long /healthz waits for the database before it says it is unreachable.
HEALTH_TIMEOUT = 3.0
#: How long a stopping app lets acknowledged Slack requests finish (their replies, receipts).
FINISH_TIMEOUT = 30.0


def _database_state(focal: App) -> str:
    with focal.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return "ok"


def build_web_app(focal: App, *, bolt: FocalSlackApp | None = None) -> Starlette:
    """The ASGI app. Without ``bolt`` (Slack not configured) the Slack endpoint answers 503."""
    handler = AsyncSlackRequestHandler(bolt) if bolt is not None else None

    async def slack_events(request: Request) -> Response:
        if handler is None:
            return PlainTextResponse(
                "Slack is not configured (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN)", status_code=503
            )
        return await handler.handle(request)

    async def healthz(_request: Request) -> Response:
        try:
            state = await asyncio.wait_for(
                asyncio.to_thread(_database_state, focal), timeout=HEALTH_TIMEOUT
            )
        except Exception as error:  # noqa: BLE001 - any failure is "unreachable", said plainly
            log.warning("health check: the database is unreachable: %s", error)
            return JSONResponse(
                {"status": "unavailable", "database": f"unreachable: {type(error).__name__}"},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": state})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # What is built at start-up lives as long as the process: keep the collector off it,
        # so that its full passes (which stop every request) stay short.
        if bolt is not None:  # the service workers up and connected before the first request
            await bolt.start_workers()
        gc.collect()
        gc.freeze()
        yield
        if bolt is not None:  # what Slack was told is under way gets done
            await bolt.close(FINISH_TIMEOUT)

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *feed_routes(focal),
        ],
    )
