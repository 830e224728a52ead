"""``focal serve``: the HTTP app under uvicorn, or the Slack app over Socket Mode.

This is the HTTP side; the flows' schedules join it later. Logs say what is served where.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.wiring import App

log = logging.getLogger("focal.serve")


def serve_http(focal: App, *, host: str, port: int) -> None:
    """Serve ``POST /slack/events``, the feeds (``/feeds/...``) and ``/healthz`` until SIGINT or
    SIGTERM."""
    import uvicorn  # noqa: PLC0415 - only the server needs it

    from bots.slack.app import build_bolt_app  # noqa: PLC0415 - imports Bolt
    from bots.web.app import build_web_app  # noqa: PLC0415
    from bots.web.feeds import RedactFeedKeys  # noqa: PLC0415

    settings = focal.settings
    bolt = build_bolt_app(focal) if settings.slack_signing_secret is not None else None
    if bolt is None:
        log.warning("Slack is not configured: /slack/events answers 503")
    elif settings.slack_bot_token is None:
        log.warning(
            "no SLACK_BOT_TOKEN: /slack/events takes signed requests in console mode "
            "(replies go to the outbox table and this log, not to Slack)"
        )
    log.info(
        "serving on http://%s:%d (Slack at /slack/events, feeds at /feeds/, health at /healthz)",
        host,
        port,
    )
    logging.getLogger("uvicorn.access").addFilter(RedactFeedKeys())
    uvicorn.run(build_web_app(focal, bolt=bolt), host=host, port=port, log_level="info")


def serve_socket_mode(focal: App) -> None:
    """Take Slack's requests over a WebSocket (no public URL needed) until interrupted."""
    from slack_bolt.adapter.socket_mode.async_handler import (  # noqa: PLC0415
        AsyncSocketModeHandler,
    )

    from bots.slack.app import build_bolt_app  # noqa: PLC0415

    token = focal.settings.slack_app_token
    if token is None:
        raise ValueError("--socket-mode needs SLACK_APP_TOKEN (an xapp- token)")
    handler = AsyncSocketModeHandler(build_bolt_app(focal), token.get_secret_value())
    log.info("taking Slack's requests over Socket Mode")
    asyncio.run(handler.start_async())  # type: ignore[no-untyped-call]
