"""The Slack stand-in, driven by the real slack_sdk WebClient over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request
from http.client import RemoteDisconnected
from typing import TYPE_CHECKING

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from tests.slack_standin import BOT_USER_ID, REFERENCE_AVAILABLE, SlackStandIn

if TYPE_CHECKING:
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
