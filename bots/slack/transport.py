"""Keep-alive HTTP for ``slack_sdk``'s ``WebClient``: one TCP (and TLS) connection per caller at a
time, kept open between calls, instead of a new one for every call.

``slack_sdk``'s own transport is ``urllib``, which sends ``Connection: close`` and so pays a TCP
handshake (and, against Slack, a TLS handshake) for every message. ``KeepAliveWebClient`` is the
real ``WebClient``: it replaces only ``_perform_urllib_http_request_internal``, the one step that
turns a prepared ``urllib.request.Request`` into Slack's answer. Everything around it is
``slack_sdk``'s: arguments, headers, JSON, ``SlackResponse``, and the retry loop with its retry
handlers, which see the same things as with ``urllib``:

* a 2xx answer comes back as ``{"status", "headers", "body"}``;
* any other status raises ``urllib.error.HTTPError`` carrying the status, headers and body
  (so the rate-limit handler reads ``Retry-After`` and the server-error handlers the status);
* a failure to connect or to send raises ``urllib.error.URLError`` around the ``OSError``;
* a failure while waiting for or reading the answer raises what ``http.client`` raised
  (``RemoteDisconnected``, ``ConnectionResetError``, ``TimeoutError``, ``IncompleteRead``).

Connections live in a ``ConnectionPool`` shared by the threads that send: a caller takes an idle
connection (or opens one), sends, reads the whole answer, and gives the connection back unless
the server said it would close it. Exactly-once delivery leans on three rules here:

* a pooled connection is checked before it is used: one the server has closed (readable with
  nothing asked), or idle longer than the server's ``Keep-Alive: timeout`` or ``idle_seconds``,
  is dropped and a fresh one opened, so a post never goes down a connection known to be dead;
* a pooled connection that fails *while the request is being sent* is replaced and the request
  sent once more on a fresh connection: the server cannot have acted on a request it did not
  receive whole;
* a failure *after* the request went out is never retried here. It is raised, the connection is
  closed (a late answer must not be read as the next call's), and the caller decides: lookups
  retry through ``slack_sdk``'s handlers, ``chat.postMessage`` reads the history first.

Proxies are honoured as ``urllib`` honours them: ``WebClient.proxy`` (which ``slack_sdk`` fills
from ``HTTPS_PROXY`` and friends), skipped for hosts in ``NO_PROXY``; ``https`` through a
``CONNECT`` tunnel, with ``Proxy-Authorization`` from the proxy URL's user and password. TLS uses
``WebClient.ssl`` (the default context when None), and ``WebClient.timeout`` bounds the connect
and each read. Unlike ``urllib`` it does not follow redirects (Slack's Web API answers none).
"""

from __future__ import annotations

import base64
import io
import logging
import re
import select
import threading
import time
import weakref
from http.client import HTTPConnection, HTTPMessage, HTTPSConnection
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit
from urllib.request import proxy_bypass

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

if TYPE_CHECKING:
    from collections.abc import Callable
    from ssl import SSLContext
    from urllib.request import Request

#: Idle connections kept per origin; more are closed when given back.
MAX_IDLE = 32
#: A connection idle this long is not used again: servers and proxies close idle ones.
IDLE_SECONDS = 30.0
_KEEP_ALIVE_TIMEOUT = re.compile(r"(?:^|[\s,])timeout\s*=\s*(\d+)", re.IGNORECASE)


class _Origin(NamedTuple):
    """Where a connection goes: the target, and the proxy and TLS settings it was made with."""

    scheme: str
    netloc: str
    proxy: str | None
    ssl: SSLContext | None


class Answer(NamedTuple):
    status: int
    reason: str
    headers: HTTPMessage
    body: bytes


class _Idle(NamedTuple):
    connection: HTTPConnection
    usable_until: float  # on the pool's clock


def _close_all(idle: dict[_Origin, list[_Idle]], lock: threading.Lock) -> None:
    with lock:
        connections = [item.connection for items in idle.values() for item in items]
        idle.clear()
    for connection in connections:
        connection.close()


def _closed_by_peer(connection: HTTPConnection) -> bool:
    """True when an idle connection has something to read: the server's FIN (or anything
    else it should not have sent). Either way it must not carry a request."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):  # no limit on descriptor numbers, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed underneath us
        return True
    return bool(readable)


def _proxy_parts(proxy: str) -> tuple[str, str, dict[str, str]]:
    """(scheme, host[:port], headers) of a proxy URL, as ``urllib``'s ``ProxyHandler`` reads
    one (a bare ``host:port`` is an http proxy)."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    headers = {}
    if parts.username is not None and parts.password is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password)}".encode()
        headers["Proxy-Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    hostport = unquote(parts.netloc.rpartition("@")[2])
    return parts.scheme.lower(), hostport, headers


class ConnectionPool:
    """Idle HTTP connections by origin, shared by threads; each in use by one caller at a time.

    Closing the pool closes the idle connections; it may be used again afterwards (new
    connections are opened). A pool that is garbage-collected closes its connections too.
    """

    def __init__(
        self,
        *,
        max_idle: int = MAX_IDLE,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_idle = max_idle
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: dict[_Origin, list[_Idle]] = {}
        self.opened = 0  # connections opened so far (for tests and measurements)
        self._finalizer = weakref.finalize(self, _close_all, self._idle, self._lock)

    def close(self) -> None:
        _close_all(self._idle, self._lock)

    def idle(self) -> int:
        with self._lock:
            return sum(len(items) for items in self._idle.values())

    def send(
        self,
        request: Request,
        *,
        timeout: float,
        ssl: SSLContext | None = None,
        proxy: str | None = None,
    ) -> Answer:
        """Send ``request`` and read the whole answer, on a pooled connection if one is fit."""
        parts = urlsplit(request.full_url)
        scheme = parts.scheme.lower()
        if proxy and request.host and proxy_bypass(request.host):
            proxy = None
        origin = _Origin(scheme, parts.netloc, proxy or None, ssl if scheme == "https" else None)
        headers = dict(request.header_items())
        target = request.selector
        if origin.proxy is not None and scheme != "https":  # a plain proxy takes the whole URL
            target = request.full_url
            headers |= _proxy_parts(origin.proxy)[2]
        method, body = request.get_method(), request.data
        if body is not None and not isinstance(body, bytes):
            raise TypeError("the request body must be bytes")

        connection, reused = self._take(origin, timeout)
        try:
            connection.request(method, target, body, headers)
        except OSError as error:
            connection.close()
            if not reused:
                raise URLError(error) from error
            # the pooled connection died before the request went out whole: nothing was
            # received, so it is sent once more, on a new connection
            connection = self._open(origin, timeout)
            try:
                connection.request(method, target, body, headers)
            except OSError as again:
                connection.close()
                raise URLError(again) from again
        try:
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()  # an answer may still come: it must not be taken for the next
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(origin, connection, response.headers.get("Keep-Alive"))
        return Answer(response.status, response.reason, response.headers, data)

    # ------------------------------------------------------------ internals

    def _take(self, origin: _Origin, timeout: float) -> tuple[HTTPConnection, bool]:
        now = self._clock()
        while True:
            with self._lock:
                items = self._idle.get(origin)
                item = items.pop() if items else None  # the most recently used
            if item is None:
                return self._open(origin, timeout), False
            connection = item.connection
            if now >= item.usable_until or _closed_by_peer(connection):
                connection.close()
                continue
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True

    def _open(self, origin: _Origin, timeout: float) -> HTTPConnection:
        connection: HTTPConnection
        if origin.proxy is None:
            if origin.scheme == "https":
                connection = HTTPSConnection(origin.netloc, timeout=timeout, context=origin.ssl)
            else:
                connection = HTTPConnection(origin.netloc, timeout=timeout)
        else:
            proxy_scheme, hostport, proxy_headers = _proxy_parts(origin.proxy)
            if origin.scheme == "https":  # TLS with Slack through a CONNECT tunnel
                connection = HTTPSConnection(hostport, timeout=timeout, context=origin.ssl)
                connection.set_tunnel(origin.netloc, headers=proxy_headers)
            elif proxy_scheme == "https":
                connection = HTTPSConnection(hostport, timeout=timeout, context=origin.ssl)
            else:
                connection = HTTPConnection(hostport, timeout=timeout)
        with self._lock:
            self.opened += 1
        return connection

    def _give_back(
        self, origin: _Origin, connection: HTTPConnection, keep_alive: str | None
    ) -> None:
        seconds = self.idle_seconds
        if keep_alive and (found := _KEEP_ALIVE_TIMEOUT.search(keep_alive)):
            seconds = min(seconds, max(0.0, int(found.group(1)) - 1.0))  # a second's margin
        with self._lock:
            items = self._idle.setdefault(origin, [])
            if len(items) < self.max_idle:
                items.append(_Idle(connection, self._clock() + seconds))
                return
        connection.close()


def web_logger() -> logging.Logger:
    """The clients' logger, ``focal.slack.web``, with a level of its own.

    ``slack_sdk`` decides whether to format each request body and each answer for a debug line
    by testing ``logger.level <= DEBUG``: a logger left at ``NOTSET`` (every logger's default)
    passes, so every call built a string of its whole JSON that the logging system then threw
    away. This logger is given the level in effect when it is first asked for (an operator who
    wants slack_sdk's debug lines sets ``focal.slack.web`` to ``DEBUG``).
    """
    logger = logging.getLogger("focal.slack.web")
    if logger.level == logging.NOTSET:
        logger.setLevel(logger.getEffectiveLevel())
    return logger


class KeepAliveWebClient(WebClient):
    """``slack_sdk.WebClient`` whose calls go over kept-alive connections (see the module).

    ``pool`` may be shared between clients (one pool for a workspace's reading and posting
    clients); by default each client has its own. ``close()`` closes the idle connections.
    Without a ``logger`` it logs to ``web_logger()``.
    """

    def __init__(self, *args: Any, pool: ConnectionPool | None = None, **kwargs: Any) -> None:  # noqa: ANN401 - WebClient's own arguments
        kwargs.setdefault("logger", web_logger())
        super().__init__(*args, **kwargs)
        self.pool = pool if pool is not None else ConnectionPool()

    def close(self) -> None:
        self.pool.close()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not url.lower().startswith("http"):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        answer = self.pool.send(req, timeout=self.timeout, ssl=self.ssl, proxy=self.proxy)
        if not 200 <= answer.status < 300:  # noqa: PLR2004 - as urllib's HTTPErrorProcessor
            raise HTTPError(
                req.full_url, answer.status, answer.reason, answer.headers, io.BytesIO(answer.body)
            )
        if answer.headers.get_content_type() == "application/gzip":  # as slack_sdk does
            return {"status": answer.status, "headers": answer.headers, "body": answer.body}
        charset = answer.headers.get_content_charset() or "utf-8"
        return {
            "status": answer.status,
            "headers": answer.headers,
            "body": answer.body.decode(charset),
        }
