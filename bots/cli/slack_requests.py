"""Speaking to the running app as Slack does, for ``focal demo``: a ``/focal`` command posted
to ``/slack/events`` with Slack's form fields and signature, and its reply read back from the
outbox (the app runs in console mode: no bot token, nothing goes to Slack)."""

from __future__ import annotations

import http.client
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select

from bots.slack.console import CONSOLE_EVENT, REPLY
from bots.slack.signing import signed_headers
from db.models import OutboxRow

if TYPE_CHECKING:
    from config.wiring import App

#: The workspace the tour's requests come from (made up, like the tour's signing secret).
TEAM_ID, TEAM_DOMAIN, APP_ID = "T0FOCALDEMO", "focal-demo", "A0FOCALDEMO"


@dataclass(frozen=True, slots=True)
class Answer:
    """The app's HTTP answer to one request, and how long it took."""

    status: int
    seconds: float


def command_form(*, command: str, text: str, user_id: str, user_name: str) -> tuple[bytes, str]:
    """The form Slack posts for ``{command} {text}``, its fields in Slack's order. Its
    ``response_url`` is a reserved ``.invalid`` address: in console mode nothing is sent there,
    the reply is kept in the outbox under it. Returns the body and that address."""
    response_url = f"https://focal.invalid/demo/commands/{secrets.token_hex(8)}"
    trigger_id = f"{secrets.randbelow(10**12)}.{int(time.time())}.{secrets.token_hex(16)}"
    pairs = [
        ("token", "demo-verification-token"),
        ("team_id", TEAM_ID),
        ("team_domain", TEAM_DOMAIN),
        ("channel_id", "D0FOCALDEMO"),
        ("channel_name", "directmessage"),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", APP_ID),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", trigger_id),
    ]
    return urlencode(pairs, encoding="utf-8").encode("ascii"), response_url


def post_signed(url: str, body: bytes, *, secret: str, timeout: float = 10) -> Answer:
    """POST ``body`` to ``url`` (loopback HTTP), signed now with ``secret`` as Slack signs."""
    parts = urlsplit(url)
    headers = signed_headers(body, secret=secret, timestamp=int(time.time()))
    headers["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots) focal-demo"
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request("POST", parts.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return Answer(response.status, time.perf_counter() - started)


def wait_for_reply(focal: App, response_url: str, *, timeout: float = 15) -> str:
    """The text the app replied to the request with ``response_url``, once it is in the outbox
    (the app acknowledges first and answers after, as Slack requires)."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        with focal.session_factory() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.kind == REPLY).order_by(OutboxRow.id.desc())
            ).all()
        for row in rows:
            metadata: dict[str, Any] = row.message_metadata or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == CONSOLE_EVENT and payload.get("response_url") == (
                response_url
            ):
                return row.text
        time.sleep(0.05)
    raise TimeoutError(f"the app sent no reply within {timeout:.0f} s")


def get(url: str, *, timeout: float = 10) -> tuple[int, bytes]:
    """GET ``url`` (loopback HTTP): the status and the body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
