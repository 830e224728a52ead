"""Focal's side of the connection to Slack: the Web API client and the response URLs, over one
HTTP session kept for the process (opened on first use: it needs the running event loop)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.webhook.async_client import AsyncWebhookClient

if TYPE_CHECKING:
    from slack_sdk.http_retry.async_handler import AsyncRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("focal.slack")

#: Seconds a call to Slack may take (Web API calls and response URLs alike).
SLACK_TIMEOUT = 10


def slack_retries() -> list[AsyncRetryHandler]:
    """Retries on lost connections, 429 and 5xx: nothing Focal sends would harm twice (views,
    ephemeral replies, receipts)."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class SlackConnection:
    """The bot's client and its replies at response URLs, sharing kept-alive connections."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT)
            )
            self.client.session = self._session
        return self._session

    def api(self) -> AsyncWebClient:
        """The Web API client, on the shared session."""
        self._http()
        return self.client

    async def respond(self, url: str, text: str, **fields: Any) -> None:  # noqa: ANN401
        """An ephemeral reply at a request's ``response_url``."""
        hook = AsyncWebhookClient(
            url, timeout=SLACK_TIMEOUT, session=self._http(), retry_handlers=slack_retries()
        )
        answer = await hook.send_dict({"text": text, "response_type": "ephemeral", **fields})
        if answer.status_code != 200:  # noqa: PLR2004
            log.warning("Slack refused a reply at a response URL: %s", answer.status_code)

    async def post(self, user_id: str, text: str) -> None:
        """A direct message (the bot's conversation with ``user_id``)."""
        await self.api().chat_postMessage(channel=user_id, text=text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None
