"""Kept-alive connections to Slack (bots/slack/transport.py), through the real ``slack_sdk`` client.

Whatever happens to a connection that is kept open between calls (the server closes it while it
waits in the pool, drops it in the middle of a post, answers 429 or 5xx on it, answers too late),
each reminder ends up in Slack exactly once, and an answer is never read as another call's.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.error import URLError
from urllib.parse import urlsplit

import pytest

from bots.slack import transport
from bots.slack.notifier import SlackNotifier, build_web_clients
from bots.slack.transport import ConnectionPool, KeepAliveWebClient
from core.model import Language, Person
from core.notices import REMINDER_EVENT, ReminderLine, ReminderMessage, Titled
from core.reminders import ReminderKind
from services.ports import DeliveryFailedError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.slack_standin import SlackStandIn

TOKEN = "xoxb-focal-test"  # noqa: S105 - the stand-in's made-up token
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
WORKPLANS = Titled("ASOEN37-WORKPLANS", "2027 work plans of the working groups")


def reminder(user_id: str, key: str) -> ReminderMessage:
    recipient = Person(
        handle="minh",
        name="Minh",
        email="minh@example.gov.vn",
        timezone="Asia/Ho_Chi_Minh",
        language=Language.EN,
        country="VN",
        slack_user_id=user_id,
    )
    line = ReminderLine(
        key=key,
        kind=ReminderKind.BEFORE,
        deadline=WORKPLANS,
        meeting=None,
        person="minh",
        person_name="Minh",
        due_at=NOW + timedelta(days=7),
    )
    return ReminderMessage(recipient=recipient, lines=(line,), now=NOW)


def notifier(slack: SlackStandIn, **options: Any) -> SlackNotifier:
    clients = build_web_clients(token=TOKEN, base_url=slack.url, **options)
    return SlackNotifier(clients, digest_channel=None, sleep=lambda _s: None)


def keys_in_slack(slack: SlackStandIn, user_id: str) -> list[str]:
    keys = []
    for message in slack.sent_to(user_id):
        assert message.metadata is not None
        assert message.metadata["event_type"] == REMINDER_EVENT
        keys += message.metadata["event_payload"]["keys"]
    return keys


@pytest.fixture
def minh(slack: SlackStandIn) -> str:
    return slack.add_user(name="minh", email="minh@example.gov.vn")


def wait_until_closed_by_peer(client: KeepAliveWebClient) -> None:
    """The server's FIN reaches the pooled socket a moment after the server closes it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        idle = [item.connection for items in client.pool._idle.values() for item in items]
        if idle and all(transport._closed_by_peer(c) for c in idle):
            return
        time.sleep(0.01)
    pytest.fail("the pooled connection never saw the server close it")


# ------------------------------------------------------------------ reuse


def test_calls_go_over_one_kept_alive_connection(slack: SlackStandIn, minh: str) -> None:
    notify = notifier(slack)
    for n in range(5):
        notify.send(reminder(minh, f"k/{n}"))

    assert keys_in_slack(slack, minh) == [f"k/{n}" for n in range(5)]
    assert {c.connection for c in slack.calls()} == {1}
    assert slack.connections() == 1
    notify.close()
    assert slack.violations == []


def test_threads_sending_at_once_each_hold_one_connection_at_a_time(
    slack: SlackStandIn, minh: str
) -> None:
    client = KeepAliveWebClient(token=TOKEN, base_url=slack.url)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                client.chat_postMessage(channel=minh, text=f"{n}/{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sorted(m.text or "" for m in slack.sent_to(minh)) == sorted(
        f"{n}/{i}" for n in range(4) for i in range(10)
    )
    assert slack.connections() == client.pool.opened <= 4
    assert client.pool.idle() == client.pool.opened
    client.close()
    assert client.pool.idle() == 0


def test_a_client_that_sends_connection_close_gets_one_call_per_connection(
    slack: SlackStandIn, minh: str
) -> None:
    plain = slack.client()  # slack_sdk's own urllib transport, as the benchmark's baseline
    for n in range(3):
        plain.chat_postMessage(channel=minh, text=str(n))
    assert slack.connections() == 3


# ------------------------------------------------------------ lost connections


def test_a_pooled_connection_the_server_closed_is_replaced_before_posting(
    slack: SlackStandIn, minh: str
) -> None:
    notify = notifier(slack)
    notify.send(reminder(minh, "k/1"))
    assert slack.close_idle_connections() == 1
    wait_until_closed_by_peer(notify._clients.post)  # type: ignore[arg-type]

    notify.send(reminder(minh, "k/2"))

    assert keys_in_slack(slack, minh) == ["k/1", "k/2"]
    posts = slack.calls("chat.postMessage")
    assert [c.connection for c in posts] == [1, 2]  # posted on a new connection at once
    assert slack.calls("conversations.history") == []  # never unsure: nothing to look up
    assert slack.violations == []


def test_a_post_into_a_connection_that_died_unseen_is_still_delivered_once(
    slack: SlackStandIn, minh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server closes the connection just after the pool's check: the post goes into it
    notify = notifier(slack)
    notify.send(reminder(minh, "k/1"))
    slack.close_idle_connections()
    wait_until_closed_by_peer(notify._clients.post)  # type: ignore[arg-type]
    monkeypatch.setattr(transport, "_closed_by_peer", lambda _connection: False)

    notify.send(reminder(minh, "k/2"))

    assert keys_in_slack(slack, minh) == ["k/1", "k/2"]
    # either its body could not be sent (the server's reset came first: sent again at once) or
    # it went out whole and no answer came (unknowable: the history was read, then posted)
    assert len(slack.calls("conversations.history")) in {0, 1}
    assert len(slack.calls("chat.postMessage")) == 2  # the dead connection's never arrived
    assert slack.violations == []


def test_a_post_that_cannot_be_sent_on_a_dead_connection_is_sent_on_a_new_one(
    slack: SlackStandIn, minh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify = notifier(slack)
    notify.send(reminder(minh, "k/1"))
    slack.close_idle_connections()
    client = notify._clients.post
    assert isinstance(client, KeepAliveWebClient)
    wait_until_closed_by_peer(client)
    # a byte into the closed connection brings the server's reset: the next send fails
    [connection] = [item.connection for items in client.pool._idle.values() for item in items]
    assert connection.sock is not None
    connection.sock.send(b"\r\n")
    time.sleep(0.1)
    monkeypatch.setattr(transport, "_closed_by_peer", lambda _connection: False)

    notify.send(reminder(minh, "k/2"))

    assert keys_in_slack(slack, minh) == ["k/1", "k/2"]
    # nothing left the client whole, so nothing could have been stored: no look-up needed
    assert slack.calls("conversations.history") == []
    assert len(slack.calls("chat.postMessage")) == 2
    assert slack.violations == []


@pytest.mark.parametrize("stored", [False, True], ids=["before-storing", "after-storing"])
def test_a_kept_alive_connection_dropped_during_a_post_delivers_once(
    slack: SlackStandIn, minh: str, *, stored: bool
) -> None:
    notify = notifier(slack)
    notify.send(reminder(minh, "k/1"))  # the connection is now in the pool
    if stored:
        slack.drop_after_store("chat.postMessage")
    else:
        slack.drop("chat.postMessage")

    delivery = notify.send(reminder(minh, "k/2"))

    assert keys_in_slack(slack, minh) == ["k/1", "k/2"]
    assert slack.sent_to(minh)[-1].ts == delivery.ts
    posts = slack.calls("chat.postMessage")
    assert posts[1].connection == 1  # the drop happened on the kept-alive connection
    assert len(posts) == (2 if stored else 3)  # one found in the history is not posted again
    assert len(slack.calls("conversations.history")) == 1
    assert slack.violations == []


def test_a_lookup_dropped_on_a_kept_alive_connection_is_retried(
    slack: SlackStandIn, minh: str
) -> None:
    client = build_web_clients(token=TOKEN, base_url=slack.url).read
    client.auth_test()
    slack.drop("users.lookupByEmail")

    answer = client.users_lookupByEmail(email="minh@example.gov.vn")

    assert answer["user"]["id"] == minh
    assert [c.fault for c in slack.calls("users.lookupByEmail")] == ["drop", None]


def test_an_answer_too_late_is_never_taken_for_the_next_calls(
    slack: SlackStandIn, minh: str
) -> None:
    client = KeepAliveWebClient(token=TOKEN, base_url=slack.url, timeout=0.2, retry_handlers=[])
    client.auth_test()
    slack.slow("users.info", seconds=0.5)

    with pytest.raises(TimeoutError):
        client.users_info(user=minh)
    answer = client.auth_test()

    assert answer["user_id"] == "U0FOCALBOT"  # auth.test's own answer, not users.info's
    assert client.pool.opened == 2
    client.close()


def test_a_refused_connection_is_a_plain_failure_nothing_to_look_up(minh: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clients = build_web_clients(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/")
    notify = SlackNotifier(clients, digest_channel=None, sleep=lambda _s: None)

    with pytest.raises(DeliveryFailedError, match="could not reach Slack"):
        notify.send(reminder(minh, "k/1"))


# ---------------------------------------------------------------- 429 and 5xx


def test_a_rate_limit_on_a_kept_alive_connection_is_waited_out_on_it(
    slack: SlackStandIn, minh: str
) -> None:
    notify = notifier(slack)
    notify.send(reminder(minh, "k/1"))
    slack.rate_limit("chat.postMessage", retry_after=1)

    started = time.monotonic()
    notify.send(reminder(minh, "k/2"))

    assert time.monotonic() - started >= 1  # Retry-After honoured by slack_sdk's handler
    assert keys_in_slack(slack, minh) == ["k/1", "k/2"]
    posts = slack.calls("chat.postMessage")
    assert [(c.fault, c.connection) for c in posts] == [(None, 1), ("rate_limit", 1), (None, 1)]
    assert slack.calls("conversations.history") == []
    assert slack.violations == []


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_a_kept_alive_connection_is_looked_up_then_posted_once(
    slack: SlackStandIn, minh: str, status: int
) -> None:
    notify = notifier(slack)
    notify.send(reminder(minh, "k/1"))
    slack.fail("chat.postMessage", status=status)

    notify.send(reminder(minh, "k/2"))

    assert keys_in_slack(slack, minh) == ["k/1", "k/2"]
    posts = slack.calls("chat.postMessage")
    assert [(c.fault, c.connection) for c in posts] == [(None, 1), ("fail", 1), (None, 1)]
    assert len(slack.calls("conversations.history")) == 1
    assert slack.violations == []


# --------------------------------------------------------------------- proxies


class _Proxy(ThreadingHTTPServer):
    """A forward proxy on loopback for plain-HTTP targets; keeps what it was asked."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: list[tuple[str, str | None]] = []  # (request target, Proxy-Authorization)


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
        upstream = HTTPConnection(target.netloc, timeout=5)
        try:
            upstream.request("POST", target.path, body, headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.headers["Content-Type"])
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def test_a_proxy_is_used_with_its_credentials(
    slack: SlackStandIn, minh: str, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    port = proxy.server_address[1]
    client = KeepAliveWebClient(
        token=TOKEN, base_url=slack.url, proxy=f"http://focal:s%40cret@127.0.0.1:{port}"
    )
    client.chat_postMessage(channel=minh, text="one")
    client.chat_postMessage(channel=minh, text="two")

    assert [m.text for m in slack.sent_to(minh)] == ["one", "two"]
    expected_auth = "Basic Zm9jYWw6c0BjcmV0"  # focal:s@cret
    assert proxy.seen == [(f"{slack.url}chat.postMessage", expected_auth)] * 2
    assert client.pool.opened == 1  # kept alive to the proxy
    client.close()


def test_hosts_in_no_proxy_are_reached_directly(
    slack: SlackStandIn, minh: str, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    port = proxy.server_address[1]
    client = KeepAliveWebClient(token=TOKEN, base_url=slack.url, proxy=f"127.0.0.1:{port}")
    client.chat_postMessage(channel=minh, text="direct")

    assert [m.text for m in slack.sent_to(minh)] == ["direct"]
    assert proxy.seen == []
    client.close()


def test_https_goes_through_a_connect_tunnel_with_the_clients_tls_context() -> None:
    context = ssl.create_default_context()
    pool = ConnectionPool()
    origin = transport._Origin("https", "slack.com", "http://u:p@proxy.example:3128", context)
    connection = pool._open(origin, timeout=5)

    assert isinstance(connection, HTTPSConnection)
    assert (connection.host, connection.port) == ("proxy.example", 3128)
    assert connection._tunnel_host == "slack.com"  # type: ignore[attr-defined]
    assert connection._tunnel_headers == {"Proxy-Authorization": "Basic dTpw"}  # type: ignore[attr-defined]
    assert connection._context is context  # type: ignore[attr-defined]
    direct = pool._open(transport._Origin("https", "slack.com", None, context), timeout=5)
    assert isinstance(direct, HTTPSConnection)
    assert direct._context is context  # type: ignore[attr-defined]
    assert pool.opened == 2  # nothing was connected: connections open on their first request


def test_an_idle_connection_older_than_the_servers_keep_alive_timeout_is_not_reused(
    slack: SlackStandIn, minh: str
) -> None:
    clock = [0.0]
    pool = ConnectionPool(clock=lambda: clock[0], idle_seconds=30)
    client = KeepAliveWebClient(token=TOKEN, base_url=slack.url, pool=pool)
    client.chat_postMessage(channel=minh, text="one")
    clock[0] += 29
    client.chat_postMessage(channel=minh, text="two")
    clock[0] += 31
    client.chat_postMessage(channel=minh, text="three")

    assert [c.connection for c in slack.calls("chat.postMessage")] == [1, 1, 2]
    client.close()


def test_a_connection_error_while_connecting_is_a_url_error_as_with_urllib() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = KeepAliveWebClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/")
    client.retry_handlers = []
    with pytest.raises(URLError) as caught:
        client.auth_test()
    assert isinstance(caught.value.reason, ConnectionRefusedError)
