"""The Slack stand-in, driven by the real slack_sdk clients over HTTP; and the kit that
speaks to our app as Slack does (tests/slack_http.py), served and checked against Bolt."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.client import RemoteDisconnected
from typing import TYPE_CHECKING, Any

import pytest
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from tests.slack_http import SlackSender, plain_text_value, post, serve_asgi, wait_for
from tests.slack_standin import APP_ID, BOT_USER_ID, REFERENCE_AVAILABLE, TEAM_ID, SlackStandIn

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NO_WAIT = FixedValueRetryIntervalCalculator(0.0)
needs_reference = pytest.mark.skipif(
    not REFERENCE_AVAILABLE, reason="../shared/reference/slack is absent"
)


@pytest.fixture
def alice(slack: SlackStandIn) -> str:
    return slack.add_user(name="alice", email="Alice@Example.org", tz="Asia/Ho_Chi_Minh")


def test_auth_test_and_a_bad_token(slack: SlackStandIn) -> None:
    answer = slack.client().auth_test()
    assert answer["user_id"] == BOT_USER_ID
    assert answer["team_id"]

    with pytest.raises(SlackApiError) as caught:
        slack.client(token="xoxp-not-a-bot").auth_test()  # noqa: S106 - a made-up token
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "invalid_auth"
    assert [c.token for c in slack.calls("auth.test")] == ["xoxb-focal-test", "xoxp-not-a-bot"]
    assert slack.violations == []


def test_lookup_by_email_and_users_info(slack: SlackStandIn, alice: str) -> None:
    client = slack.client()
    user = client.users_lookupByEmail(email="alice@example.org")["user"]
    assert user["id"] == alice
    assert user["profile"]["email"] == "Alice@Example.org"
    assert user["tz"] == "Asia/Ho_Chi_Minh"
    assert user["tz_offset"] == 7 * 3600
    assert "locale" not in user

    with pytest.raises(SlackApiError) as caught:
        client.users_lookupByEmail(email="nobody@example.org")
    assert caught.value.response["error"] == "users_not_found"

    assert client.users_info(user=alice, include_locale=True)["user"]["locale"] == "en-US"
    with pytest.raises(SlackApiError) as caught:
        client.users_info(user="U404")
    assert caught.value.response["error"] == "user_not_found"
    assert slack.violations == []


def test_post_to_a_user_and_read_history_with_metadata(slack: SlackStandIn, alice: str) -> None:
    client = slack.client()
    metadata = {"event_type": "focal_reminder", "event_payload": {"reminder_id": "r-1"}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Due* soon"}}]
    posted = client.chat_postMessage(
        channel=alice, text="Due soon", blocks=blocks, metadata=metadata
    )

    dm = client.conversations_open(users=alice)["channel"]["id"]
    assert dm.startswith("D")
    assert posted["channel"] == dm
    assert posted["message"]["metadata"] == metadata

    history = client.conversations_history(channel=dm, include_all_metadata=True)
    assert [m["ts"] for m in history["messages"]] == [posted["ts"]]
    assert history["messages"][0]["metadata"] == metadata
    assert history["messages"][0]["blocks"] == blocks
    plain = client.conversations_history(channel=dm)
    assert "metadata" not in plain["messages"][0]

    [kept] = slack.sent_to(alice)
    assert (kept.text, kept.metadata, kept.ts) == ("Due soon", metadata, posted["ts"])
    assert slack.violations == []


def test_timestamps_increase_and_unknown_channels_are_refused(
    slack: SlackStandIn, alice: str
) -> None:
    client = slack.client()
    stamps = [client.chat_postMessage(channel=alice, text=str(i))["ts"] for i in range(5)]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C404", text="hello?")
    assert caught.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as caught:
        client.conversations_history(channel="D404")
    assert caught.value.response["error"] == "channel_not_found"
    assert slack.violations == []


def test_history_paging_oldest_latest_inclusive(slack: SlackStandIn, alice: str) -> None:
    client = slack.client()
    stamps = [client.chat_postMessage(channel=alice, text=f"m{i}")["ts"] for i in range(5)]
    dm = slack.dm_channel(alice)
    assert dm is not None

    first = client.conversations_history(channel=dm, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = client.conversations_history(channel=dm, limit=2, cursor=cursor)
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]

    pages = [
        [m["text"] for m in page["messages"]]
        for page in client.conversations_history(channel=dm, limit=2)
    ]
    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]

    between = client.conversations_history(channel=dm, oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in between["messages"]] == ["m2"]
    assert between["has_more"] is False
    assert "response_metadata" not in between
    inclusive = client.conversations_history(
        channel=dm, oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    assert slack.violations == []


def test_update_ephemeral_and_modal(slack: SlackStandIn, alice: str) -> None:
    client = slack.client()
    posted = client.chat_postMessage(channel=alice, text="v1")
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="v2")
    assert [m.text for m in slack.sent_to(alice)] == ["v2"]
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel=posted["channel"], ts="1.000001", text="v3")
    assert caught.value.response["error"] == "message_not_found"

    ephemeral = client.chat_postEphemeral(channel=posted["channel"], user=alice, text="psst")
    assert [m.ts for m in slack.ephemerals(alice)] == [ephemeral["message_ts"]]

    trigger = slack.new_trigger_id()
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Submit"}, "blocks": []}
    opened = client.views_open(trigger_id=trigger, view=view)["view"]
    assert opened["id"].startswith("V")
    assert slack.views()[0]["title"] == view["title"]
    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id=trigger, view=view)
    assert caught.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id="not a trigger", view=view)
    assert caught.value.response["error"] == "invalid_trigger_id"
    assert slack.violations == []


def test_unknown_method_is_a_404(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as caught:
        slack.client().api_call("chat.postMesage", json={"channel": "C1", "text": "x"})
    assert caught.value.response.status_code == 404
    assert caught.value.response["error"] == "unknown_method"


@needs_reference
def test_an_unknown_argument_is_a_violation(slack: SlackStandIn, alice: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        slack.client().chat_postMessage(channel=alice, text="hi", colour="red")
    assert caught.value.response["error"] == "invalid_arguments"
    assert slack.violations == [
        "chat.postMessage: [ERROR] unknown field: colour (args: ['channel', 'colour', 'text'])"
    ]
    assert slack.messages() == []


@needs_reference
def test_a_missing_required_argument_is_answered_as_slack_does(slack: SlackStandIn) -> None:
    client = slack.client()
    with pytest.raises(SlackApiError) as caught:
        client.api_call("users.lookupByEmail", params={})
    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] missing required field: email"
    ]
    with pytest.raises(SlackApiError) as caught:
        client.api_call("conversations.history", params={"limit": 1})  # from the OpenAPI file
    assert caught.value.response["error"] == "invalid_arguments"
    assert len(slack.violations) == 2


@needs_reference
def test_a_json_body_where_slack_wants_a_form_is_a_violation(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError):
        slack.client().api_call("users.lookupByEmail", json={"email": "a@example.org"})
    assert "does not take a JSON body" in slack.violations[0]


def test_without_the_reference_nothing_is_checked(tmp_path: Path) -> None:
    with SlackStandIn(reference=tmp_path) as slack:
        assert slack.reference_available is False
        slack.client().auth_test(anything="goes")
        assert slack.violations == []


def test_form_posts_and_get_requests_are_understood(slack: SlackStandIn, alice: str) -> None:
    url = f"{slack.url}users.info?user={alice}"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer xoxb-x"})  # noqa: S310
    with urllib.request.urlopen(request) as response:  # noqa: S310
        assert json.load(response)["user"]["id"] == alice
    form = b"token=xoxb-x&email=alice%40example.org"
    with urllib.request.urlopen(f"{slack.url}users.lookupByEmail", data=form) as response:  # noqa: S310
        assert json.load(response)["user"]["id"] == alice
    assert [c.http_verb for c in slack.calls()] == ["GET", "POST"]
    assert slack.violations == []


# ------------------------------------------------------------------ faults


@pytest.mark.slow  # sleeps Retry-After (1 s) plus slack_sdk's random 0-1 s
def test_rate_limit_is_waited_out(slack: SlackStandIn, alice: str) -> None:
    slack.rate_limit("chat.postMessage", retry_after=1)
    client = slack.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    client.chat_postMessage(channel=alice, text="hi")
    assert time.monotonic() - started >= 1
    assert [c.fault for c in slack.calls("chat.postMessage")] == ["rate_limit", None]
    assert len(slack.sent_to(alice)) == 1


def test_rate_limit_without_a_handler_is_an_error(slack: SlackStandIn, alice: str) -> None:
    slack.rate_limit("chat.postMessage", retry_after=30)
    with pytest.raises(SlackApiError) as caught:
        slack.client(retry_handlers=[]).chat_postMessage(channel=alice, text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "30"
    assert caught.value.response["error"] == "ratelimited"
    assert slack.sent_to(alice) == []


def test_server_errors_500_and_503_are_retried_but_not_502(slack: SlackStandIn, alice: str) -> None:
    slack.fail("chat.postMessage", status=503)
    handler = ServerErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)
    client = slack.client(retry_handlers=[handler])
    client.chat_postMessage(channel=alice, text="hi")
    assert len(slack.faults("chat.postMessage", "fail")) == 1

    slack.fail("chat.postMessage", status=502)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=alice, text="again")
    assert caught.value.response.status_code == 502
    assert [m.text for m in slack.sent_to(alice)] == ["hi"]


def test_a_dropped_connection_is_retried(slack: SlackStandIn, alice: str) -> None:
    slack.drop("chat.postMessage")
    handler = ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)
    slack.client(retry_handlers=[handler]).chat_postMessage(channel=alice, text="hi")
    assert [c.fault for c in slack.calls("chat.postMessage")] == ["drop", None]
    assert [m.text for m in slack.sent_to(alice)] == ["hi"]


def test_drop_after_store_keeps_the_message_the_client_never_heard_of(
    slack: SlackStandIn, alice: str
) -> None:
    slack.drop_after_store("chat.postMessage")
    with pytest.raises(RemoteDisconnected):
        slack.client(retry_handlers=[]).chat_postMessage(channel=alice, text="hi")
    assert [m.text for m in slack.sent_to(alice)] == ["hi"]

    # WebClient retries connection errors by default, so a plain client posts twice.
    assert any(isinstance(h, ConnectionErrorRetryHandler) for h in slack.client().retry_handlers)
    slack.drop_after_store("chat.postMessage")
    handler = ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)
    slack.client(retry_handlers=[handler]).chat_postMessage(channel=alice, text="twice")
    assert [m.text for m in slack.sent_to(alice)] == ["hi", "twice", "twice"]


def test_slow_answers_and_client_timeouts(slack: SlackStandIn, alice: str) -> None:
    slack.slow("users.info", seconds=0.2)
    started = time.monotonic()
    slack.client().users_info(user=alice)
    assert time.monotonic() - started >= 0.2

    slack.slow("users.info", seconds=5)
    with pytest.raises(TimeoutError):  # not retried: no built-in handler covers timeouts
        slack.client(timeout=0.2).users_info(user=alice)
    assert [c.fault for c in slack.calls("users.info")] == ["slow", "slow"]


# ----------------------------------------------------------- response URLs


def test_a_response_url_takes_json_five_times(slack: SlackStandIn, alice: str) -> None:
    url = slack.new_response_url(user_id=alice)
    assert url.startswith(f"{slack.url.removesuffix('/api/')}/hooks/commands/{TEAM_ID}/")
    client = WebhookClient(url)  # slack_sdk's client, the one Bolt's respond() uses
    for i in range(5):
        answer = client.send(text=f"reply {i}", response_type="ephemeral")
        assert (answer.status_code, answer.body) == (200, "ok")
    sixth = client.send(text="once more")
    assert (sixth.status_code, sixth.body) == (404, "used_url")

    assert [r.text for r in slack.responses(url)] == [f"reply {i}" for i in range(5)]
    assert slack.responses(url)[0].json == {"text": "reply 0", "response_type": "ephemeral"}
    assert [(r.status, r.error) for r in slack.responses(url, refused=True)] == [(404, "used_url")]
    assert slack.responses(slack.new_response_url()) == []
    assert slack.violations == []


def test_unknown_and_expired_response_urls_are_404() -> None:
    now = [1_790_000_000.0]
    with SlackStandIn(clock=lambda: now[0]) as slack:
        unknown = slack.url.removesuffix("/api/") + f"/hooks/commands/{TEAM_ID}/1/nope"
        answer = WebhookClient(unknown).send(text="hello?")
        assert (answer.status_code, answer.body) == (404, "no_service")

        url = slack.new_response_url()
        now[0] += 30 * 60 - 1
        assert WebhookClient(url).send(text="in time").status_code == 200
        now[0] += 2
        late = WebhookClient(url).send(text="too late")
        assert (late.status_code, late.body) == (404, "expired_url")
        assert [r.error for r in slack.responses(refused=True)] == ["no_service", "expired_url"]


def test_a_response_needs_json_with_something_to_show(slack: SlackStandIn) -> None:
    url = slack.new_response_url()
    empty = WebhookClient(url).send_dict({"response_type": "ephemeral"})
    assert (empty.status_code, empty.body) == (400, "no_text")
    form = urllib.request.Request(url, data=b"text=hi")  # noqa: S310 - the stand-in
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(form)  # noqa: S310
    assert (caught.value.code, caught.value.read()) == (400, b"invalid_payload")
    assert len(slack.violations) == 1
    assert "not a JSON object" in slack.violations[0]
    assert WebhookClient(url).send(blocks=[{"type": "divider"}]).status_code == 200
    assert slack.responses(url)[0].json == {"blocks": [{"type": "divider"}]}


def test_a_response_replaces_or_deletes_the_pressed_message(
    slack: SlackStandIn, alice: str
) -> None:
    client = slack.client()
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Due* soon"}}]
    posted = client.chat_postMessage(channel=alice, text="Due soon", blocks=blocks)
    url = slack.new_response_url(
        kind="actions", user_id=alice, channel=posted["channel"], message_ts=posted["ts"]
    )
    assert "/hooks/actions/" in url
    WebhookClient(url).send(text="Not applicable: noted", replace_original=True)
    [kept] = slack.sent_to(alice)
    assert (kept.text, kept.blocks, kept.edits) == ("Not applicable: noted", None, 1)

    WebhookClient(url).send(text="a new ephemeral reply")  # leaves the original alone
    assert [m.text for m in slack.sent_to(alice)] == ["Not applicable: noted"]
    WebhookClient(url).send(delete_original=True)
    assert slack.sent_to(alice) == []
    assert len(slack.responses(url)) == 3


def test_response_url_faults(slack: SlackStandIn) -> None:
    url = slack.new_response_url()
    slack.fail("response_url", status=503)
    failed = WebhookClient(url, retry_handlers=[]).send(text="hi")
    assert failed.status_code == 503
    assert slack.responses() == []
    assert WebhookClient(url).send(text="hi").status_code == 200
    assert [r.text for r in slack.responses(url)] == ["hi"]


# ---------------------------------------------------------- modals, ephemerals


MODAL = {
    "type": "modal",
    "callback_id": "focal_submit",
    "title": {"type": "plain_text", "text": "Nộp đầu vào"},
    "submit": {"type": "plain_text", "text": "Nộp"},
    "blocks": [
        {
            "type": "input",
            "block_id": "text",
            "label": {"type": "plain_text", "text": "Text"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


def test_views_update_by_id_or_external_id_and_hash(slack: SlackStandIn, alice: str) -> None:
    client = slack.client()
    opened = client.views_open(
        trigger_id=slack.new_trigger_id(user_id=alice), view=MODAL | {"external_id": "ext-1"}
    )["view"]
    assert (opened["root_view_id"], opened["previous_view_id"]) == (opened["id"], None)
    assert [v["id"] for v in slack.views(alice)] == [opened["id"]]
    assert slack.views("U0SOMEONE") == []

    thanks = MODAL | {"title": {"type": "plain_text", "text": "Cảm ơn"}, "blocks": []}
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=thanks)["view"]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert updated["external_id"] == "ext-1"
    assert slack.views()[0]["title"]["text"] == "Cảm ơn"

    with pytest.raises(SlackApiError) as caught:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=thanks)
    assert caught.value.response["error"] == "hash_conflict"
    client.views_update(external_id="ext-1", view=MODAL)
    assert slack.views()[0]["blocks"] == MODAL["blocks"]
    with pytest.raises(SlackApiError) as caught:
        client.views_update(view_id="V404", view=MODAL)
    assert caught.value.response["error"] == "not_found"
    with pytest.raises(SlackApiError) as caught:
        client.api_call("views.update", json={"view": MODAL})  # slack_sdk would refuse
    assert caught.value.response["error"] == "invalid_arguments"
    assert slack.violations == []


def test_views_push_onto_the_modal_the_trigger_came_from(slack: SlackStandIn, alice: str) -> None:
    client = slack.client()
    root = client.views_open(trigger_id=slack.new_trigger_id(user_id=alice), view=MODAL)["view"]
    top = root
    for _ in range(2):
        trigger = slack.new_trigger_id(user_id=alice, view_id=top["id"])
        pushed = client.views_push(trigger_id=trigger, view=MODAL)["view"]
        assert (pushed["root_view_id"], pushed["previous_view_id"]) == (root["id"], top["id"])
        top = pushed
    with pytest.raises(SlackApiError) as caught:
        client.views_push(trigger_id=slack.new_trigger_id(view_id=top["id"]), view=MODAL)
    assert caught.value.response["error"] == "push_limit_reached"
    with pytest.raises(SlackApiError) as caught:  # a trigger from a message, not a modal
        client.views_push(trigger_id=slack.new_trigger_id(user_id=alice), view=MODAL)
    assert caught.value.response["error"] == "not_found"
    assert len(slack.views(alice)) == 3
    assert slack.violations == []


def test_a_trigger_expires_after_three_seconds() -> None:
    now = [1_790_000_000.0]
    with SlackStandIn(clock=lambda: now[0]) as slack:
        trigger = slack.new_trigger_id()
        now[0] += 3.5
        with pytest.raises(SlackApiError) as caught:
            slack.client().views_open(trigger_id=trigger, view=MODAL)
        assert caught.value.response["error"] == "expired_trigger_id"
        fresh = slack.new_trigger_id()
        now[0] += 2.5
        slack.client().views_open(trigger_id=fresh, view=MODAL)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"title": {"type": "plain_text", "text": "Nộp đầu vào cho cuộc họp ASOEN"}},
            "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
        ),
        ({"submit": None}, "[ERROR] must provide a submit property when using input blocks"),
        ({"type": "home"}, "[ERROR] must be 'modal' [json-pointer:/view/type]"),
        ({"private_metadata": "x" * 3001}, "[ERROR] must be less than 3001 characters"),
    ],
)
def test_a_modal_slack_would_refuse_is_refused(
    slack: SlackStandIn, change: dict[str, object], message: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        slack.client().views_open(trigger_id=slack.new_trigger_id(), view=MODAL | change)
    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"][0].startswith(message)
    assert len(slack.violations) == 1
    assert slack.views() == []


def test_an_ephemeral_goes_only_to_someone_in_the_conversation(
    slack: SlackStandIn, alice: str
) -> None:
    bob = slack.add_user(name="bob", email="bob@example.org")
    client = slack.client()
    posted = client.chat_postEphemeral(channel=alice, user=alice, text="only you")
    assert [m.ts for m in slack.ephemerals(alice)] == [posted["message_ts"]]
    with pytest.raises(SlackApiError) as caught:
        client.chat_postEphemeral(channel=slack.open_dm(alice), user=bob, text="not yours")
    assert caught.value.response["error"] == "user_not_in_channel"
    channel = slack.add_channel()
    client.chat_postEphemeral(channel=channel, user=bob, text="in a channel")
    assert [m.text for m in slack.ephemerals(bob)] == ["in a channel"]


def test_team_id_is_taken_by_every_method(slack: SlackStandIn, alice: str) -> None:
    """slack_sdk adds team_id to each call of a client made with one, as Bolt makes them."""
    client = slack.client(team_id=TEAM_ID)
    client.auth_test()
    client.chat_postMessage(channel=alice, text="hi")
    assert slack.calls("auth.test")[0].args == {"team_id": TEAM_ID}
    assert slack.violations == []


# --------------------------------------------------------- serving ASGI apps


def test_serve_asgi_serves_a_plain_asgi_app_and_stops() -> None:
    events: list[str] = []

    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                events.append(message["type"])
                await send({"type": "lifespan.startup.complete"})
            events.append(message["type"])
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = (await receive()).get("body", b"")
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-n", b"1")]})
        await send({"type": "http.response.body", "body": scope["path"].encode() + b" " + body})

    before = set(threading.enumerate())
    with serve_asgi(echo) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        answer = post(f"{base_url}/slack/events", b"hi", {"Content-Type": "text/plain"})
        assert (answer.status, answer.text, answer.headers["x-n"]) == (201, "/slack/events hi", "1")
        assert events == ["lifespan.startup"]
    assert events == ["lifespan.startup", "lifespan.shutdown"]
    assert set(threading.enumerate()) == before
    with pytest.raises(ConnectionRefusedError):
        post(f"{base_url}/slack/events", b"hi", {})


def test_serve_asgi_says_so_when_the_app_does_not_start(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    before = set(threading.enumerate())
    with pytest.raises(RuntimeError, match="did not start"), serve_asgi(broken):
        pass
    assert "no database" in caplog.text
    assert set(threading.enumerate()) == before


# ------------------------------------------- the kit against Bolt, end to end

SIGNING_SECRET = "focal-test-signing-secret"  # noqa: S105 - made up
SUBMIT_VIEW = MODAL | {"private_metadata": '{"code": "ASOEN37-WORKPLANS"}'}


@pytest.fixture
def bolt(slack: SlackStandIn) -> Iterator[tuple[SlackSender, list[dict[str, Any]]]]:
    """A Bolt app as Focal's is served (AsyncApp behind Bolt's ASGI adapter), its client on
    the stand-in; listeners record what they were given."""
    seen: list[dict[str, Any]] = []
    client = AsyncWebClient(token="xoxb-focal-test", base_url=slack.url)  # noqa: S106
    app = AsyncApp(signing_secret=SIGNING_SECRET, client=client)

    @app.command("/focal")
    async def focal(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        seen.append(body)
        if body["text"] == "submit":
            await client.views_open(trigger_id=body["trigger_id"], view=SUBMIT_VIEW)
        else:
            await respond(text=f"echo: {body['text']}")

    @app.action("focal_not_applicable")
    async def not_applicable(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        seen.append(body)
        await respond(text="Not applicable: noted", replace_original=True)

    @app.view("focal_submit")
    async def submitted(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        seen.append(body)

    with serve_asgi(AsyncSlackRequestHandler(app)) as base_url:
        yield SlackSender(base_url, SIGNING_SECRET, slack=slack), seen


def test_bolt_takes_a_signed_command_and_answers_on_the_response_url(
    slack: SlackStandIn, alice: str, bolt: tuple[SlackSender, list[dict[str, Any]]]
) -> None:
    sender, seen = bolt
    text = "nộp ASOEN37 Góp ý 提交 🎉 " + "x" * 40_000
    answer = sender.command(text, user_id=alice)
    assert answer.status == 200
    assert answer.elapsed < 3  # Slack's limit
    [reply] = wait_for(lambda: slack.responses(answer.request.response_url))
    assert reply.text == f"echo: {text}"
    [body] = seen
    assert (body["user_id"], body["channel_id"]) == (alice, slack.dm_channel(alice))
    assert (body["command"], body["team_id"], body["api_app_id"]) == ("/focal", TEAM_ID, APP_ID)
    assert slack.violations == []


def test_bolt_refuses_forged_and_stale_requests_and_a_replay_is_the_same_bytes(
    slack: SlackStandIn, alice: str, bolt: tuple[SlackSender, list[dict[str, Any]]]
) -> None:
    sender, seen = bolt
    assert sender.command("deadlines", user_id=alice, secret="not-the-secret").status == 401  # noqa: S106
    stale = sender.command("deadlines", user_id=alice, timestamp=int(time.time()) - 5 * 60 - 1)
    assert stale.status == 401
    assert seen == []

    first = sender.command("deadlines", user_id=alice)
    again = sender.replay(first)
    assert again.request == first.request  # the same bytes, signature and timestamp
    assert (first.status, again.status) == (200, 200)  # Bolt checks the 5-minute window only
    wait_for(lambda: len(seen) == 2)
    assert seen[0] == seen[1]


def test_bolt_gets_a_pressed_button_and_a_submitted_modal(
    slack: SlackStandIn, alice: str, bolt: tuple[SlackSender, list[dict[str, Any]]]
) -> None:
    sender, seen = bolt
    buttons = [
        {"type": "button", "action_id": "focal_not_applicable", "value": code,
         "text": {"type": "plain_text", "text": "Không áp dụng"}}
        for code in ("ASOEN37-WORKPLANS", "ASOEN37-STATEMENT")
    ]  # fmt: skip
    blocks = [
        {"type": "actions", "block_id": f"line-{i}", "elements": [b]} for i, b in enumerate(buttons)
    ]
    slack.client().chat_postMessage(channel=alice, text="2 inputs due", blocks=blocks)
    [reminder] = slack.sent_to(alice)

    pressed = sender.action(
        user_id=alice, action_id="focal_not_applicable", message=reminder, value="ASOEN37-STATEMENT"
    )
    assert pressed.status == 200
    wait_for(lambda: slack.sent_to(alice)[0].edits)
    [action] = seen[0]["actions"]
    assert (action["value"], action["block_id"]) == ("ASOEN37-STATEMENT", "line-1")
    assert action["text"]["text"] == "Không áp dụng"
    assert seen[0]["message"]["ts"] == reminder.ts
    assert slack.sent_to(alice)[0].text == "Not applicable: noted"

    assert sender.command("submit", user_id=alice).status == 200
    [modal] = wait_for(lambda: slack.views(alice))
    submitted = sender.submit_view(
        user_id=alice, values={"text": {"text": plain_text_value("Góp ý")}}
    )
    assert (submitted.status, submitted.body) == (200, b"")
    view = seen[-1]["view"]
    assert (view["id"], view["private_metadata"]) == (modal["id"], SUBMIT_VIEW["private_metadata"])
    assert view["state"]["values"] == {"text": {"text": plain_text_value("Góp ý")}}
    assert slack.violations == []
