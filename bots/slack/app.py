"""The ``/focal`` Slack app: async Bolt, its listeners registered on one ``AsyncApp``.

Every HTTP request is verified by Bolt (signature and its 5-minute window) before any listener
runs; a request replayed inside that window is refused as well. Listeners ``ack()`` at once (the
answer Slack waits for never waits on the database), hand the rest to ``FocalBot``'s backlog and
return: Bolt answers as soon as the listener returns (``process_before_response``), rather than
looking every 10 ms whether a listener running beside it has acknowledged yet.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.connection import SLACK_TIMEOUT, SlackConnection, slack_retries
from bots.slack.console import (
    ConsoleConnection,
    ConsoleOutbox,
    authorize_locally,
    console_middleware,
)
from bots.slack.listeners import FocalBot
from bots.slack.messages import NOT_APPLICABLE_ACTION, SNOOZE_ACTION, SUBMIT_ACTION
from bots.slack.views import NOT_APPLICABLE_VIEW, SUBMIT_VIEW
from bots.slack.workers import ProcessWorkers
from core.commands import Submit, parse_command

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_bolt.request.async_request import AsyncBoltRequest

    from bots.slack.workers import ServiceWorkers
    from config.wiring import App

log = logging.getLogger("focal.slack")

#: How long Slack accepts a request's timestamp; a signature seen within it is a replay.
REPLAY_WINDOW = 5 * 60 + 30
#: Longer than any ``/focal submit CODE`` (codes are short), shorter than any with a text.
MODAL_COMMAND_MAX = 200


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
        timeout=SLACK_TIMEOUT,
        retry_handlers=slack_retries(),
    )


class FocalSlackApp(AsyncApp):
    """Bolt's app, with the bot behind its listeners (``start_workers`` before serving, ``close`` at
    shutdown)."""

    bot: FocalBot

    async def start_workers(self) -> None:
        """Start the service workers (they connect to the database) before the first request."""
        await self.bot.workers.start()

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - a deadline for the backlog
        """Let acknowledged work finish (within ``timeout`` seconds), then let go of Slack."""
        await self.bot.close(timeout)


def default_workers(focal: App) -> ProcessWorkers:
    """Worker processes for the services: one on SQLite (it writes one transaction at a time),
    two on PostgreSQL (one works while the other waits for the server)."""
    sqlite = focal.engine.dialect.name == "sqlite"
    return ProcessWorkers(focal.settings, processes=1 if sqlite else 2)


def build_bolt_app(
    focal: App, *, client: AsyncWebClient | None = None, workers: ServiceWorkers | None = None
) -> FocalSlackApp:
    """The Bolt app for this office. Needs ``SLACK_SIGNING_SECRET``; without ``SLACK_BOT_TOKEN``
    it runs in console mode (``bots.slack.console``): nothing goes to Slack. The services run in
    ``workers`` (default: worker processes, see ``bots.slack.workers``)."""
    settings = focal.settings
    if settings.slack_signing_secret is None:
        raise ValueError("the Slack app needs SLACK_SIGNING_SECRET")
    console = settings.slack_bot_token is None and client is None
    connection: SlackConnection = (
        ConsoleConnection(ConsoleOutbox(focal))
        if console
        else SlackConnection(client or build_web_client(focal))
    )
    app = FocalSlackApp(
        client=connection.client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        authorize=authorize_locally if console else None,
        # The listeners return right after ack(), the rest queued in the bot's backlog: the
        # answer leaves when they return, not at Bolt's next 10 ms look for an ack.
        process_before_response=True,
        logger=log,
    )
    if isinstance(connection, ConsoleConnection):
        app.middleware(console_middleware(connection))
    app.bot = FocalBot(focal, connection, workers or default_workers(focal))
    _listen(app, app.bot)
    return app


#: The buttons that open a modal (with a trigger id valid for 3 seconds).
MODAL_ACTIONS = frozenset({SUBMIT_ACTION, NOT_APPLICABLE_ACTION})


def opens_modal(text: str) -> bool:
    """Whether ``/focal text`` opens the submit modal (``submit`` or ``submit CODE``): its work
    goes first, since the trigger id expires 3 seconds after the command. Only short texts are
    parsed (a command with an input's text never opens one), keeping the answer quick."""
    if len(text) > MODAL_COMMAND_MAX:
        return False
    command = parse_command(text)
    return isinstance(command, Submit) and command.text is None


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
    async def on_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        bot.backlog.add(bot.on_command, body, urgent=opens_modal(body.get("text") or ""))

    async def on_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]["action_id"]
        bot.backlog.add(bot.on_button, body, urgent=action in MODAL_ACTIONS)

    for action_id in (SUBMIT_ACTION, SNOOZE_ACTION, NOT_APPLICABLE_ACTION):
        app.action(action_id)(on_button)

    # A modal's answer waits for its write: a refusal is shown in the form (a few ms; the
    # backlog keeps the service workers' queue short, so it never waits behind a burst).
    app.view(SUBMIT_VIEW)(bot.on_submit_view)
    app.view(NOT_APPLICABLE_VIEW)(bot.on_not_applicable_view)
