"""Delivery to Slack (the stand-in, over HTTP) and to the outbox: once, whatever Slack does."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bots.slack.messages import render_digest, render_plain, render_reminder
from bots.slack.notifier import (
    OutboxNotifier,
    SlackNotifier,
    build_notifier,
    build_web_clients,
)
from config.settings import Settings
from core.model import Language, Person
from core.notices import DIGEST_EVENT, REMINDER_EVENT, Digest, ReminderLine, ReminderMessage, Titled
from core.reminders import ReminderKind
from db.engine import build_session_factory
from db.models import OutboxRow, PersonRow
from services.ports import DeliveryFailedError, DeliveryUncertainError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from tests.slack_standin import SlackStandIn

TOKEN = "xoxb-focal-test"  # noqa: S105 - the stand-in's made-up token
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
WORKPLANS = Titled("ASOEN37-WORKPLANS", "2027 work plans of the working groups")
ASOEN37 = Titled("ASOEN-37", "37th ASEAN Senior Officials on the Environment Meeting")


def person(handle: str = "minh", *, slack_user_id: str | None = None) -> Person:
    return Person(
        handle=handle,
        name=handle.title(),
        email=f"{handle}@example.gov.vn",
        timezone="Asia/Ho_Chi_Minh",
        language=Language.EN,
        country="VN",
        slack_user_id=slack_user_id,
    )


def reminder(recipient: Person, *keys: str) -> ReminderMessage:
    lines = tuple(
        ReminderLine(
            key=key,
            kind=ReminderKind.BEFORE,
            deadline=WORKPLANS,
            meeting=ASOEN37,
            person=recipient.handle,
            person_name=recipient.name,
            due_at=NOW + timedelta(days=7),
        )
        for key in keys or (f"{recipient.handle}/ASOEN37-WORKPLANS/-7d",)
    )
    return ReminderMessage(recipient=recipient, lines=lines, now=NOW)


def digest() -> Digest:
    return Digest(
        day=date(2026, 9, 1),
        timezone="Asia/Ho_Chi_Minh",
        language=Language.EN,
        due_soon=(),
        overdue=(),
        now=NOW,
    )


def keys_metadata(event: str, keys: list[str]) -> dict[str, object]:
    return {"event_type": event, "event_payload": {"keys": keys}}


class Sleeps(list[float]):
    """Records the notifier's back-off instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def notifier(
    slack: SlackStandIn,
    *,
    digest_channel: str | None = None,
    sleep: Sleeps | None = None,
    timeout: float = 5,
    max_retries: int = 3,
    max_post_attempts: int = 3,
) -> SlackNotifier:
    clients = build_web_clients(
        token=TOKEN, base_url=slack.url, timeout=timeout, max_retries=max_retries
    )
    return SlackNotifier(
        clients,
        digest_channel=digest_channel,
        max_post_attempts=max_post_attempts,
        sleep=Sleeps() if sleep is None else sleep,
    )


@pytest.fixture
def minh(slack: SlackStandIn) -> str:
    return slack.add_user(name="minh", email="Minh@example.gov.vn", tz="Asia/Ho_Chi_Minh")


# ------------------------------------------------------------------- posting


def test_a_reminder_is_a_direct_message_with_its_keys_blocks_and_text(
    slack: SlackStandIn, minh: str
) -> None:
    message = reminder(person(), "k/1", "k/2")

    delivery = notifier(slack).send(message)

    [kept] = slack.sent_to(minh)
    rendered = render_reminder(message)
    assert (delivery.channel, delivery.ts) == (kept.channel, kept.ts)
    assert kept.channel == slack.dm_channel(minh)
    assert kept.metadata == keys_metadata(REMINDER_EVENT, ["k/1", "k/2"])
    assert kept.text == rendered.text
    assert kept.blocks == rendered.blocks_json()
    [call] = slack.calls("chat.postMessage")
    assert call.args["unfurl_links"] is False
    assert slack.violations == []


def test_lookups_are_cached_and_messages_go_to_the_user_id(slack: SlackStandIn, minh: str) -> None:
    lan = slack.add_user(name="lan", email="lan@example.gov.vn")
    send = notifier(slack).send

    for key in ("a", "b", "c"):
        send(reminder(person(), key))
    send(reminder(person("lan"), "d"))
    send(reminder(person("lan"), "e"))

    assert [m.metadata["event_payload"]["keys"] for m in slack.sent_to(minh) if m.metadata] == [
        ["a"],
        ["b"],
        ["c"],
    ]
    assert len(slack.sent_to(lan)) == 2
    looked_up = [c.args["email"] for c in slack.calls("users.lookupByEmail")]
    assert looked_up == ["minh@example.gov.vn", "lan@example.gov.vn"]
    # Slack puts a bot's post to a user id in their direct conversation: nothing to open first
    assert slack.calls("conversations.open") == []
    assert [c.args["channel"] for c in slack.calls("chat.postMessage")] == [minh] * 3 + [lan] * 2
    assert slack.violations == []


def test_a_known_slack_user_id_needs_no_lookup(slack: SlackStandIn, minh: str) -> None:
    notifier(slack).send(reminder(person(slack_user_id=minh)))

    assert len(slack.sent_to(minh)) == 1
    assert slack.calls("users.lookupByEmail") == []
    assert slack.violations == []


def test_an_unknown_email_fails_permanently_and_posts_nothing(slack: SlackStandIn) -> None:
    with pytest.raises(DeliveryFailedError, match=re.escape("nobody@example.gov.vn")) as caught:
        notifier(slack).send(reminder(person("nobody")))

    assert caught.value.permanent
    assert "users_not_found" in str(caught.value)
    assert slack.calls("chat.postMessage") == []
    assert slack.violations == []


def test_a_slack_error_fails_at_once_without_retrying(slack: SlackStandIn) -> None:
    sleeps = Sleeps()
    with pytest.raises(DeliveryFailedError, match="channel_not_found") as caught:
        notifier(slack, digest_channel="C0NOWHERE", sleep=sleeps).send(digest())

    assert caught.value.permanent
    assert len(slack.calls("chat.postMessage")) == 1
    assert slack.calls("conversations.history") == []
    assert sleeps == []
    assert slack.violations == []


# --------------------------------------------------------------- exactly once


def test_a_rate_limit_is_waited_out_and_posts_once(slack: SlackStandIn, minh: str) -> None:
    slack.rate_limit("chat.postMessage", retry_after=1)

    started = time.monotonic()
    delivery = notifier(slack).send(reminder(person()))

    assert time.monotonic() - started >= 1
    assert [m.ts for m in slack.sent_to(minh)] == [delivery.ts]
    assert [c.fault for c in slack.calls("chat.postMessage")] == ["rate_limit", None]
    assert slack.calls("conversations.history") == []  # a 429 stored nothing: no check needed
    assert slack.violations == []


def test_a_rate_limit_that_outlasts_the_retries_fails_for_now(
    slack: SlackStandIn, minh: str
) -> None:
    slack.rate_limit("chat.postMessage", retry_after=1)

    with pytest.raises(DeliveryFailedError, match="ratelimited") as caught:
        notifier(slack, max_retries=0).send(reminder(person()))

    assert not caught.value.permanent
    assert slack.sent_to(minh) == []
    assert slack.violations == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_checked_then_posted_once(
    slack: SlackStandIn, minh: str, status: int
) -> None:
    slack.fail("chat.postMessage", status=status)
    sleeps = Sleeps()

    delivery = notifier(slack, sleep=sleeps).send(reminder(person()))

    assert [m.ts for m in slack.sent_to(minh)] == [delivery.ts]
    assert len(slack.calls("chat.postMessage")) == 2
    assert len(slack.calls("conversations.history")) == 1
    assert sleeps == [1.0]
    assert slack.violations == []


def test_a_connection_dropped_after_the_store_is_not_posted_again(
    slack: SlackStandIn, minh: str
) -> None:
    slack.drop_after_store("chat.postMessage")

    delivery = notifier(slack).send(reminder(person(), "k/1", "k/2"))

    [kept] = slack.sent_to(minh)
    assert (delivery.channel, delivery.ts) == (kept.channel, kept.ts)
    assert len(slack.calls("chat.postMessage")) == 1
    [history] = slack.calls("conversations.history")
    assert history.args["include_all_metadata"] in {True, "1", "true"}
    assert slack.violations == []


def test_a_connection_dropped_before_the_store_posts_once_after_the_check(
    slack: SlackStandIn, minh: str
) -> None:
    slack.drop("chat.postMessage")

    delivery = notifier(slack).send(reminder(person()))

    assert [m.ts for m in slack.sent_to(minh)] == [delivery.ts]
    assert [c.fault for c in slack.calls("chat.postMessage")] == ["drop", None]
    assert len(slack.calls("conversations.history")) == 1
    assert slack.violations == []


def test_a_timeout_is_checked_before_posting_again(slack: SlackStandIn, minh: str) -> None:
    slack.slow("chat.postMessage", seconds=0.6)  # stored after the client gave up
    clients = build_web_clients(token=TOKEN, base_url=slack.url, timeout=0.3)
    notify = SlackNotifier(clients, digest_channel=None, backoff=1.0)  # really waits

    delivery = notify.send(reminder(person()))

    assert [m.ts for m in slack.sent_to(minh)] == [delivery.ts]
    assert [c.fault for c in slack.calls("chat.postMessage")] == ["slow"]
    assert slack.violations == []


def test_a_lasting_failure_is_uncertain_after_the_attempts(slack: SlackStandIn, minh: str) -> None:
    slack.fail("chat.postMessage", times=10, status=503)
    sleeps = Sleeps()

    with pytest.raises(DeliveryUncertainError):
        notifier(slack, sleep=sleeps).send(reminder(person()))

    assert slack.sent_to(minh) == []
    assert len(slack.calls("chat.postMessage")) == 3
    assert len(slack.calls("conversations.history")) == 3  # before each re-post, and at the end
    assert sleeps == [1.0, 2.0, 4.0]
    assert slack.violations == []


def test_server_errors_on_lookups_are_retried(slack: SlackStandIn, minh: str) -> None:
    slack.fail("users.lookupByEmail", status=502)
    slack.fail("users.lookupByEmail", status=504)

    notifier(slack).send(reminder(person()))

    assert len(slack.sent_to(minh)) == 1
    assert [c.fault for c in slack.calls("users.lookupByEmail")] == ["fail", "fail", None]
    assert slack.violations == []


# ------------------------------------------------------------------ find_sent


def test_find_sent_finds_the_message_with_the_keys_and_ignores_others(
    slack: SlackStandIn, minh: str
) -> None:
    notify = notifier(slack)
    since = datetime.now(UTC) - timedelta(seconds=1)
    client = slack.client()
    client.chat_postMessage(channel=minh, text="no metadata")
    client.chat_postMessage(
        channel=minh, text="another app", metadata=keys_metadata("other_event", ["k/1"])
    )
    sent = notify.send(reminder(person(), "k/1", "k/2"))
    notify.send(reminder(person(), "k/3"))

    found = notify.find_sent(reminder(person(), "k/1", "k/2", "k/9"), since=since)

    assert found == {"k/1": sent, "k/2": sent}
    assert notify.find_sent(reminder(person(), "k/4"), since=since) == {}
    time.sleep(0.01)
    later = datetime.now(UTC)  # after the message: the search starts there
    assert notify.find_sent(reminder(person(), "k/1"), since=later) == {}
    # a run ahead of Slack's clock (``--now`` in the future) reads the whole recent history
    ahead = datetime.now(UTC) + timedelta(days=30)
    assert notify.find_sent(reminder(person(), "k/1"), since=ahead) == {"k/1": sent}
    assert slack.violations == []


# --------------------------------------------------------------------- digest


def test_the_digest_goes_to_its_channel(slack: SlackStandIn) -> None:
    channel = slack.add_channel()
    notify = notifier(slack, digest_channel=channel)
    since = datetime.now(UTC) - timedelta(seconds=1)

    delivery = notify.send(digest())

    [kept] = slack.messages(channel)
    assert (delivery.channel, delivery.ts) == (channel, kept.ts)
    assert kept.metadata == keys_metadata(DIGEST_EVENT, ["digest/2026-09-01"])
    assert kept.text == render_digest(digest()).text
    assert notify.find_sent(digest(), since=since) == {"digest/2026-09-01": delivery}
    assert slack.violations == []


def test_the_digest_is_refused_without_a_channel(slack: SlackStandIn) -> None:
    with pytest.raises(DeliveryFailedError, match="FOCAL_DIGEST_CHANNEL") as caught:
        notifier(slack).send(digest())

    assert caught.value.permanent
    assert slack.calls() == []


# --------------------------------------------------------------------- outbox


def add_person(factory: sessionmaker[Session], handle: str) -> int:
    with factory() as session, session.begin():
        row = PersonRow(
            handle=handle,
            name=handle.title(),
            email=f"{handle}@example.gov.vn",
            timezone="Asia/Ho_Chi_Minh",
            language="en",
            country="VN",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(row)
        session.flush()
        return row.id


def test_the_outbox_keeps_the_message_and_echoes_it(engine: Engine) -> None:
    factory = build_session_factory(engine)
    minh_id = add_person(factory, "minh")
    echoed: list[str] = []
    notify = OutboxNotifier(factory, clock=lambda: NOW, echo=echoed.append)
    message = reminder(person(), "k/1", "k/2")

    delivery = notify.send(message)
    notify.send(digest())

    with factory() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    first, second = rows
    assert delivery.channel == "outbox"
    assert delivery.ts == str(first.id)
    assert (first.person_id, first.channel, first.kind) == (minh_id, "console", "reminders")
    assert first.text == render_plain(message)
    assert first.blocks == render_reminder(message).blocks_json()
    assert first.message_metadata == keys_metadata(REMINDER_EVENT, ["k/1", "k/2"])
    assert first.created_at == NOW
    assert (second.person_id, second.channel, second.kind) == (None, "digest", "digest")
    to = f"To {message.recipient.name} (@{message.recipient.handle}):\n"
    assert echoed == [
        to + render_plain(message),
        "To the digest channel:\n" + render_plain(digest()),
    ]


def test_the_outbox_finds_what_it_sent(engine: Engine) -> None:
    factory = build_session_factory(engine)
    add_person(factory, "minh")
    clock = [NOW]
    notify = OutboxNotifier(factory, clock=lambda: clock[0], echo=None)
    sent = notify.send(reminder(person(), "k/1", "k/2"))
    notify.send(reminder(person(), "k/3"))
    sent_digest = notify.send(digest())

    since = NOW - timedelta(minutes=1)
    found = notify.find_sent(reminder(person(), "k/1", "k/2", "k/9"), since=since)
    assert found == {"k/1": sent, "k/2": sent}
    assert notify.find_sent(digest(), since=since) == {"digest/2026-09-01": sent_digest}
    assert notify.find_sent(reminder(person(), "k/4"), since=since) == {}
    clock[0] = NOW + timedelta(minutes=5)
    assert notify.find_sent(reminder(person(), "k/1"), since=NOW + timedelta(seconds=1)) == {}
    # a search from ahead of the clock (``--now`` in the future) reads everything
    ahead = NOW + timedelta(days=30)
    assert notify.find_sent(reminder(person(), "k/1"), since=ahead) == {"k/1": sent}


# --------------------------------------------------------------------- wiring


def test_build_notifier_picks_slack_only_with_a_token() -> None:
    factory: sessionmaker[Session] = sessionmaker()
    without = Settings(_env_file=None, slack_bot_token=None)
    with_token = Settings(_env_file=None, slack_bot_token=TOKEN)

    assert isinstance(build_notifier(without, factory, lambda: NOW), OutboxNotifier)
    assert isinstance(build_notifier(with_token, factory, lambda: NOW), SlackNotifier)
