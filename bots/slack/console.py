"""The ``/focal`` app without a bot token: console mode.

With ``SLACK_SIGNING_SECRET`` set and no ``SLACK_BOT_TOKEN``, ``focal serve`` still takes
signed requests at ``POST /slack/events`` (that is how ``focal demo`` records a submission
through the running app), but nothing goes to Slack, as everywhere in Focal without a token:
every reply (to the request's ``response_url``), direct message
(``chat.postMessage``) and form (``views.open``) becomes an ``outbox`` row, and a log line.

Bolt verifies every request exactly as before (signature, 5-minute window, replays); only the
authorization differs: without a token there is no ``auth.test`` to call, so each request is
authorized as coming from its own workspace and user. The listeners' Web API calls go to
``ConsoleWebClient`` (through ``ConsoleConnection``); any call other than the three above
answers ``not_authed``, as Slack does without a token (``users.info``: a stranger to the
roster is then told to ask the coordinators).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import select

from bots.slack.connection import SlackConnection
from core.runs import one_line
from db.models import OutboxRow, PersonRow

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_bolt.response import BoltResponse

    from config.wiring import App

log = logging.getLogger("focal.slack")

#: What an outbox row written in console mode carries as its message metadata's event type.
CONSOLE_EVENT = "focal_console"
REPLY, MESSAGE, MODAL = "reply", "message", "modal"


class ConsoleOutbox:
    """Writes what the bot would have sent to Slack into the ``outbox`` table, and logs it."""

    def __init__(self, focal: App) -> None:
        self.focal = focal

    def write(
        self,
        *,
        kind: str,
        user_id: str | None,
        text: str,
        payload: dict[str, Any],
        blocks: list[Any] | None = None,
    ) -> int:
        """One outbox row (committed); its id. ``payload``: the message metadata's."""
        with self.focal.session_factory() as session, session.begin():
            person_id = None
            if user_id:
                person_id = session.scalar(
                    select(PersonRow.id).where(PersonRow.slack_user_id == user_id).limit(1)
                )
            row = OutboxRow(
                created_at=self.focal.clock.now(),
                person_id=person_id,
                channel="console",
                kind=kind,
                text=text,
                blocks=blocks,
                message_metadata={"event_type": CONSOLE_EVENT, "event_payload": payload},
            )
            session.add(row)
            session.flush()
            row_id = row.id
        log.info("console mode: %s to %s: %s", kind, user_id or "nobody", one_line(text, 200))
        return row_id

    async def awrite(
        self,
        *,
        kind: str,
        user_id: str | None,
        text: str,
        payload: dict[str, Any],
        blocks: list[Any] | None = None,
    ) -> int:
        return await asyncio.to_thread(
            self.write, kind=kind, user_id=user_id, text=text, payload=payload, blocks=blocks
        )


class ConsoleWebClient(AsyncWebClient):
    """The Web API as the listeners see it in console mode: messages and forms go to the
    outbox; anything else answers ``not_authed``. Never opens a connection."""

    def __init__(self, outbox: ConsoleOutbox) -> None:
        super().__init__(token=None)
        self.outbox = outbox

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        **_rest: Any,  # noqa: ANN401 - files, data, headers, auth: not used here
    ) -> AsyncSlackResponse:
        args = dict(json or params or {})
        data: dict[str, Any]
        if api_method == "chat.postMessage":
            channel = str(args.get("channel") or "")
            await self.outbox.awrite(
                kind=MESSAGE,
                user_id=channel if channel.startswith(("U", "W")) else None,
                text=str(args.get("text") or ""),
                payload={"channel": channel},
                blocks=args.get("blocks"),
            )
            data = {"ok": True, "channel": channel, "ts": f"{time.time():.6f}"}
        elif api_method == "views.open":
            view = args.get("view") or {}
            view = view if isinstance(view, dict) else view.to_dict()
            title = (view.get("title") or {}).get("text", "")
            await self.outbox.awrite(
                kind=MODAL,
                user_id=None,
                text=f"(a form: {title})",
                payload={"trigger_id": args.get("trigger_id"), "view": view},
                blocks=view.get("blocks"),
            )
            data = {"ok": True, "view": {"id": "VCONSOLE", **view}}
        else:
            data = {"ok": False, "error": "not_authed"}
        response = AsyncSlackResponse(
            client=self,
            http_verb=http_verb,
            api_url=f"{self.base_url}{api_method}",
            req_args=args,
            data=data,
            headers={},
            status_code=200,
        )
        response.validate()  # type: ignore[no-untyped-call]  # SlackApiError unless ok
        return response


async def authorize_locally(
    enterprise_id: str | None, team_id: str | None, user_id: str | None
) -> AuthorizeResult:
    """Bolt's authorization without a token: the request's own workspace and user."""
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


class ConsoleConnection(SlackConnection):
    """The bot's connection to Slack in console mode: replies at response URLs, direct messages
    and forms become outbox rows (``ConsoleWebClient``); nothing opens a connection."""

    #: Response URLs whose asker is remembered (a reply names its person in the outbox).
    REMEMBERED = 10_000

    def __init__(self, outbox: ConsoleOutbox) -> None:
        super().__init__(ConsoleWebClient(outbox))
        self.outbox = outbox
        self._askers: OrderedDict[str, str | None] = OrderedDict()

    def asked(self, response_url: str, user_id: str | None) -> None:
        """Remember who sent the request that ``response_url`` answers."""
        self._askers[response_url] = user_id
        while len(self._askers) > self.REMEMBERED:
            self._askers.popitem(last=False)

    def api(self) -> AsyncWebClient:
        return self.client

    async def respond(self, url: str, text: str, **fields: Any) -> None:  # noqa: ANN401
        """The reply, kept in the outbox under the ``response_url`` it was meant for (whoever
        sent the request finds it there)."""
        user_id = self._askers.get(url)
        payload: dict[str, Any] = {
            "response_url": url,
            "user_id": user_id,
            "response_type": fields.pop("response_type", None) or "ephemeral",
        }
        payload |= {k: v for k, v in fields.items() if isinstance(v, bool)}
        blocks = fields.get("blocks")
        shown = [b if isinstance(b, dict) else b.to_dict() for b in blocks] if blocks else None
        await self.outbox.awrite(
            kind=REPLY, user_id=user_id, text=text, payload=payload, blocks=shown
        )

    async def close(self) -> None:
        return None


def console_middleware(
    connection: ConsoleConnection,
) -> Callable[..., Awaitable[BoltResponse]]:
    """A Bolt middleware that notes who sent each request with a ``response_url``."""

    async def note_the_asker(
        req: AsyncBoltRequest,
        resp: BoltResponse,  # noqa: ARG001 - Bolt passes arguments by name
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002 - Bolt's name
    ) -> BoltResponse:
        if req.context.response_url:
            connection.asked(req.context.response_url, req.context.user_id)
        return await next()

    return note_the_asker
