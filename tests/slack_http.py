"""Requests to our ASGI app exactly as Slack sends them, over real HTTP on loopback.

Bodies are built byte for byte the way Slack builds them: slash commands as a UTF-8 form in
Slack's field order, interactivity as ``payload=<JSON>`` with Slack's JSON (compact, non-ASCII
as ``\\u`` escapes, ``/`` as ``\\/``). They are signed with Slack's v0 scheme (HMAC-SHA256 of
``v0:{timestamp}:{body}``) and posted with ``http.client``::

    with SlackStandIn() as slack, serve_asgi(app) as base_url:
        sender = SlackSender(base_url, SIGNING_SECRET, slack=slack)
        answer = sender.command("deadlines", user_id=alice)
        assert answer.status == 200
        [reply] = slack.responses(answer.request.response_url)

Given the stand-in, the sender asks it for response URLs and trigger ids and reads pressed
buttons from the messages it keeps, so the app's own calls land there too.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import uvicorn

# signing is Focal's own (``focal demo`` signs too); Slack's published example holds it
from bots.slack.signing import FORM, signed_headers
from tests.slack_standin import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from tests.slack_standin import Message, SlackStandIn

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"  # what Slack's requests carry
EVENTS_PATH = "/slack/events"
TEAM_DOMAIN = "focal-test"
VERIFICATION_TOKEN = "FocalVerificationToken24"  # noqa: S105 - the legacy field all bodies carry
DEFAULT_CHANNEL, DEFAULT_CHANNEL_NAME = "C0FOCALGEN", "focal"

Json = dict[str, Any]
T = TypeVar("T")


# ----------------------------------------------------------------- encoding


def slack_json(value: object) -> str:
    """JSON as Slack writes it in interactivity payloads: compact, ASCII, slashes escaped."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _form(pairs: Sequence[tuple[str, str]]) -> bytes:
    return urlencode(pairs, encoding="utf-8").encode("ascii")  # spaces as "+", "/" as %2F


def _interactivity(payload: Json) -> bytes:
    return _form([("payload", slack_json(payload))])


def _plain(text: str) -> Json:
    return {"type": "plain_text", "text": text, "emoji": True}


def _ts(now: float) -> str:
    return f"{now:.6f}"


def new_trigger_id() -> str:
    """A Slack-shaped trigger id nobody minted (the stand-in's ``new_trigger_id`` is better)."""
    return f"{secrets.randbelow(10**12)}.{int(time.time())}.{secrets.token_hex(16)}"


def new_response_url(kind: str = "commands", team_id: str = TEAM_ID) -> str:
    """A Slack-shaped response URL that goes nowhere: posting to it fails a test at connect()."""
    number, key = secrets.randbelow(10**12), secrets.token_hex(12)
    return f"https://hooks.slack.com/{kind}/{team_id}/{number}/{key}"


# ----------------------------------------------------------------- builders


def slash_command(
    *,
    text: str,
    user_id: str,
    user_name: str = "focal-user",
    command: str = "/focal",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    channel_id: str = DEFAULT_CHANNEL,
    channel_name: str = DEFAULT_CHANNEL_NAME,
    response_url: str,
    trigger_id: str,
    api_app_id: str = APP_ID,
    enterprise_id: str | None = None,
    enterprise_name: str = "Focal Grid",
    is_enterprise_install: str = "false",
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """The form Slack posts for ``/focal {text}``, fields in Slack's order."""
    enterprise = [("enterprise_id", enterprise_id or ""), ("enterprise_name", enterprise_name)]
    pairs = [("token", token), ("team_id", team_id), ("team_domain", team_domain)]
    pairs += enterprise if enterprise_id else []
    pairs += [("channel_id", channel_id), ("channel_name", channel_name)]
    pairs += [("user_id", user_id), ("user_name", user_name)]
    pairs += [("command", command), ("text", text), ("api_app_id", api_app_id)]
    pairs += [("is_enterprise_install", is_enterprise_install)]
    pairs += [("response_url", response_url), ("trigger_id", trigger_id)]
    return _form(pairs)


def _user(user_id: str, user_name: str, team_id: str) -> Json:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def _enterprise(enterprise_id: str | None) -> Json | None:
    return None if enterprise_id is None else {"id": enterprise_id, "name": "Focal Grid"}


def block_actions(
    *,
    user_id: str,
    action_id: str,
    value: str | None,
    block_id: str,
    trigger_id: str,
    response_url: str | None = None,
    channel_id: str | None = None,
    message_ts: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    user_name: str = "focal-user",
    channel_name: str = "directmessage",
    container_type: Literal["message", "view"] = "message",
    is_ephemeral: bool = False,
    message: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    button: Mapping[str, Any] | None = None,
    action_ts: str | None = None,
    enterprise_id: str | None = None,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """A button press. In a message (``container_type="message"``) it needs ``response_url``,
    ``channel_id`` and ``message_ts``, and carries ``message`` (a minimal one unless given;
    none for an ephemeral message, as Slack). In a modal (``"view"``) it carries ``view``.
    ``button`` is the pressed element as rendered (its text and style are copied)."""
    button = button or {"type": "button", "text": _plain("Button")}
    action: Json = {"action_id": action_id, "block_id": block_id, "text": button["text"]}
    action |= {"value": value} if value is not None else {}
    action |= {"style": button["style"]} if "style" in button else {}
    action |= {"type": "button", "action_ts": action_ts or _ts(time.time())}
    payload: Json = {"type": "block_actions", "user": _user(user_id, user_name, team_id)}
    payload |= {"api_app_id": api_app_id, "token": token}
    if container_type == "view":
        if view is None:
            raise ValueError("a press in a modal needs the view")
        payload |= {"container": {"type": "view", "view_id": view["id"]}}
        payload |= {"trigger_id": trigger_id, "team": {"id": team_id, "domain": team_domain}}
        payload |= {"enterprise": _enterprise(enterprise_id)}
        payload |= {"is_enterprise_install": False, "view": dict(view), "actions": [action]}
        return _interactivity(payload)
    if response_url is None or channel_id is None or message_ts is None:
        raise ValueError("a press in a message needs response_url, channel_id, message_ts")
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel_id}
    payload |= {"container": container | {"is_ephemeral": is_ephemeral}}
    payload |= {"trigger_id": trigger_id, "team": {"id": team_id, "domain": team_domain}}
    payload |= {"enterprise": _enterprise(enterprise_id), "is_enterprise_install": False}
    payload |= {"channel": {"id": channel_id, "name": channel_name}}
    if not is_ephemeral:
        minimal = {"user": BOT_USER_ID, "type": "message", "ts": message_ts}
        minimal |= {"bot_id": BOT_ID, "app_id": APP_ID, "text": "", "team": team_id}
        payload |= {"message": dict(message) if message else minimal | {"blocks": []}}
    payload |= {"state": {"values": {}}, "response_url": response_url, "actions": [action]}
    return _interactivity(payload)


def plain_text_value(text: str | None) -> Json:
    return {"type": "plain_text_input", "value": text}


def static_select_value(value: str, text: str) -> Json:
    return {"type": "static_select", "selected_option": {"text": _plain(text), "value": value}}


def url_value(url: str | None) -> Json:
    return {"type": "url_text_input", "value": url}


def date_value(day: str | None) -> Json:
    """A datepicker's state: ``day`` as ``YYYY-MM-DD``."""
    return {"type": "datepicker", "selected_date": day}


_EMPTY = {
    "plain_text_input": "value",
    "url_text_input": "value",
    "email_text_input": "value",
    "number_input": "value",
    "static_select": "selected_option",
    "external_select": "selected_option",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
_INITIAL = {
    "value": "initial_value",
    "selected_option": "initial_option",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}


def _state_values(
    blocks: Sequence[Mapping[str, Any]], values: Mapping[str, Mapping[str, Json]]
) -> dict[str, dict[str, Json]]:
    """What Slack submits for a modal's input blocks: the entered values, the initial ones
    where nothing was entered, empty ones (``None``) for optional inputs left blank.
    Refuses what Slack would not let through: an unknown input, a blank required one, an
    option the select does not offer."""
    state: dict[str, dict[str, Json]] = {}
    inputs = {b["block_id"]: b for b in blocks if b.get("type") == "input" and "block_id" in b}
    for block_id, by_action in values.items():
        if block_id not in inputs:
            raise ValueError(f"the modal has no input block {block_id!r}")
        element = inputs[block_id].get("element", {})
        for action_id, entered in by_action.items():
            if element.get("action_id") != action_id:
                raise ValueError(f"the modal has no input {block_id}/{action_id}")
            options = [o.get("value") for o in element.get("options", [])]
            chosen = entered.get("selected_option")
            if options and chosen and chosen.get("value") not in options:
                raise ValueError(f"{block_id}/{action_id} offers no option {chosen['value']!r}")
    for block_id, block in inputs.items():
        element = block.get("element", {})
        action_id, kind = element.get("action_id"), element.get("type")
        if action_id is None:
            continue
        given = values.get(block_id, {}).get(action_id)
        if given is None:
            field = _EMPTY.get(kind, "value")
            given = {"type": kind, field: element.get(_INITIAL.get(field, ""))}
        blank = all(v is None or v == "" for k, v in given.items() if k != "type")
        if blank and not block.get("optional"):
            raise ValueError(f"Slack would not submit: {block_id}/{action_id} is required")
        state[block_id] = {action_id: dict(given)}
    return state


def view_submission(
    *,
    user_id: str,
    values: Mapping[str, Mapping[str, Json]],
    callback_id: str | None = None,
    private_metadata: str | None = None,
    view: Mapping[str, Any] | None = None,
    view_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    trigger_id: str | None = None,
    title: str = "Focal",
    blocks: Sequence[Mapping[str, Any]] | None = None,
    user_name: str = "focal-user",
    enterprise_id: str | None = None,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """A modal's submission. ``view`` (as ``views.open`` answered, e.g. from the stand-in's
    ``views()``) supplies id, blocks, title, callback id and private metadata; with blocks,
    ``values`` are checked and completed as Slack does (see ``_state_values``)."""
    view = view or {}
    view_id = view_id or view.get("id") or f"V{secrets.token_hex(5).upper()}"
    blocks = list(view.get("blocks", [])) if blocks is None else list(blocks)
    state = _state_values(blocks, values) if blocks else {k: dict(v) for k, v in values.items()}
    shown: Json = {"id": view_id, "team_id": team_id, "type": "modal", "blocks": blocks}
    shown |= {"private_metadata": view.get("private_metadata", "")}
    shown |= {"callback_id": view.get("callback_id", "")}
    shown |= {} if private_metadata is None else {"private_metadata": private_metadata}
    shown |= {} if callback_id is None else {"callback_id": callback_id}
    shown |= {"state": {"values": state}}
    shown |= {"hash": view.get("hash") or f"{int(time.time())}.{secrets.token_hex(4)}"}
    shown |= {"title": view.get("title") or _plain(title)}
    shown |= {"clear_on_close": view.get("clear_on_close", False)}
    shown |= {"notify_on_close": view.get("notify_on_close", False)}
    shown |= {"close": view.get("close") or _plain("Cancel")}
    shown |= {"submit": view.get("submit") or _plain("Submit")}
    shown |= {"previous_view_id": view.get("previous_view_id")}
    shown |= {"root_view_id": view.get("root_view_id") or view_id, "app_id": api_app_id}
    shown |= {"external_id": view.get("external_id", ""), "app_installed_team_id": team_id}
    shown |= {"bot_id": BOT_ID}
    payload: Json = {"type": "view_submission", "team": {"id": team_id, "domain": team_domain}}
    payload |= {"user": _user(user_id, user_name, team_id), "api_app_id": api_app_id}
    payload |= {"token": token, "trigger_id": trigger_id or new_trigger_id(), "view": shown}
    payload |= {"response_urls": [], "is_enterprise_install": False}
    payload |= {"enterprise": _enterprise(enterprise_id)}
    return _interactivity(payload)


def find_button(
    blocks: Sequence[Mapping[str, Any]],
    action_id: str,
    *,
    block_id: str | None = None,
    value: str | None = None,
) -> tuple[str, Json]:
    """The block id and element of the one button ``action_id`` (narrowed by ``block_id`` or
    ``value``). A block without an id gets a stable made-up one, as Slack makes one up."""
    found: list[tuple[str, Json]] = []
    for block in blocks:
        its_id = block.get("block_id") or hashlib.sha256(slack_json(block).encode()).hexdigest()[:8]
        elements = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        found += [
            (its_id, dict(e))
            for e in elements
            if isinstance(e, dict)
            and e.get("action_id") == action_id
            and block_id in {None, its_id}
            and value in {None, e.get("value")}
        ]
    if len(found) != 1:
        raise ValueError(f"{len(found)} buttons {action_id!r} match (block {block_id}, {value})")
    return found[0]


# --------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]

    @property
    def fields(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    @property
    def payload(self) -> Json:
        """An interactivity request's JSON payload."""
        parsed: Json = json.loads(self.fields["payload"])
        return parsed

    @property
    def response_url(self) -> str | None:
        fields = self.fields
        if "payload" not in fields:
            return fields.get("response_url")
        url: str | None = self.payload.get("response_url")
        return url


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    request: Request
    elapsed: float  # seconds, from sending to the last byte of the answer

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float = 10) -> Answer:
    """POST ``body`` with exactly ``headers`` (plus Host and Content-Length) to a loopback URL."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not _loopback(parts.hostname):
        raise ValueError(f"only http on loopback: {url}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    started = time.monotonic()
    try:
        target = parts.path or "/"
        connection.request(
            "POST", f"{target}?{parts.query}" if parts.query else target, body, dict(headers)
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    answer_headers = {name.lower(): value for name, value in response.getheaders()}
    request = Request(url, body, dict(headers))
    return Answer(response.status, answer_headers, data, request, time.monotonic() - started)


class SlackSender:
    """Slack's side of ``POST {base_url}/slack/events``: builds, signs (now, unless
    ``timestamp=``; with ``secret=`` another secret, for forgeries) and sends."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        slack: SlackStandIn | None = None,
        path: str = EVENTS_PATH,
        clock: Callable[[], float] = time.time,
        timeout: float = 10,
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.secret, self.slack, self.clock, self.timeout = secret, slack, clock, timeout
        self.sent: list[Answer] = []

    def send(
        self,
        body: bytes,
        *,
        content_type: str = FORM,
        secret: str | None = None,
        timestamp: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        stamp = int(self.clock()) if timestamp is None else timestamp
        signed = signed_headers(
            body,
            secret=self.secret if secret is None else secret,
            timestamp=stamp,
            content_type=content_type,
        )
        all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json,*/*"} | signed
        answer = post(self.url, body, all_headers | dict(headers or {}), timeout=self.timeout)
        self.sent.append(answer)
        return answer

    def replay(self, sent: Answer | Request) -> Answer:
        """The same bytes with the same headers (signature and timestamp included), again."""
        request = sent.request if isinstance(sent, Answer) else sent
        answer = post(request.url, request.body, request.headers, timeout=self.timeout)
        self.sent.append(answer)
        return answer

    def _trigger(self, user_id: str, view_id: str | None = None) -> str:
        if self.slack is None:
            return new_trigger_id()
        return self.slack.new_trigger_id(user_id=user_id, view_id=view_id)

    def command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        **fields: Any,
    ) -> Answer:
        """``/focal {text}`` typed by ``user_id``; by default in their conversation with the app."""
        channel_name = fields.pop("channel_name", None)
        if channel_id is None and self.slack is not None:
            channel_id, channel_name = self.slack.open_dm(user_id), channel_name or "directmessage"
        channel_id = channel_id or DEFAULT_CHANNEL
        if response_url is None and self.slack is not None:
            response_url = self.slack.new_response_url(user_id=user_id, channel=channel_id)
        body = slash_command(
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            channel_name=channel_name or DEFAULT_CHANNEL_NAME,
            response_url=response_url or new_response_url(),
            trigger_id=trigger_id or self._trigger(user_id),
            **fields,
        )
        return self.send(body, secret=secret, timestamp=timestamp)

    def action(
        self,
        *,
        user_id: str,
        action_id: str,
        message: Message | None = None,
        value: str | None = None,
        block_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        **fields: Any,
    ) -> Answer:
        """``user_id`` presses button ``action_id``. With ``message`` (one the stand-in kept),
        the button, its block and value, the channel and the message are read from it
        (``value``/``block_id`` pick among several buttons with the same action id)."""
        if message is not None:
            block_id, button = find_button(
                message.blocks or [], action_id, block_id=block_id, value=value
            )
            value, channel_id, message_ts = button.get("value"), message.channel, message.ts
            fields.setdefault("button", button)
            fields.setdefault("is_ephemeral", message.to_user is not None)
            if message.to_user is None:
                fields.setdefault("message", message.to_slack(with_metadata=True))
        if block_id is None or channel_id is None or message_ts is None:
            raise ValueError("give the message, or block_id, channel_id and message_ts")
        if response_url is None and self.slack is not None:
            response_url = self.slack.new_response_url(
                kind="actions", user_id=user_id, channel=channel_id, message_ts=message_ts
            )
        body = block_actions(
            user_id=user_id,
            action_id=action_id,
            value=value,
            block_id=block_id,
            channel_id=channel_id,
            message_ts=message_ts,
            response_url=response_url or new_response_url("actions"),
            trigger_id=trigger_id or self._trigger(user_id),
            **fields,
        )
        return self.send(body, secret=secret, timestamp=timestamp)

    def submit_view(
        self,
        *,
        user_id: str,
        values: Mapping[str, Mapping[str, Json]],
        view: Mapping[str, Any] | None = None,
        trigger_id: str | None = None,
        secret: str | None = None,
        timestamp: int | None = None,
        **fields: Any,
    ) -> Answer:
        """``user_id`` submits a modal: by default the last one the stand-in opened for them."""
        if view is None and self.slack is not None and "view_id" not in fields:
            opened = self.slack.views(user_id)
            view = opened[-1] if opened else None
        view_id = (view or {}).get("id") or fields.get("view_id")
        body = view_submission(
            user_id=user_id,
            values=values,
            view=view,
            trigger_id=trigger_id or self._trigger(user_id, view_id),
            **fields,
        )
        return self.send(body, secret=secret, timestamp=timestamp)


# ----------------------------------------------------------------- serving


def wait_for(check: Callable[[], T], *, timeout: float = 5, interval: float = 0.01) -> T:
    """The first truthy ``check()``, polling: for what an app does after it has answered."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing came within {timeout} s")
        time.sleep(interval)
    return result


@contextmanager
def serve_asgi(
    app: Callable[..., Any],
    *,
    host: str = "127.0.0.1",
    lifespan: Literal["on", "off", "auto"] = "on",
    start_timeout: float = 10,
    stop_timeout: float = 10,
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread with its own event loop; yields the base URL
    once it accepts connections; stops it (lifespan shutdown included) and joins the thread."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))  # a free port, held from now on: no race with another server
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan=lifespan,
        log_level="warning",
        log_config=None,  # leave the process's logging alone; uvicorn's records propagate
        access_log=False,
        ws="none",
        timeout_graceful_shutdown=max(1, int(stop_timeout / 2)),
    )
    server = uvicorn.Server(config)
    exits: list[object] = []

    def run() -> None:
        try:
            server.run(sockets=[listener])
        except SystemExit as stop:  # how uvicorn says the app or the socket failed to start
            exits.append(stop.code)

    thread = threading.Thread(target=run, name=f"asgi:{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the ASGI app did not start (exit {exits}; see the log)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the ASGI app did not start within {start_timeout} s")
            time.sleep(0.005)
        yield f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(stop_timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(stop_timeout)
        listener.close()
    if thread.is_alive():
        raise RuntimeError("the ASGI server did not stop")
