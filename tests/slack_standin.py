"""A local Slack for tests: an HTTP server on 127.0.0.1 that the real ``slack_sdk`` client talks to.

It implements the Web API methods Focal uses, keeps everything it receives, answers with Slack's
own error shapes, checks every call against Slack's published method reference, and can be told
to misbehave (rate limits, 5xx, dropped connections, slow answers)::

    with SlackStandIn() as slack:
        alice = slack.add_user(name="alice", email="alice@example.org", tz="Asia/Ho_Chi_Minh")
        slack.client().chat_postMessage(channel=alice, text="hi")
        assert [m.text for m in slack.sent_to(alice)] == ["hi"]
        assert slack.violations == []

It also serves response URLs (``new_response_url()``), keeping what the app posts to them
(``responses()``), and mints trigger ids (``new_trigger_id()``) that expire as Slack's do.

It speaks HTTP/1.1 and keeps connections open between requests, as Slack does (a client that
sends ``Connection: close``, as ``urllib`` does, gets one request per connection). Each call
records the connection it came on (``Call.connection``, numbered from 1 in accepting order);
``close_idle_connections()`` closes those waiting for a next request, as a server's idle
timeout would.

It is stricter than Slack in one way: an argument the reference does not know is refused
(``invalid_arguments``) and recorded, where Slack often ignores it silently.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "slack"
OPENAPI_NAME = "slack_web_openapi_v2_without_examples.json"
REFERENCE_AVAILABLE = (REFERENCE_DIR / "methods").is_dir()

# conversations.history has no method file, only the 2020 OpenAPI entry, which predates message
# metadata (2022) and marks nothing required; Slack's method page requires `channel`.
_OPENAPI_ADDITIONS = {"conversations.history": ({"include_all_metadata"}, {"channel"})}

TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID = "T0FOCAL01", "U0FOCALBOT", "B0FOCALBOT", "A0FOCALAPP"
_TRIGGER_ID = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")
_TRUE = (True, "1", "true", "True")
# Arguments every method takes though no method file lists them: slack_sdk adds `team_id` to
# every call of a client made with one, and Bolt makes each listener's client so.
_ANY_METHOD = frozenset({"team_id"})

TRIGGER_TTL = 3.0  # seconds a trigger id can open a modal
RESPONSE_URL_USES, RESPONSE_URL_TTL = 5, 30 * 60  # a response URL: 5 posts within 30 minutes
VIEW_STACK_MAX = 3  # views.push: a root view and two pushed on it


@dataclass(frozen=True)
class MethodSpec:
    known: frozenset[str]
    required: frozenset[str]
    json_ok: bool


@cache
def _openapi(reference: Path) -> dict[str, Any]:
    path = reference / OPENAPI_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@cache
def load_spec(reference: Path, method: str) -> MethodSpec | None:
    """A method's arguments per the reference (``token`` left out), or None if it has none."""
    path = reference / "methods" / f"{method}.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        args = data.get("args", {})
        return MethodSpec(
            frozenset(args.get("properties", {})) - {"token"},
            frozenset(args.get("required", [])) - {"token"},
            json_ok=data.get("json_input_supported") is True,
        )
    operations = _openapi(reference).get("paths", {}).get(f"/{method}")
    if not operations:
        return None
    operation = next(iter(operations.values()))
    params = operation.get("parameters", [])
    more_known, more_required = _OPENAPI_ADDITIONS.get(method, (set(), set()))
    return MethodSpec(
        frozenset({p["name"] for p in params} | more_known) - {"token"},
        frozenset({p["name"] for p in params if p.get("required")} | more_required) - {"token"},
        json_ok="application/json" in operation.get("consumes", []),
    )


class SlackError(Exception):
    """An error answer: ``{"ok": false, "error": ...}`` with optional ``response_metadata``."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error, self.messages = error, list(messages)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    http_verb: str
    content_type: str
    json_body: bool
    at: float
    fault: str | None = None  # rate_limit, fail, drop, drop_after_store or slow, when injected
    connection: int = 0  # which connection it came on: 1 for the first accepted, and so on


@dataclass(frozen=True)
class Response:
    """One post to a response URL: its JSON body, when, and Slack's answer."""

    url: str
    json: dict[str, Any]
    at: float
    status: int = 200
    error: str | None = None  # Slack's answer when refused: no_service, used_url, ...

    @property
    def text(self) -> str | None:
        text = self.json.get("text")
        return text if isinstance(text, str) else None


@dataclass
class _ResponseUrl:
    url: str
    created: float
    user_id: str | None
    channel: str | None
    message_ts: str | None
    uses: int = 0


@dataclass(frozen=True)
class _Trigger:
    at: float
    user_id: str | None
    view_id: str | None


@dataclass
class _Rule:
    kind: str
    method: str
    remaining: int
    status: int = 0
    retry_after: int = 0
    seconds: float = 0.0


@dataclass
class User:
    id: str
    name: str
    email: str
    tz: str = "UTC"
    locale: str = "en-US"
    real_name: str = ""

    def to_slack(self, *, with_locale: bool) -> dict[str, Any]:
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name or self.name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": False,
            "is_app_user": False,
            "profile": {
                "email": self.email,
                "real_name": self.real_name or self.name,
                "display_name": self.name,
            },
        }
        if with_locale:
            user["locale"] = self.locale
        return user


@dataclass
class Message:
    channel: str
    ts: str
    text: str | None = None
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    to_user: str | None = None  # ephemeral messages only
    edits: int = 0

    def to_slack(self, *, with_metadata: bool) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID}
        message |= {"app_id": APP_ID, "team": TEAM_ID, "ts": self.ts, "text": self.text or ""}
        optional: dict[str, Any] = {"blocks": self.blocks, "attachments": self.attachments}
        optional |= {"thread_ts": self.thread_ts}
        if with_metadata:
            optional["metadata"] = self.metadata
        if self.edits:
            optional["edited"] = {"user": BOT_USER_ID, "ts": self.ts}
        return message | {k: v for k, v in optional.items() if v is not None}


def _micros(ts: str) -> int:
    return int(Decimal(ts) * 1_000_000)


def _json_arg(args: dict[str, Any], name: str, error: str) -> Any:
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error) from None
    return value


def _parse_body(query: str, raw: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if content_type == "application/json":
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("json_not_object")
            args |= {k: v for k, v in body.items() if v is not None}
    elif raw:
        args |= dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    return args


_TEXT_MAX = {"title": 24, "submit": 24, "close": 24}
_FIELD_MAX = {"private_metadata": 3000, "callback_id": 255, "external_id": 255}
_BLOCKS_MAX = 100
_AT = "[json-pointer:/view"


def _view_problems(view: dict[str, Any]) -> list[str]:
    """What Slack finds wrong with a modal, in its words."""
    blocks = view.get("blocks") or []
    problems = [] if view["type"] == "modal" else [f"[ERROR] must be 'modal' {_AT}/type]"]
    problems += [
        f"[ERROR] missing required field: {name} {_AT}]"
        for name in ("title", "blocks")
        if name not in view
    ]
    problems += [
        f"[ERROR] must be less than {limit + 1} characters {_AT}/{name}/text]"
        for name, limit in _TEXT_MAX.items()
        if len((view.get(name) or {}).get("text", "")) > limit
    ]
    problems += [
        f"[ERROR] must be less than {limit + 1} characters {_AT}/{name}]"
        for name, limit in _FIELD_MAX.items()
        if len(str(view.get(name) or "")) > limit
    ]
    if len(blocks) > _BLOCKS_MAX:
        problems.append(f"[ERROR] no more than {_BLOCKS_MAX} items allowed {_AT}/blocks]")
    if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
        problems.append(f"[ERROR] must provide a submit property when using input blocks {_AT}]")
    return problems


class SlackStandIn:
    """The stand-in. Use as a context manager; point ``WebClient(base_url=...)`` at ``.url``."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] | None = None,
        reference: Path | None = REFERENCE_DIR,
        clock: Callable[[], float] = time.time,
        trigger_ttl: float = TRIGGER_TTL,
    ) -> None:
        self.tokens = None if tokens is None else frozenset(tokens)
        self.trigger_ttl = trigger_ttl
        self.reference = reference
        self.reference_available = reference is not None and (reference / "methods").is_dir()
        self.violations: list[str] = []
        self._clock = clock
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._calls: list[Call] = []
        self._rules: list[_Rule] = []
        self._users: dict[str, User] = {}
        self._channels: dict[str, frozenset[str]] = {}  # id -> members (empty for plain channels)
        self._by_email: dict[str, str] = {}  # indexes, as Slack answers look-ups: at any size
        self._by_members: dict[frozenset[str], str] = {}
        self._messages: list[Message] = []
        self._ephemerals: list[Message] = []
        self._views: dict[str, dict[str, Any]] = {}  # by id, in the order opened
        self._view_users: dict[str, str | None] = {}
        self._stacks: dict[str, list[str]] = {}  # root view id -> the stack, root first
        self._triggers: dict[str, _Trigger] = {}  # the ones minted here
        self._used_triggers: set[str] = set()
        self._response_urls: dict[str, _ResponseUrl] = {}  # by path
        self._responses: list[Response] = []
        self._ids = itertools.count(1)
        self._last_ts = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
        }

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()  # cuts short any slow answer
        self._server.shutdown()
        self._thread.join()
        self._server.end_connections()  # kept-alive ones would wait for a next request
        self._server.server_close()  # joins the request threads, closes the socket
        self._server = self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not running (use it as a context manager)")
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def client(self, token: str = "xoxb-focal-test", **kwargs: Any) -> WebClient:  # noqa: S107
        return WebClient(token=token, base_url=self.url, **kwargs)

    # ---------------------------------------------------------------- workspace

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_user(
        self,
        *,
        name: str,
        email: str,
        tz: str = "UTC",
        locale: str = "en-US",
        real_name: str = "",
        user_id: str | None = None,
    ) -> str:
        with self._lock:
            user = User(user_id or self._new_id("U"), name, email, tz, locale, real_name)
            self._users[user.id] = user
            self._by_email[email.strip().lower()] = user.id
            return user.id

    def add_channel(self, channel_id: str | None = None) -> str:
        with self._lock:
            channel_id = channel_id or self._new_id("C")
            self._channels[channel_id] = frozenset()
            return channel_id

    def new_trigger_id(self, *, user_id: str | None = None, view_id: str | None = None) -> str:
        """A trigger id as an interaction gives one; it opens one modal within ``trigger_ttl``.
        With ``view_id`` it comes from inside that modal, so it can also push onto its stack."""
        with self._lock:
            now = self._clock()
            trigger = f"{next(self._ids)}.{int(now)}.{next(self._ids):08x}{secrets.token_hex(8)}"
            self._triggers[trigger] = _Trigger(now, user_id, view_id)
            return trigger

    def new_response_url(
        self,
        *,
        kind: str = "commands",
        user_id: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A response URL served here, as Slack gives with a command (``kind="commands"``) or
        a button press (``"actions"``). With ``channel`` and ``message_ts`` (the pressed
        message), ``replace_original`` and ``delete_original`` act on that message."""
        base = self.url.removesuffix("/api/")
        with self._lock:
            path = f"/hooks/{kind}/{TEAM_ID}/{next(self._ids):012d}/{secrets.token_hex(12)}"
            hook = _ResponseUrl(base + path, self._clock(), user_id, channel, message_ts)
            self._response_urls[path] = hook
            return hook.url

    def open_dm(self, user_id: str) -> str:
        """The app's direct conversation with ``user_id``, opened now if it was not (as a
        workspace where the bot has written to everyone before)."""
        with self._lock:
            return self._open(frozenset({user_id}))[0]

    def close_idle_connections(self) -> int:
        """Close every connection waiting for its next request, as a server's idle timeout
        does; the clients holding them find out when they next use them. Returns how many.
        A request being answered is given a second to finish first."""
        if self._server is None:
            return 0
        return self._server.close_idle()

    def connections(self) -> int:
        """Connections accepted so far."""
        return 0 if self._server is None else self._server.accepted

    def dm_channel(self, user_id: str) -> str | None:
        with self._lock:
            return self._by_members.get(frozenset({user_id}))

    # ------------------------------------------------------------------ records

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method in {None, c.method}]

    def faults(self, method: str | None = None, kind: str | None = None) -> list[Call]:
        """The calls that met an injected fault."""
        return [c for c in self.calls(method) if c.fault and kind in {None, c.fault}]

    def messages(self, channel: str | None = None) -> list[Message]:
        """Messages kept (oldest first), as copies."""
        with self._lock:
            return [replace(m) for m in self._messages if channel in {None, m.channel}]

    def sent_to(self, user_id: str) -> list[Message]:
        """Messages in the bot's direct conversation with one person."""
        channel = self.dm_channel(user_id)
        return [] if channel is None else self.messages(channel)

    def ephemerals(self, user_id: str | None = None) -> list[Message]:
        with self._lock:
            return [replace(m) for m in self._ephemerals if user_id in {None, m.to_user}]

    def views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Views as they are now (updates applied), in the order they were opened; with
        ``user_id``, the ones opened with a trigger minted for that person."""
        with self._lock:
            return [
                dict(v) for i, v in self._views.items() if user_id in {None, self._view_users[i]}
            ]

    def responses(self, url: str | None = None, *, refused: bool = False) -> list[Response]:
        """What was posted to response URLs (oldest first): the accepted posts, or the
        refused ones with ``refused=True``."""
        with self._lock:
            return [
                r for r in self._responses if url in {None, r.url} and (r.status != 200) is refused
            ]

    # ----------------------------------------------------------------- faults

    def _program(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """HTTP 429 with ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``."""
        self._program(_Rule("rate_limit", method, times, status=429, retry_after=retry_after))

    def fail(self, method: str, *, times: int = 1, status: int = 500) -> None:
        """An HTTP 5xx with an HTML body, as Slack's front end sends."""
        self._program(_Rule("fail", method, times, status=status))

    def drop(self, method: str, *, times: int = 1) -> None:
        """Close the connection without an answer; nothing is done."""
        self._program(_Rule("drop", method, times))

    def drop_after_store(self, method: str, *, times: int = 1) -> None:
        """Do the work (store the message), then close the connection without an answer."""
        self._program(_Rule("drop_after_store", method, times))

    def slow(self, method: str, *, seconds: float, times: int = 1) -> None:
        self._program(_Rule("slow", method, times, seconds=seconds))

    def _take_rule(self, method: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method in {method, "*"} and rule.remaining > 0:
                    rule.remaining -= 1
                    return rule
        return None

    # ------------------------------------------------------------------ serving

    def serve(self, handler: _Handler, verb: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        if len(raw) < length:  # the client went away mid-request, as a killed process does
            handler.close_connection = True
            return
        if parts.path.startswith("/hooks/"):
            self._serve_response_url(handler, parts.path, raw, handler.headers.get_content_type())
            return
        if not parts.path.startswith("/api/"):
            handler.reply(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        method = parts.path.removeprefix("/api/")
        content_type = handler.headers.get_content_type()
        try:
            args, parse_error = _parse_body(parts.query, raw, content_type), None
        except SlackError as error:
            args, parse_error = {}, error
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        token = args.pop("token", None) or token
        rule = self._take_rule(method)
        is_json = content_type == "application/json" and bool(raw.strip())
        fault = rule.kind if rule else None
        call = Call(
            method, args, token, verb, content_type, is_json, self._clock(), fault, handler.number
        )
        with self._lock:
            self._calls.append(call)
        if rule is not None and rule.kind == "slow":
            self._stopping.wait(rule.seconds)
        elif rule is not None and rule.kind == "drop":
            handler.close_connection = True
            return
        elif rule is not None and rule.kind in {"rate_limit", "fail"}:
            self._reply_fault(handler, rule)
            return
        status, body = self._answer(call, parse_error)
        if rule is not None and rule.kind == "drop_after_store":
            handler.close_connection = True
            return
        handler.reply(status, json.dumps(body).encode(), "application/json; charset=utf-8")

    def _serve_response_url(
        self, handler: _Handler, path: str, raw: bytes, content_type: str
    ) -> None:
        """A post to a response URL. Faults are programmed with the method name
        ``"response_url"``: ``slack.fail("response_url")``."""
        rule = self._take_rule("response_url")
        if rule is not None and rule.kind == "slow":
            self._stopping.wait(rule.seconds)
        elif rule is not None and rule.kind == "drop":
            handler.close_connection = True
            return
        elif rule is not None and rule.kind in {"rate_limit", "fail"}:
            self._reply_fault(handler, rule)
            return
        status, answer = self._respond(path, raw, content_type)
        if rule is not None and rule.kind == "drop_after_store":
            handler.close_connection = True
            return
        handler.reply(status, answer.encode(), "text/html")

    def _respond(self, path: str, raw: bytes, content_type: str) -> tuple[int, str]:
        with self._lock:
            now = self._clock()
            hook = self._response_urls.get(path)
            url = hook.url if hook else self.url.removesuffix("/api/") + path
            try:
                body = json.loads(raw) if content_type == "application/json" else None
            except ValueError:
                body = None
            status, error = 200, None
            if hook is None:
                status, error = 404, "no_service"
            elif now - hook.created > RESPONSE_URL_TTL:
                status, error = 404, "expired_url"
            elif hook.uses >= RESPONSE_URL_USES:
                status, error = 404, "used_url"
            elif not isinstance(body, dict):
                status, error = 400, "invalid_payload"
                self._violation(f"response URL: not a JSON object ({content_type}): {raw[:80]!r}")
            elif not body.get("delete_original") and not (
                body.get("text") or body.get("blocks") or body.get("attachments")
            ):
                status, error = 400, "no_text"
            else:
                try:
                    self._apply_response(hook, body)
                except SlackError:
                    status, error = 400, "invalid_payload"
            if status == 200 and hook is not None:
                hook.uses += 1
            kept = body if isinstance(body, dict) else {}
            self._responses.append(Response(url, kept, now, status, error))
            return status, error or "ok"

    def _apply_response(self, hook: _ResponseUrl, body: dict[str, Any]) -> None:
        """``replace_original`` / ``delete_original`` on the message the URL came with."""
        content = self._content(body)
        if hook.channel is None or hook.message_ts is None:
            return
        for kept in (self._messages, self._ephemerals):
            for message in list(kept):
                if (message.channel, message.ts) != (hook.channel, hook.message_ts):
                    continue
                if body.get("delete_original") in _TRUE:
                    kept.remove(message)
                elif body.get("replace_original") in _TRUE:
                    for name in ("text", "blocks", "attachments"):
                        setattr(message, name, content[name])
                    message.edits += 1

    @staticmethod
    def _reply_fault(handler: _Handler, rule: _Rule) -> None:
        if rule.kind == "rate_limit":
            body = json.dumps({"ok": False, "error": "ratelimited"}).encode()
            headers = {"Retry-After": str(rule.retry_after)}
            handler.reply(429, body, "application/json; charset=utf-8", headers)
        else:
            page = f"<html><body><h1>{rule.status} Server Error</h1></body></html>"
            handler.reply(rule.status, page.encode(), "text/html")

    def _answer(self, call: Call, error: SlackError | None) -> tuple[int, dict[str, Any]]:
        method, args, token = call.method, call.args, call.token
        if method not in self._methods:
            return 404, {"ok": False, "error": "unknown_method", "req_method": method}
        if error is None and not token:
            error = SlackError("not_authed")
        elif error is None and not self._token_ok(str(token)):
            error = SlackError("invalid_auth")
        if error is not None:
            return 200, error.body()
        try:
            self._check(method, args, is_json=call.json_body)
            with self._lock:
                return 200, {"ok": True} | self._methods[method](args)
        except SlackError as failure:
            return 200, failure.body()

    def _token_ok(self, token: str) -> bool:
        return token.startswith("xoxb-") if self.tokens is None else token in self.tokens

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def _check(self, method: str, args: dict[str, Any], *, is_json: bool) -> None:
        spec = load_spec(self.reference, method) if self.reference_available else None
        if spec is None:
            return
        problems: list[str] = []
        if is_json and not spec.json_ok:
            problems.append("[ERROR] this method does not take a JSON body")
        unknown = set(args) - spec.known - _ANY_METHOD
        problems += [f"[ERROR] unknown field: {name}" for name in sorted(unknown)]
        missing = sorted(spec.required - set(args))
        problems += [f"[ERROR] missing required field: {name}" for name in missing]
        if problems:
            self._violation(f"{method}: {'; '.join(problems)} (args: {sorted(args)})")
            raise SlackError("invalid_arguments", *problems)

    # ------------------------------------------------------------------ methods

    def _next_ts(self) -> str:
        self._last_ts = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _open(self, members: frozenset[str]) -> tuple[str, bool]:
        existing = self._by_members.get(members)
        if existing:
            return existing, True
        channel = self._new_id("D" if len(members) == 1 else "G")
        self._channels[channel] = members
        self._by_members[members] = channel
        return channel, False

    def _channel(self, channel: str) -> str:
        if channel in self._channels:
            return channel
        if channel in self._users:  # a user id posts to the app's direct conversation
            return self._open(frozenset({channel}))[0]
        raise SlackError("channel_not_found")

    def _user(self, user_id: str, error: str) -> User:
        if user_id not in self._users:
            raise SlackError(error)
        return self._users[user_id]

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://focal-test.slack.com/",
            "team": "Focal Test",
            "user": "focal",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = self._by_email.get(str(args["email"]).strip().lower())
        if user_id is None:
            raise SlackError("users_not_found")
        return {"user": self._users[user_id].to_slack(with_locale=False)}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._user(str(args["user"]), "user_not_found")
        return {"user": user.to_slack(with_locale=args.get("include_locale") in _TRUE)}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            channel, existed = self._channel(str(args["channel"])), True
        else:
            users = args.get("users")
            if not users:
                raise SlackError("users_list_not_supplied")
            ids = users.split(",") if isinstance(users, str) else list(users)
            members = frozenset(self._user(u.strip(), "user_not_found").id for u in ids)
            if len(members) > 8:  # Slack's limit
                raise SlackError("too_many_users")
            channel, existed = self._open(members)
        answer: dict[str, Any] = {"channel": {"id": channel}}
        if args.get("return_im") in _TRUE:
            members = self._channels[channel]
            answer["channel"] |= {"is_im": len(members) == 1, "is_open": True}
            answer["channel"] |= {"user": next(iter(members))} if len(members) == 1 else {}
        return answer | ({"no_op": True, "already_open": True} if existed else {})

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args["channel"]))
        try:
            oldest = _micros(str(args.get("oldest", "0")))
        except (ArithmeticError, ValueError):
            raise SlackError("invalid_ts_oldest") from None
        try:
            latest = _micros(str(args["latest"])) if "latest" in args else sys.maxsize
        except (ArithmeticError, ValueError):
            raise SlackError("invalid_ts_latest") from None
        try:
            cursor = args.get("cursor") or ""
            below = _micros(base64.b64decode(cursor).decode().removeprefix("next_ts:") or "-1")
        except (ArithmeticError, ValueError):
            raise SlackError("invalid_cursor") from None
        inclusive = args.get("inclusive") in _TRUE
        limit = int(args.get("limit") or 100) if str(args.get("limit", "")).isdigit() else 100
        found = [
            m
            for m in reversed(self._messages)
            if m.channel == channel
            and m.thread_ts in {None, m.ts}
            and (oldest <= _micros(m.ts) if inclusive else oldest < _micros(m.ts))
            and (_micros(m.ts) <= latest if inclusive else _micros(m.ts) < latest)
            and (not cursor or _micros(m.ts) <= below)
        ]
        with_metadata = args.get("include_all_metadata") in _TRUE
        page = [m.to_slack(with_metadata=with_metadata) for m in found[:limit]]
        answer: dict[str, Any] = {"messages": page, "has_more": len(found) > limit}
        answer |= {"pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}
        if len(found) > limit:
            next_cursor = base64.b64encode(f"next_ts:{found[limit].ts}".encode()).decode()
            answer["response_metadata"] = {"next_cursor": next_cursor}
        return answer

    def _content(self, args: dict[str, Any]) -> dict[str, Any]:
        content = {
            "text": args.get("text") or args.get("markdown_text"),
            "blocks": _json_arg(args, "blocks", "invalid_blocks_format"),
            "attachments": _json_arg(args, "attachments", "invalid_attachments"),
        }
        metadata = _json_arg(args, "metadata", "invalid_metadata_format")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload", {}), dict)
        ):
            raise SlackError("invalid_metadata_schema")
        return content | {"metadata": metadata}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args["channel"]))
        content = self._content(args)
        if not (content["text"] or content["blocks"] or content["attachments"]):
            raise SlackError("no_text")
        message = Message(channel, self._next_ts(), thread_ts=args.get("thread_ts"), **content)
        self._messages.append(message)
        return {
            "channel": channel,
            "ts": message.ts,
            "message": message.to_slack(with_metadata=True),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args["channel"]))
        user = self._user(str(args["user"]), "user_not_in_channel")
        members = self._channels[channel]
        if members and user.id not in members:  # a conversation the person is not in
            raise SlackError("user_not_in_channel")
        content = self._content(args)
        if not (content["text"] or content["blocks"] or content["attachments"]):
            raise SlackError("no_text")
        message = Message(channel, self._next_ts(), to_user=user.id, **content)
        self._ephemerals.append(message)
        return {"message_ts": message.ts}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args["channel"]))
        message = next(
            (m for m in self._messages if m.channel == channel and m.ts == args["ts"]), None
        )
        if message is None:
            raise SlackError("message_not_found")
        for name, value in self._content(args).items():
            if name in args:
                setattr(message, name, value)
        message.edits += 1
        shown = message.to_slack(with_metadata=True)
        return {"channel": channel, "ts": message.ts, "text": shown["text"], "message": shown}

    def _take_trigger(self, args: dict[str, Any]) -> tuple[str, _Trigger | None]:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise SlackError("invalid_arguments", "[ERROR] missing required field: trigger_id")
        if not _TRIGGER_ID.match(str(trigger)):
            raise SlackError("invalid_trigger_id")
        if trigger in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        minted = self._triggers.get(str(trigger))
        if minted is not None and self._clock() - minted.at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        return str(trigger), minted

    def _valid_view(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """The view argument, checked as Slack checks a modal (messages in Slack's words)."""
        view = _json_arg(args, "view", "invalid_arguments")
        if not isinstance(view, dict) or "type" not in view:
            raise SlackError("invalid_arguments", "[ERROR] missing required field: type")
        problems = _view_problems(view)
        if problems:
            self._violation(f"{method}: {'; '.join(problems)}")
            raise SlackError("invalid_arguments", *problems)
        return view

    def _external(self, external_id: str) -> dict[str, Any] | None:
        return next((v for v in self._views.values() if v["external_id"] == external_id), None)

    def _show_view(
        self, view: dict[str, Any], view_id: str, root: str, previous: str | None
    ) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": view_id, "team_id": TEAM_ID, "type": view["type"]}
        shown |= {"blocks": view.get("blocks", [])}
        shown |= {"private_metadata": view.get("private_metadata", "")}
        shown |= {"callback_id": view.get("callback_id", ""), "state": {"values": {}}}
        shown |= {"hash": f"{int(self._clock())}.{secrets.token_hex(4)}"}
        shown |= {"title": view.get("title"), "clear_on_close": view.get("clear_on_close", False)}
        shown |= {"notify_on_close": view.get("notify_on_close", False)}
        shown |= {"close": view.get("close"), "submit": view.get("submit")}
        shown |= {"previous_view_id": previous, "root_view_id": root, "app_id": APP_ID}
        shown |= {"external_id": view.get("external_id", "")}
        shown |= {"app_installed_team_id": TEAM_ID, "bot_id": BOT_ID}
        return shown

    def _open_view(
        self, view: dict[str, Any], trigger: str, minted: _Trigger | None, stack: list[str]
    ) -> dict[str, Any]:
        if view.get("external_id") and self._external(view["external_id"]):
            raise SlackError("duplicate_external_id")
        self._used_triggers.add(trigger)
        view_id = self._new_id("V")
        root = stack[0] if stack else view_id
        shown = self._show_view(view, view_id, root, stack[-1] if stack else None)
        stack.append(view_id)
        self._stacks[root] = stack
        self._views[view_id] = shown
        self._view_users[view_id] = minted.user_id if minted else None
        return {"view": shown}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger, minted = self._take_trigger(args)
        view = self._valid_view("views.open", args)
        return self._open_view(view, trigger, minted, [])

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """Pushes onto the modal the trigger came from: a trigger minted with ``view_id``
        (any other is answered ``not_found``, the stand-in's choice)."""
        trigger, minted = self._take_trigger(args)
        view = self._valid_view("views.push", args)
        if minted is None or minted.view_id not in self._views:
            raise SlackError("not_found")
        stack = self._stacks[self._views[minted.view_id]["root_view_id"]]
        if len(stack) >= VIEW_STACK_MAX:
            raise SlackError("push_limit_reached")
        return self._open_view(view, trigger, minted, stack)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("view_id") and not args.get("external_id"):
            raise SlackError(
                "invalid_arguments", "[ERROR] either view_id or external_id is required"
            )
        view = self._valid_view("views.update", args)
        if args.get("view_id"):
            current = self._views.get(str(args["view_id"]))
        else:
            current = self._external(str(args["external_id"]))
        if current is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        external = view.get("external_id", current["external_id"])
        if external and external != current["external_id"] and self._external(external):
            raise SlackError("duplicate_external_id")
        view_id, root = current["id"], current["root_view_id"]
        shown = self._show_view(view, view_id, root, current["previous_view_id"])
        shown["external_id"] = external
        self._views[view_id] = shown
        return {"view": shown}


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() waits for request threads
    block_on_close = True
    request_queue_size = 128  # the default 5 resets connections under 16 concurrent clients

    def __init__(self, standin: SlackStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin
        self.accepted = 0
        self._open: dict[_Handler, bool] = {}  # open connections: True while waiting (idle)
        self._open_lock = threading.Lock()

    def opened(self, handler: _Handler) -> int:
        with self._open_lock:
            self.accepted += 1
            self._open[handler] = True
            return self.accepted

    def closed(self, handler: _Handler) -> None:
        with self._open_lock:
            self._open.pop(handler, None)

    def set_idle(self, handler: _Handler, *, idle: bool) -> None:
        with self._open_lock:
            if handler in self._open:
                self._open[handler] = idle

    def close_idle(self) -> int:
        deadline = time.monotonic() + 1  # an answer just sent: its handler is about to wait
        while True:
            with self._open_lock:
                idle = [handler for handler, waiting in self._open.items() if waiting]
                busy = len(self._open) - len(idle)
            if not busy or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        for handler in idle:
            _shutdown(handler.connection, socket.SHUT_RDWR)
        return len(idle)

    def end_connections(self) -> None:
        """Stop reading from every connection: a waiting one ends at once, one in the middle
        of a request still sends its answer, then ends."""
        with self._open_lock:
            handlers = list(self._open)
        for handler in handlers:
            _shutdown(handler.connection, socket.SHUT_RD)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):  # a client hanging up is not worth a traceback
            self.standin._violation(f"stand-in failed on a request: {error!r}")


def _shutdown(connection: socket.socket, how: int) -> None:
    with contextlib.suppress(OSError):  # already gone
        connection.shutdown(how)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # connections kept open between requests, as Slack's
    #: an answer leaves in one write when the request is done (not its headers first, then
    #: its body: on a kept-alive connection Nagle's algorithm and the client's delayed ACK
    #: would hold the second write back for 40 ms)
    wbufsize = 1 << 16
    number = 0

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.number = self.server.opened(self)

    def finish(self) -> None:
        self.server.closed(self)
        super().finish()

    def parse_request(self) -> bool:
        self.server.set_idle(self, idle=False)  # a request line came: busy until answered
        return super().parse_request()

    def handle_one_request(self) -> None:
        self.server.set_idle(self, idle=True)
        super().handle_one_request()

    def do_POST(self) -> None:
        self.server.standin.serve(self, "POST")

    def do_GET(self) -> None:
        self.server.standin.serve(self, "GET")

    def reply(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: tests read ``calls()``, not a log."""
