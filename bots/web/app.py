"""The HTTP app (ASGI): Slack's requests at ``POST /slack/events``, the calendar feeds
(``GET /feeds/...``, see ``bots.web.feeds``) and ``GET /healthz`` (the database, and when each
flow last ran and last succeeded).

Served by uvicorn (``focal serve``); several copies can run behind a reverse proxy, since all
their state is in the database. Slack's requests go to the Bolt app untouched: Bolt verifies
each one (signature, 5-minute window) before anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bots.web.feeds import feed_routes
from flows.schedules import flow_schedules
from services.flow_runs import flow_health

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from starlette.requests import Request

    from bots.slack.app import FocalSlackApp
    from config.wiring import App
    from core.runs import FlowRun

log = logging.getLogger("focal.web")

#: How long /healthz waits for the database before it says it is unreachable.
HEALTH_TIMEOUT = 3.0
#: How long a stopping app lets acknowledged Slack requests finish (their replies, receipts).
FINISH_TIMEOUT = 30.0


def _instant(at: datetime | None) -> str | None:
    """An instant as ``2026-09-03T02:00:00Z``: what ``jq``'s ``fromdate`` reads."""
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(run: FlowRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "outcome": run.outcome.value,
        "started": _instant(run.started_at),
        "finished": _instant(run.finished_at),
        "summary": run.summary,
    }


def _health(focal: App, flows: Sequence[str]) -> dict[str, Any]:
    """The database answers, and when each flow last ran and last did its job: a handful of
    indexed reads, cheap enough to be polled."""
    with focal.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {
        "status": "ok",
        "database": "ok",
        "flows": {
            health.flow: {
                "last_success": _instant(
                    health.last_success.finished_at if health.last_success else None
                ),
                "last_run": _run(health.last_run),
            }
            for health in flow_health(flows, uow=focal.uow())
        },
    }


def build_web_app(focal: App, *, bolt: FocalSlackApp | None = None) -> Starlette:
    """The ASGI app. Without ``bolt`` (Slack not configured) the Slack endpoint answers 503."""
    handler = AsyncSlackRequestHandler(bolt) if bolt is not None else None

    async def slack_events(request: Request) -> Response:
        if handler is None:
            return PlainTextResponse(
                "Slack is not configured (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN)", status_code=503
            )
        return await handler.handle(request)

    flows = [schedule.flow for schedule in flow_schedules(focal.settings.timezone)]

    async def healthz(_request: Request) -> Response:
        try:
            state = await asyncio.wait_for(
                asyncio.to_thread(_health, focal, flows), timeout=HEALTH_TIMEOUT
            )
        except Exception as error:  # noqa: BLE001 - any failure is "unreachable", said plainly
            log.warning("health check: the database is unreachable: %s", error)
            return JSONResponse(
                {"status": "unavailable", "database": f"unreachable: {type(error).__name__}"},
                status_code=503,
            )
        return JSONResponse(state)

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
