"""Delivery of reminders, the digest and review notices: to Slack, or to the outbox and console.

Exactly once on Slack: ``chat.postMessage`` is never re-sent blindly. Every message carries its
reminder keys as message metadata; when a post ends in a way that may have stored it (a dropped
connection, a timeout, a 5xx), the bot's recent history is searched for those keys before anything
is posted again. Only HTTP 429 is retried inside the client: Slack stores nothing then.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, cast
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import select

from bots.slack.messages import render_digest, render_plain, render_reminder, render_review
from bots.slack.transport import ConnectionPool, KeepAliveWebClient
from core.notices import (
    DIGEST_EVENT,
    REMINDER_EVENT,
    REVIEW_EVENT,
    Digest,
    ReminderMessage,
    ReviewNotice,
)
from db.models import OutboxRow, PersonRow
from services.ports import Delivery, DeliveryFailedError, DeliveryUncertainError

if TYPE_CHECKING:
    from collections.abc import Callable

    from slack_sdk import WebClient
    from slack_sdk.http_retry.handler import RetryHandler
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState
    from sqlalchemy.orm import Session, sessionmaker

    from bots.slack.messages import Rendered
    from config.settings import Settings
    from core.model import Person
    from services.ports import Notifier

#: Slack errors after which nothing was posted but a later try may succeed. Any other Slack error
#: (users_not_found, channel_not_found, invalid_auth, account_inactive, invalid_blocks...) is
#: permanent: the same call would fail again.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "service_unavailable", "request_timeout", "team_added_to_org"}
)
#: Slack errors after which the message may have been stored ("some aspect of the operation
#: succeeded", says Slack of fatal_error).
_MAYBE_STORED_ERRORS = frozenset({"fatal_error", "internal_error"})
#: Slack errors of a conversation that is not there for the bot: a remembered DM channel is
#: then forgotten and the person looked up again.
_GONE_CHANNEL_ERRORS = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
_SLACK_ERROR = re.compile(r"^[a-z0-9_]+$")  # slack_sdk puts a sentence there for a non-JSON body
_SERVER_ERRORS = frozenset({500, 502, 503, 504})
#: How far before the first post the history is searched, for our clock and Slack's to differ.
#: Finding an older message with the same keys is right too: that reminder was sent then.
_CLOCK_MARGIN = timedelta(minutes=5)
_HISTORY_PAGE = 200
_HISTORY_PAGES = 10
#: What urllib raises below HTTP: URLError, TimeoutError, RemoteDisconnected, IncompleteRead
_NetworkError = (OSError, HTTPException)


# ---------------------------------------------------------------- clients


class ServerErrorsRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503; Slack's front end also answers 502 and 504."""

    def _can_retry(
        self,
        *,
        state: RetryState,  # noqa: ARG002 - the base's signature
        request: HttpRequest,  # noqa: ARG002
        response: HttpResponse | None = None,
        error: Exception | None = None,  # noqa: ARG002
    ) -> bool:
        return response is not None and response.status_code in _SERVER_ERRORS


@dataclass(frozen=True, slots=True)
class SlackClients:
    """``read``: lookups and history, retried freely. ``post``: chat.postMessage, 429 only."""

    read: WebClient
    post: WebClient

    def close(self) -> None:
        """Close the connections kept open (a client that keeps none has nothing to close)."""
        for client in (self.read, self.post):
            if isinstance(client, KeepAliveWebClient):
                client.close()


def build_web_clients(
    *, token: str, base_url: str, timeout: float = 10, max_retries: int = 3
) -> SlackClients:
    """Two clients for one workspace, sharing one pool of kept-alive connections
    (bots/slack/transport.py). Retries share one count per call (slack_sdk's RetryState).

    ``WebClient`` adds the trailing slash ``base_url`` needs itself.
    """
    pool = ConnectionPool()
    rate_limited = RateLimitErrorRetryHandler(max_retry_count=max_retries)
    read_handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(
            max_retry_count=max_retries,
            # the built-in list leaves out a read timeout, which urllib raises bare
            error_types=[URLError, ConnectionResetError, HTTPException, TimeoutError],
        ),
        rate_limited,
        ServerErrorsRetryHandler(max_retry_count=max_retries),
    ]

    def client(handlers: list[RetryHandler]) -> WebClient:
        # ``timeout`` is typed int in slack_sdk, but only urllib uses it, and it takes a float
        seconds = cast("int", timeout)
        return KeepAliveWebClient(
            token=token, base_url=base_url, timeout=seconds, retry_handlers=handlers, pool=pool
        )

    return SlackClients(read=client(read_handlers), post=client([rate_limited]))


# ------------------------------------------------------------------- Slack


class _MaybePostedError(Exception):
    """The post ended in a way that may have stored the message."""


class _ChannelGoneError(Exception):
    """The conversation does not exist (or no longer lets the bot in): nothing was posted."""

    def __init__(self, slack: SlackApiError) -> None:
        super().__init__(str(slack))
        self.slack = slack


class _NotSentError(Exception):
    """The request never left (connection refused, unknown host): safe to post again."""


def _error_code(error: SlackApiError) -> str:
    data = error.response.data
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def _failure(what: str, error: SlackApiError) -> DeliveryFailedError:
    code = _error_code(error) or f"HTTP {error.response.status_code}"
    transient = code in _TRANSIENT_ERRORS or error.response.status_code >= 500  # noqa: PLR2004
    return DeliveryFailedError(f"{what}: Slack answered {code}", permanent=not transient)


def _may_have_posted(error: SlackApiError) -> bool:
    code = _error_code(error)
    return (
        error.response.status_code >= 500  # noqa: PLR2004
        or code in _MAYBE_STORED_ERRORS
        or not _SLACK_ERROR.match(code)
    )


def _never_sent(error: BaseException) -> bool:
    reason = error.reason if isinstance(error, URLError) else None
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


Message = ReminderMessage | Digest | ReviewNotice


def _metadata(message: Message) -> dict[str, Any]:
    if isinstance(message, ReviewNotice):
        event = REVIEW_EVENT
    else:
        event = DIGEST_EVENT if isinstance(message, Digest) else REMINDER_EVENT
    return {"event_type": event, "event_payload": {"keys": list(message.keys)}}


def _render(message: Message) -> Rendered:
    if isinstance(message, ReviewNotice):
        return render_review(message)
    if isinstance(message, Digest):
        return render_digest(message)
    return render_reminder(message)


class SlackNotifier:
    """The ``Notifier`` on Slack: reminders and review notices as direct messages, the digest
    to one channel."""

    def __init__(
        self,
        clients: SlackClients,
        *,
        digest_channel: str | None,
        max_post_attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._clients = clients
        self._wall_clock = wall_clock
        self._digest_channel = digest_channel
        self._max_post_attempts = max(1, max_post_attempts)
        self._backoff = backoff
        self._sleep = sleep
        self._lock = threading.Lock()
        self._user_ids: dict[str, str] = {}  # e-mail (lower case) -> Slack user id
        self._dm_channels: dict[str, str] = {}  # user id -> direct conversation id

    def close(self) -> None:
        """Close the connections to Slack kept open between messages."""
        self._clients.close()

    def send(self, message: Message) -> Delivery:
        remembered = None if isinstance(message, Digest) else message.address
        if remembered:
            try:
                return self._send_to(remembered, message)
            except _ChannelGoneError:
                pass  # that conversation is gone (another workspace?): look the person up
        channel = self._post_target(message)
        try:
            return self._send_to(channel, message)
        except _ChannelGoneError as error:
            raise _failure(f"posting to {channel}", error.slack) from error

    def _send_to(self, channel: str, message: Message) -> Delivery:
        rendered = _render(message)
        direct = not isinstance(message, Digest)
        since = self._wall_clock() - _CLOCK_MARGIN
        unsure: BaseException | None = None  # the last outcome that may have posted
        last_error: BaseException | None = None
        ever_unsure = False
        for attempt in range(self._max_post_attempts + 1):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            if unsure is not None:
                found = self._look(message, since=since)
                if found is None:
                    continue  # cannot tell: posting again could post twice
                if all(key in found for key in message.keys):
                    return found[message.keys[0]]
                unsure = None
            if attempt == self._max_post_attempts:
                break
            try:
                return self._post(channel, rendered, _metadata(message), remember=direct)
            except _MaybePostedError as error:
                unsure = last_error = error.__cause__
                ever_unsure = True
            except _NotSentError as error:
                last_error = error.__cause__
        if ever_unsure:
            raise DeliveryUncertainError(
                f"Slack may or may not have stored the message to {channel} "
                f"(keys {', '.join(message.keys)}): {last_error}"
            )
        raise DeliveryFailedError(f"could not reach Slack: {last_error}")

    def find_sent(self, message: Message, *, since: datetime) -> dict[str, Delivery]:
        """Raises ``DeliveryUncertainError`` when the history cannot be read."""
        channel = self._channel_for(message)
        event = _metadata(message)["event_type"]
        wanted = set(message.keys)
        found: dict[str, Delivery] = {}
        cursor: str | None = None
        # ``since`` is the run's own time, which may be ahead of Slack's (``--now`` in the
        # future, a fast clock): then the whole recent history is read instead
        oldest = f"{since.timestamp():.6f}" if since <= self._wall_clock() else None
        for _page in range(_HISTORY_PAGES):
            try:
                page = self._clients.read.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=_HISTORY_PAGE,
                    cursor=cursor,  # slack_sdk drops None arguments
                )
            except SlackApiError as error:
                reason = _error_code(error) or f"HTTP {error.response.status_code}"
                raise DeliveryUncertainError(f"cannot read {channel}: {reason}") from error
            except _NetworkError as error:
                raise DeliveryUncertainError(f"cannot read {channel}: {error}") from error
            for item in page.get("messages") or []:  # newest first: the oldest copy wins
                metadata = item.get("metadata") or {}
                if metadata.get("event_type") != event:
                    continue
                keys = (metadata.get("event_payload") or {}).get("keys") or []
                for key in wanted.intersection(keys):
                    found[key] = Delivery(channel, str(item["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    # ------------------------------------------------------------ internals

    def _look(self, message: Message, *, since: datetime) -> dict[str, Delivery] | None:
        try:
            return self.find_sent(message, since=since)
        except DeliveryUncertainError:
            return None

    def _post(
        self, channel: str, rendered: Rendered, metadata: dict[str, Any], *, remember: bool
    ) -> Delivery:
        try:
            answer = self._clients.post.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks_json(),
                metadata=metadata,
                unfurl_links=False,
            )
        except SlackApiError as error:
            if _may_have_posted(error):
                raise _MaybePostedError from error
            if _error_code(error) in _GONE_CHANNEL_ERRORS:
                raise _ChannelGoneError(error) from error
            raise _failure(f"posting to {channel}", error) from error
        except _NetworkError as error:
            if _never_sent(error):
                raise _NotSentError from error
            raise _MaybePostedError from error
        channel = str(answer["channel"])
        return Delivery(channel, str(answer["ts"]), address=channel if remember else None)

    def _post_target(self, message: Message) -> str:
        """Where to post: the digest channel, or the recipient's user id. Slack posts a bot's
        message to a user id in the bot's direct conversation with them, and answers with that
        conversation's id (kept as the person's address): no ``conversations.open`` first."""
        if isinstance(message, Digest):
            return self._digest()
        return self._user_id(message.recipient)

    def _channel_for(self, message: Message) -> str:
        """The conversation a message is in: the digest channel, or the direct conversation."""
        if isinstance(message, Digest):
            return self._digest()
        return self._dm_channel(self._user_id(message.recipient))

    def _digest(self) -> str:
        if not self._digest_channel:
            raise DeliveryFailedError("FOCAL_DIGEST_CHANNEL is not set", permanent=True)
        return self._digest_channel

    def _user_id(self, person: Person) -> str:
        if person.slack_user_id:
            return person.slack_user_id
        return self._cached(
            self._user_ids,
            person.email.strip().lower(),
            f"looking up {person.email}",
            lambda: self._clients.read.users_lookupByEmail(email=person.email)["user"]["id"],
        )

    def _dm_channel(self, user_id: str) -> str:
        return self._cached(
            self._dm_channels,
            user_id,
            f"opening a conversation with {user_id}",
            lambda: self._clients.read.conversations_open(users=user_id)["channel"]["id"],
        )

    def _cached(self, cache: dict[str, str], key: str, what: str, call: Callable[[], Any]) -> str:
        """``cache[key]``, else the answer of a read call, kept. Two threads may both call."""
        with self._lock:
            known = cache.get(key)
        if known:
            return known
        try:
            value = str(call())
        except SlackApiError as error:
            raise _failure(what, error) from error
        except _NetworkError as error:
            raise DeliveryFailedError(f"{what}: {error}") from error
        with self._lock:
            cache[key] = value
        return value


# ------------------------------------------------------------------ outbox


def _print_line(text: str) -> None:
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def _outbox_kind(message: Message) -> str:
    if isinstance(message, ReviewNotice):
        return "review"
    return "digest" if isinstance(message, Digest) else "reminders"


class OutboxNotifier:
    """The ``Notifier`` without Slack: each message becomes an ``outbox`` row and console text."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime],
        echo: Callable[[str], None] | None = _print_line,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._echo = echo

    def send(self, message: Message) -> Delivery:
        digest = isinstance(message, Digest)
        text = render_plain(message)
        with self._session_factory() as session, session.begin():
            person_id = None
            if not isinstance(message, Digest):
                person_id = session.scalar(
                    select(PersonRow.id).where(PersonRow.handle == message.recipient.handle)
                )
            row = OutboxRow(
                created_at=self._clock(),
                person_id=person_id,
                channel="digest" if digest else "console",
                kind=_outbox_kind(message),
                text=text,
                blocks=_render(message).blocks_json(),
                message_metadata=_metadata(message),
            )
            session.add(row)
            session.flush()
            row_id = row.id
        if self._echo is not None:
            to = (
                "the digest channel"
                if digest
                else f"{message.recipient.name} (@{message.recipient.handle})"  # type: ignore[union-attr]
            )
            self._echo(f"To {to}:\n{text}")
        return Delivery("outbox", str(row_id))

    def find_sent(self, message: Message, *, since: datetime) -> dict[str, Delivery]:
        metadata = _metadata(message)
        kind = _outbox_kind(message)
        wanted = set(message.keys)
        with self._session_factory() as session:
            query = select(OutboxRow).where(OutboxRow.kind == kind)
            if since <= self._clock():  # a run ahead of the clock reads everything
                query = query.where(OutboxRow.created_at >= since)
            rows = session.scalars(query.order_by(OutboxRow.id.desc())).all()
        found: dict[str, Delivery] = {}
        for row in rows:
            stored = row.message_metadata or {}
            if stored.get("event_type") != metadata["event_type"]:
                continue
            keys = (stored.get("event_payload") or {}).get("keys") or []
            for key in wanted.intersection(keys):
                found[key] = Delivery("outbox", str(row.id))
        return found


# ------------------------------------------------------------------ wiring


def build_notifier(
    settings: Settings,
    session_factory: sessionmaker[Session],
    clock: Callable[[], datetime],
    echo: Callable[[str], None] | None = _print_line,
) -> Notifier:
    """Slack when ``SLACK_BOT_TOKEN`` is set, else the outbox and the console."""
    if settings.slack_bot_token is None:
        return OutboxNotifier(session_factory, clock=clock, echo=echo)
    clients = build_web_clients(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    return SlackNotifier(clients, digest_channel=settings.digest_channel)
