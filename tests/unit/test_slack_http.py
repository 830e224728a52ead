"""The kit that speaks to our app as Slack does: signatures (Focal's own, ``bots.slack.signing``,
which ``focal demo`` uses too) and bodies, byte for byte."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from bots.slack.signing import sign, signed_headers
from tests.slack_http import (
    Request,
    block_actions,
    date_value,
    find_button,
    plain_text_value,
    post,
    slack_json,
    slash_command,
    static_select_value,
    url_value,
    view_submission,
)
from tests.slack_standin import APP_ID, TEAM_ID

# Slack's own example, from "Verifying requests from Slack" (api.slack.com/authentication/
# verifying-requests-from-slack): a made-up secret, the body of a /webhook-collect command.
EXAMPLE_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - Slack's published example
EXAMPLE_TIMESTAMP = 1531420618
EXAMPLE_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXAMPLE_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

SECRET = "focal-test-signing-secret"  # noqa: S105 - made up
NOW = 1_790_000_000
RESPONSE_URL = "https://hooks.slack.com/commands/T0FOCAL01/1234567890/abcdefABCDEF012345678901"
TRIGGER = "13345224609.738474920.8088930838d88f008e0"

VIETNAMESE = "nộp ASOEN37-WORKPLANS Góp ý của Việt Nam về kế hoạch công tác năm 2027"
CHINESE = "提交 ASOEN37 东盟环境高官会 工作计划"
EMOJI = "submit 🎉👍🏽 🇻🇳 ✅"
AWKWARD = "a&b=c+d%20e/f?g#h \\ \"quoted\" 'single' <tag> \t tab\nnew line"
LONG = ("Bản góp ý dài: " + "x" * 41_000 + " — hết.")[:40_050]


class FixedClock(Clock):
    def __init__(self, now: int) -> None:
        self.at = now

    def now(self) -> float:
        return float(self.at)


def verifier(now: int = NOW, secret: str = SECRET) -> SignatureVerifier:
    return SignatureVerifier(secret, clock=FixedClock(now))


def command(text: str = "deadlines", **more: str) -> bytes:
    return slash_command(
        text=text, user_id="U0ALICE01", response_url=RESPONSE_URL, trigger_id=TRIGGER, **more
    )


def form(body: bytes) -> dict[str, str]:
    parsed = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values())
    return {name: values[0] for name, values in parsed.items()}


def payload(body: bytes) -> dict[str, Any]:
    fields = form(body)
    assert list(fields) == ["payload"]
    loaded: dict[str, Any] = json.loads(fields["payload"])
    return loaded


# ------------------------------------------------------------------ signing


def test_the_signer_reproduces_slacks_published_example() -> None:
    signature = sign(EXAMPLE_BODY, secret=EXAMPLE_SECRET, timestamp=EXAMPLE_TIMESTAMP)
    assert signature == EXAMPLE_SIGNATURE
    check = verifier(EXAMPLE_TIMESTAMP, EXAMPLE_SECRET)
    assert check.is_valid(EXAMPLE_BODY, str(EXAMPLE_TIMESTAMP), EXAMPLE_SIGNATURE)


def test_signed_headers_are_the_three_slack_sends() -> None:
    body = command()
    headers = signed_headers(body, secret=SECRET, timestamp=NOW)
    assert headers == {
        "X-Slack-Request-Timestamp": str(NOW),
        "X-Slack-Signature": sign(body, secret=SECRET, timestamp=NOW),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    json_headers = signed_headers(b"{}", secret=SECRET, timestamp=NOW, content_type="a/b")
    assert json_headers["Content-Type"] == "a/b"


@pytest.mark.parametrize("text", ["deadlines", VIETNAMESE, CHINESE, EMOJI, AWKWARD, LONG])
def test_slack_sdk_accepts_our_signatures_and_refuses_any_change(text: str) -> None:
    body = command(text)
    headers = signed_headers(body, secret=SECRET, timestamp=NOW)
    check = verifier()
    assert check.is_valid_request(body, headers)
    assert not check.is_valid_request(body + b"&x=1", headers)
    assert not check.is_valid_request(body.replace(b"U0ALICE01", b"U0ALICE02"), headers)
    assert not check.is_valid_request(body, headers | {"X-Slack-Request-Timestamp": str(NOW + 1)})
    assert not check.is_valid_request(
        body, signed_headers(body, secret=SECRET[::-1], timestamp=NOW)
    )


def test_slack_sdk_refuses_a_signature_older_than_five_minutes() -> None:
    body = command()
    assert verifier(NOW + 300).is_valid_request(
        body, signed_headers(body, secret=SECRET, timestamp=NOW)
    )
    stale = signed_headers(body, secret=SECRET, timestamp=NOW - 301)
    assert not verifier().is_valid_request(body, stale)


# ----------------------------------------------------------- slash commands


def test_a_slash_command_is_slacks_form_in_slacks_order() -> None:
    body = command("submit ASOEN37-WORKPLANS our input")
    assert body == (
        b"token=FocalVerificationToken24&team_id=T0FOCAL01&team_domain=focal-test"
        b"&channel_id=C0FOCALGEN&channel_name=focal&user_id=U0ALICE01&user_name=focal-user"
        b"&command=%2Ffocal&text=submit+ASOEN37-WORKPLANS+our+input&api_app_id=A0FOCALAPP"
        b"&is_enterprise_install=false"
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT0FOCAL01%2F1234567890"
        b"%2FabcdefABCDEF012345678901&trigger_id=13345224609.738474920.8088930838d88f008e0"
    )
    fields = form(body)
    assert fields["command"] == "/focal"
    assert (fields["team_id"], fields["api_app_id"]) == (TEAM_ID, APP_ID)
    assert fields["response_url"] == RESPONSE_URL


def test_an_enterprise_command_names_the_enterprise_after_the_team() -> None:
    fields = list(form(command(enterprise_id="E0GRID01", is_enterprise_install="true")))
    assert fields[:5] == ["token", "team_id", "team_domain", "enterprise_id", "enterprise_name"]
    assert form(command(enterprise_id="E0GRID01"))["enterprise_id"] == "E0GRID01"
    assert "enterprise_id" not in form(command())


@pytest.mark.parametrize("text", ["", VIETNAMESE, CHINESE, EMOJI, AWKWARD, LONG])
def test_command_text_round_trips_in_utf_8(text: str) -> None:
    body = command(text)
    assert body.isascii()  # percent-encoded UTF-8, spaces as "+"
    assert b" " not in body
    assert form(body)["text"] == text
    request = Request("http://127.0.0.1/slack/events", body, {})
    assert request.fields["text"] == text
    assert request.response_url == RESPONSE_URL
    if text == LONG:
        assert len(form(body)["text"]) >= 40_000


# ------------------------------------------------------------ interactivity


def test_json_is_written_as_slack_writes_it() -> None:
    written = slack_json({"url": "https://hooks.slack.com/a", "text": "Việt 🎉", "n": [1, None]})
    assert written == (
        '{"url":"https:\\/\\/hooks.slack.com\\/a","text":"Vi\\u1ec7t \\ud83c\\udf89","n":[1,null]}'
    )
    assert json.loads(written)["text"] == "Việt 🎉"
    assert json.loads(slack_json({"s": "a\\/b"}))["s"] == "a\\/b"


def press(**more: Any) -> bytes:
    arguments: dict[str, Any] = {
        "user_id": "U0ALICE01",
        "action_id": "focal_submit",
        "value": "ASOEN37-WORKPLANS",
        "block_id": "line-1",
        "response_url": RESPONSE_URL.replace("commands", "actions"),
        "trigger_id": TRIGGER,
        "channel_id": "D0ALICE01",
        "message_ts": "1790000000.000100",
    }
    return block_actions(**(arguments | more))


def test_a_button_press_has_the_whole_block_actions_shape() -> None:
    body = press(action_ts="1790000001.000200")
    assert body.startswith(b"payload=%7B%22type%22%3A%22block_actions%22%2C")
    assert b"https%3A%5C%2F%5C%2Fhooks.slack.com%5C%2Factions" in body  # "https:\/\/..." as Slack
    got = payload(body)
    assert list(got) == [
        "type", "user", "api_app_id", "token", "container", "trigger_id", "team", "enterprise",
        "is_enterprise_install", "channel", "message", "state", "response_url", "actions",
    ]  # fmt: skip
    assert got["user"] == {
        "id": "U0ALICE01", "username": "focal-user", "name": "focal-user", "team_id": TEAM_ID,
    }  # fmt: skip
    assert got["container"] == {
        "type": "message", "message_ts": "1790000000.000100", "channel_id": "D0ALICE01",
        "is_ephemeral": False,
    }  # fmt: skip
    assert got["team"] == {"id": TEAM_ID, "domain": "focal-test"}
    assert (got["enterprise"], got["is_enterprise_install"]) == (None, False)
    assert got["channel"] == {"id": "D0ALICE01", "name": "directmessage"}
    assert got["response_url"] == RESPONSE_URL.replace("commands", "actions")
    assert got["state"] == {"values": {}}
    message = got["message"]
    assert isinstance(message, dict)
    assert (message["ts"], message["text"], message["blocks"]) == ("1790000000.000100", "", [])
    assert got["actions"] == [
        {
            "action_id": "focal_submit",
            "block_id": "line-1",
            "text": {"type": "plain_text", "text": "Button", "emoji": True},
            "value": "ASOEN37-WORKPLANS",
            "type": "button",
            "action_ts": "1790000001.000200",
        }
    ]


def test_a_press_carries_the_button_and_message_it_was_given() -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "Nộp đầu vào"}}
    message = {"type": "message", "ts": "1790000000.000100", "text": "Sắp đến hạn", "blocks": []}
    got = payload(press(button=button | {"style": "primary"}, message=message, value=VIETNAMESE))
    [action] = got["actions"]
    assert action["text"] == button["text"]
    assert action["style"] == "primary"
    assert action["value"] == VIETNAMESE
    assert got["message"] == message
    assert "value" not in payload(press(value=None))["actions"][0]


def test_a_press_in_an_ephemeral_message_or_a_modal() -> None:
    ephemeral = payload(press(is_ephemeral=True))
    assert ephemeral["container"]["is_ephemeral"] is True
    assert "message" not in ephemeral  # Slack does not send an ephemeral message back

    view = {"id": "V0MODAL01", "type": "modal", "blocks": []}
    in_modal = payload(press(container_type="view", view=view, response_url=None))
    assert in_modal["container"] == {"type": "view", "view_id": "V0MODAL01"}
    assert in_modal["view"] == view
    assert {"channel", "message", "response_url"}.isdisjoint(in_modal)
    with pytest.raises(ValueError, match="needs the view"):
        press(container_type="view")
    with pytest.raises(ValueError, match="needs response_url"):
        press(response_url=None)


def test_find_button_picks_one_button_among_several() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Due"}},
        {"type": "actions", "block_id": "a1", "elements": [
            {"type": "button", "action_id": "focal_submit", "value": "A"},
            {"type": "button", "action_id": "focal_not_applicable", "value": "A"},
        ]},
        {"type": "actions", "block_id": "a2", "elements": [
            {"type": "button", "action_id": "focal_submit", "value": "B"},
        ]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "no id"},
         "accessory": {"type": "button", "action_id": "focal_help"}},
    ]  # fmt: skip
    assert find_button(blocks, "focal_submit", value="B") == ("a2", blocks[2]["elements"][0])
    assert find_button(blocks, "focal_submit", block_id="a1")[1]["value"] == "A"
    assert find_button(blocks, "focal_not_applicable")[0] == "a1"
    made_up, _ = find_button(blocks, "focal_help")
    assert made_up == find_button(blocks, "focal_help")[0]  # stable
    assert len(made_up) == 8
    with pytest.raises(ValueError, match="2 buttons"):
        find_button(blocks, "focal_submit")
    with pytest.raises(ValueError, match="0 buttons"):
        find_button(blocks, "focal_snooze")


# -------------------------------------------------------------------- modals

MODAL_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "block_id": "about", "text": {"type": "mrkdwn", "text": "ASOEN-37"}},
    {
        "type": "input",
        "block_id": "deadline",
        "label": {"type": "plain_text", "text": "Input"},
        "element": {
            "type": "static_select",
            "action_id": "deadline",
            "options": [
                {"text": {"type": "plain_text", "text": "Work plans"}, "value": "WORKPLANS"},
                {"text": {"type": "plain_text", "text": "Statement"}, "value": "STATEMENT"},
            ],
            "initial_option": {
                "text": {"type": "plain_text", "text": "Work plans"},
                "value": "WORKPLANS",
            },
        },
    },
    {
        "type": "input",
        "block_id": "text",
        "label": {"type": "plain_text", "text": "Text"},
        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
    },
    {
        "type": "input",
        "block_id": "link",
        "optional": True,
        "label": {"type": "plain_text", "text": "Link"},
        "element": {"type": "url_text_input", "action_id": "link"},
    },
]


def submit(values: dict[str, dict[str, dict[str, Any]]], **more: Any) -> bytes:
    arguments: dict[str, Any] = {
        "user_id": "U0ALICE01",
        "callback_id": "focal_submit",
        "private_metadata": '{"code":"ASOEN37-WORKPLANS"}',
        "values": values,
        "view_id": "V0MODAL01",
        "trigger_id": TRIGGER,
    }
    return view_submission(**(arguments | more))


def test_a_submission_has_the_whole_view_submission_shape() -> None:
    values = {"text": {"text": plain_text_value(VIETNAMESE)}}
    got = payload(submit(values))
    assert list(got) == [
        "type", "team", "user", "api_app_id", "token", "trigger_id", "view", "response_urls",
        "is_enterprise_install", "enterprise",
    ]  # fmt: skip
    assert (got["type"], got["team"], got["api_app_id"]) == (
        "view_submission", {"id": TEAM_ID, "domain": "focal-test"}, APP_ID,
    )  # fmt: skip
    assert (got["trigger_id"], got["response_urls"], got["enterprise"]) == (TRIGGER, [], None)
    view = got["view"]
    assert isinstance(view, dict)
    assert list(view) == [
        "id", "team_id", "type", "blocks", "private_metadata", "callback_id", "state", "hash",
        "title", "clear_on_close", "notify_on_close", "close", "submit", "previous_view_id",
        "root_view_id", "app_id", "external_id", "app_installed_team_id", "bot_id",
    ]  # fmt: skip
    assert (view["id"], view["root_view_id"], view["type"]) == ("V0MODAL01", "V0MODAL01", "modal")
    assert (view["callback_id"], view["private_metadata"]) == (
        "focal_submit", '{"code":"ASOEN37-WORKPLANS"}',
    )  # fmt: skip
    assert view["state"] == {"values": values}
    assert view["title"] == {"type": "plain_text", "text": "Focal", "emoji": True}


@pytest.mark.parametrize("text", [VIETNAMESE, CHINESE, EMOJI, AWKWARD, LONG])
def test_submitted_text_round_trips(text: str) -> None:
    body = submit({"text": {"text": plain_text_value(text)}, "link": {"link": url_value(None)}})
    assert body.isascii()
    state = payload(body)["view"]["state"]["values"]
    assert state["text"]["text"]["value"] == text
    assert state["link"]["link"] == {"type": "url_text_input", "value": None}


def test_value_helpers_are_shaped_as_slack_fills_them() -> None:
    assert plain_text_value("x") == {"type": "plain_text_input", "value": "x"}
    assert url_value("https://example.org/a") == {
        "type": "url_text_input", "value": "https://example.org/a",
    }  # fmt: skip
    assert static_select_value("WORKPLANS", "Work plans") == {
        "type": "static_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": "Work plans", "emoji": True},
            "value": "WORKPLANS",
        },
    }
    assert date_value("2026-09-30") == {"type": "datepicker", "selected_date": "2026-09-30"}


def test_with_the_modals_blocks_values_are_completed_as_slack_does() -> None:
    values = {"text": {"text": plain_text_value("Góp ý")}}
    state = payload(submit(values, blocks=MODAL_BLOCKS))["view"]["state"]["values"]
    assert state == {
        "deadline": {
            "deadline": {
                "type": "static_select",
                "selected_option": MODAL_BLOCKS[1]["element"]["initial_option"],
            }
        },
        "text": {"text": {"type": "plain_text_input", "value": "Góp ý"}},
        "link": {"link": {"type": "url_text_input", "value": None}},
    }
    view = {"id": "V0OPENED1", "blocks": MODAL_BLOCKS, "callback_id": "from_view", "hash": "1.a"}
    got = payload(view_submission(user_id="U0ALICE01", values=values, view=view))["view"]
    assert (got["id"], got["callback_id"], got["hash"]) == ("V0OPENED1", "from_view", "1.a")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "text is required"),
        ({"text": {"text": plain_text_value("")}}, "text is required"),
        ({"nope": {"nope": plain_text_value("x")}}, "no input block 'nope'"),
        ({"text": {"other": plain_text_value("x")}}, "no input text/other"),
        (
            {"text": {"text": plain_text_value("x")}, "deadline": {
                "deadline": static_select_value("GONE", "Gone")}},
            "offers no option 'GONE'",
        ),
    ],
)  # fmt: skip
def test_a_submission_slack_would_not_send_is_refused(
    values: dict[str, dict[str, dict[str, Any]]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        submit(values, blocks=MODAL_BLOCKS)


# ---------------------------------------------------------------------- HTTP


def test_requests_read_back_their_fields_and_response_url() -> None:
    pressed = Request("http://127.0.0.1/slack/events", press(), {})
    assert pressed.payload["type"] == "block_actions"
    assert pressed.response_url == RESPONSE_URL.replace("commands", "actions")
    assert Request("http://127.0.0.1/", submit({}), {}).response_url is None


@pytest.mark.parametrize(
    "url", ["http://example.org/slack/events", "https://127.0.0.1/x", "http://10.0.0.1/"]
)
def test_post_only_goes_to_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="only http on loopback"):
        post(url, b"", {})
