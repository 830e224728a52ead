"""Each person is looked up in Slack once, not once per run: where their DM landed is kept.

Slack allows ``users.lookupByEmail`` about 50 calls a minute; an office of a few thousand people
cannot afford one each on every run. (A message goes to the person's user id: Slack puts it in
the bot's direct conversation with them, so ``conversations.open`` is not needed at all.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bots.slack.notifier import SlackNotifier, build_web_clients
from core.reminders import ReminderPolicy
from db.models import PersonRow
from services.delivery import Worker, send_due
from services.reminders import refresh_plan
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from db.uow import SqlAlchemyUnitOfWork
    from tests.slack_standin import SlackStandIn

TOKEN = "xoxb-focal-test"  # noqa: S105 - the stand-in's made-up token
LOADED = datetime(2026, 7, 1, tzinfo=UTC)
PEOPLE = {
    "lan": "lan@example.gov.vn",
    "cuong": "cuong@example.gov.vn",
    "minh": "minh@example.gov.vn",
    "hoa": "hoa@example.gov.vn",
    "aye": "aye@example.org",
}


def run(make_uow: Callable[[], SqlAlchemyUnitOfWork], slack: SlackStandIn, now: datetime) -> int:
    """One run as a fresh process makes it: a new notifier, nothing cached in memory."""
    clients = build_web_clients(token=TOKEN, base_url=slack.url)
    notifier = SlackNotifier(clients, digest_channel=None)
    refresh_plan(uow=make_uow(), policy=ReminderPolicy(), now=now)
    report = send_due(uow_factory=make_uow, notifier=notifier, now=now, worker=Worker("w"))
    assert report.errors == []
    return report.messages


def reached(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(PersonRow.handle, PersonRow.reached_channel))
        return dict(rows.tuples().all())


def test_each_person_is_looked_up_once_across_runs(make_uow, engine, slack) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    users = {handle: slack.add_user(name=handle, email=email) for handle, email in PEOPLE.items()}
    now, messages = datetime(2026, 8, 10, tzinfo=UTC), 0
    while now <= datetime(2026, 9, 10, tzinfo=UTC):
        messages += run(make_uow, slack, now)
        now += timedelta(hours=3)
    told = {m.channel for m in slack.messages()}
    assert messages > len(told), "people were told more than once"
    lookups = [c.args["email"] for c in slack.calls("users.lookupByEmail")]
    assert sorted(lookups) == sorted(set(lookups)), "nobody looked up twice"
    assert slack.calls("conversations.open") == []
    assert {h: c for h, c in reached(engine).items() if c} == {
        h: slack.dm_channel(u) for h, u in users.items() if slack.dm_channel(u) in told
    }


def test_a_changed_email_or_a_vanished_conversation_is_looked_up_again(
    make_uow, engine, slack
) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    for handle, email in PEOPLE.items():
        slack.add_user(name=handle, email=email)
    now = datetime(2026, 8, 10, tzinfo=UTC)
    while len(known := {h: c for h, c in reached(engine).items() if c}) < 2:
        run(make_uow, slack, now)
        now += timedelta(hours=1)
    moved, vanished = sorted(known)[:2]
    # one moves to a new address (a new Slack account); the other's conversation disappears
    new_user = slack.add_user(name="new", email=f"{moved}.new@example.gov.vn")
    with engine.begin() as connection:
        connection.execute(
            update(PersonRow)
            .where(PersonRow.handle == moved)
            .values(email=f"{moved}.new@example.gov.vn")
        )
        connection.execute(
            update(PersonRow)
            .where(PersonRow.handle == vanished)
            .values(reached_channel="D99999999")
        )
    before = len(slack.calls("users.lookupByEmail"))
    told_before = len(slack.messages(known[vanished]))
    start = now
    while not (slack.sent_to(new_user) and len(slack.messages(known[vanished])) > told_before):
        assert now < start + timedelta(days=30), "both were reminded again"
        run(make_uow, slack, now)
        now += timedelta(hours=1)
    looked_up = {c.args["email"] for c in slack.calls("users.lookupByEmail")[before:]}
    assert {f"{moved}.new@example.gov.vn", PEOPLE[vanished]} <= looked_up
    others = {PEOPLE[h] for h in known} - {PEOPLE[moved], PEOPLE[vanished]}
    assert not looked_up & others, "the others were not looked up again"
    after = reached(engine)
    assert after[moved] == slack.dm_channel(new_user) != known[moved]
    assert after[vanished] == known[vanished], "the real conversation is remembered again"
    assert [c.args["channel"] for c in slack.calls("chat.postMessage")].count("D99999999") == 1
