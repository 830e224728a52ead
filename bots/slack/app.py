"""The ``/focal`` Slack app: async Bolt, its listeners registered on one ``AsyncApp``.

Every HTTP request is verified by Bolt (signature and its 5-minute window) before any listener
runs; a request replayed inside that window is refused as well. Listeners ``ack()`` at once (the
answer Slack waits for never waits on the database) and leave the rest to ``FocalBot``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.console import (
    ConsoleOutbox,
    ConsoleWebClient,
    authorize_locally,
    console_middleware,
)
from bots.slack.listeners import FocalBot
from bots.slack.messages import NOT_APPLICABLE_ACTION, SNOOZE_ACTION, SUBMIT_ACTION
from bots.slack.views import NOT_APPLICABLE_VIEW, SUBMIT_VIEW

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_bolt.context.respond.async_respond import AsyncRespond
    from slack_bolt.request.async_request import AsyncBoltRequest

    from config.wiring import App

log = logging.getLogger("focal.slack")

#: How long Slack accepts a request's timestamp; a signature seen within it is a replay.
REPLAY_WINDOW = 5 * 60 + 30


class ReplayGuard:
    """Signatures seen in the last ``REPLAY_WINDOW`` seconds (one process's memory)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._clock = clock

    def first_time(self, signature: str) -> bool:
        now = self._clock()
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)
        if signature in self._seen:
            return False
        self._seen[signature] = now + REPLAY_WINDOW
        return True


def build_web_client(focal: App) -> AsyncWebClient:
    """The bot's async client: ``FOCAL_SLACK_API_URL``, retries on 429, 5xx and lost
    connections (nothing it sends would be harmful twice: views, ephemeral replies, receipts)."""
    settings = focal.settings
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_bolt_app(focal: App, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app for this office. Needs ``SLACK_SIGNING_SECRET``; without
    ``SLACK_BOT_TOKEN`` it runs in console mode (``bots.slack.console``): nothing goes to Slack."""
    settings = focal.settings
    if settings.slack_signing_secret is None:
        raise ValueError("the Slack app needs SLACK_SIGNING_SECRET")
    console = settings.slack_bot_token is None
    if client is None:
        client = ConsoleWebClient(ConsoleOutbox(focal)) if console else build_web_client(focal)
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        authorize=authorize_locally if console else None,
        process_before_response=False,  # the ack goes out before the rest of the work
        logger=log,
    )
    if console:
        app.middleware(console_middleware(focal))
    _listen(app, FocalBot(focal))
    return app


def _listen(app: AsyncApp, bot: FocalBot) -> None:
    guard = ReplayGuard()

    @app.middleware
    async def refuse_replays(
        req: AsyncBoltRequest,
        resp: BoltResponse,  # noqa: ARG001 - Bolt passes arguments by name
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002 - Bolt's name
    ) -> BoltResponse:
        """Bolt has checked the signature and its age; a second copy of it is a replay."""
        signatures = req.headers.get("x-slack-signature") or []
        signature = signatures[0] if signatures else None
        if signature and not guard.first_time(signature):
            log.warning("refused a replayed request from Slack")
            return BoltResponse(status=401, body="")
        return await next()

    @app.command(bot.cmd)
    async def on_command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        await bot.on_command(body, client, respond)

    async def on_button(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        await bot.on_button(body, client, respond)

    for action_id in (SUBMIT_ACTION, SNOOZE_ACTION, NOT_APPLICABLE_ACTION):
        app.action(action_id)(on_button)

    @app.view(SUBMIT_VIEW)
    async def on_submit_view(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await bot.on_submit_view(ack, body, client)

    @app.view(NOT_APPLICABLE_VIEW)
    async def on_na_view(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await bot.on_not_applicable_view(ack, body, client)
