"""Exactly once, whatever happens: killed runs, rate limits, 5xx, dropped connections, two runs.

A crowd of focal points all owe one input whose first reminder is due at the same moment
(09:00 on Monday 9 February 2026 in Hanoi, and earlier that morning in Manila and Tokyo):
one message each. Whatever goes wrong on the way, at the end every reminder is marked sent,
each in exactly one Slack message (the one the database points to), none is lost, and none is
left claimed. Everything goes through the real ``slack_sdk`` client to the Slack stand-in.
"""

from __future__ import annotations

import random
import shutil
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bots.slack.notifier import SlackNotifier, build_web_clients
from db.engine import build_engine, build_session_factory
from db.migrate import upgrade
from db.models import ReminderRow
from db.uow import SqlAlchemyUnitOfWork
from services.delivery import Worker, send_due
from services.reminders import refresh_plan
from tests.e2e.reminder_world import (
    COORDINATOR_ZONE,
    CROWD_CALENDAR,
    CROWD_DUE,
    LOADED,
    POLICY,
    TOKEN,
    FocalCommand,
    FocalRun,
    Someone,
    assert_exactly_once,
    crowd_roster,
    keys_of,
    load,
    register_people,
    slack_notifier,
    wait_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from tests.e2e.reminder_world import MakeUow
    from tests.slack_standin import SlackStandIn

SIZE = 36
ROSTER = crowd_roster(SIZE)
#: Runs come every minute; after a failure a reminder is tried again 5 minutes later.
STEP = timedelta(minutes=1)


@dataclass
class Crowd:
    people: dict[str, Someone]  # the focal points, each with one reminder due at CROWD_DUE
    slack: SlackStandIn
    make_uow: MakeUow
    engine: Engine
    database_url: str

    def sending(self) -> set[str]:
        with self.engine.connect() as connection:
            query = select(ReminderRow.key).where(ReminderRow.state == "sending")
            return set(connection.scalars(query))

    def unfinished(self) -> int:
        """Reminders planned or claimed, whenever they are due (a retry is planned later)."""
        query = (
            select(func.count())
            .select_from(ReminderRow)
            .where(ReminderRow.state.in_(["planned", "sending"]))
        )
        with self.engine.connect() as connection:
            return connection.scalar(query) or 0

    def run(
        self,
        notifier: SlackNotifier,
        now: datetime,
        worker: Worker,
        *,
        batch: int = 200,
        concurrency: int = 8,
    ) -> None:
        """One reminder run, as the flow does it: plan what changed, send what is due."""
        refresh_plan(uow=self.make_uow(), policy=POLICY, now=now)
        send_due(
            uow_factory=self.make_uow,
            notifier=notifier,
            now=now,
            worker=worker,
            batch=batch,
            concurrency=concurrency,
        )

    def run_until_done(
        self,
        notifier: SlackNotifier,
        *,
        start: datetime = CROWD_DUE,
        worker: Worker | None = None,
        concurrency: int = 8,
        runs: int = 15,
    ) -> datetime:
        """The every-minute run until nothing due is left; returns the last run's time."""
        worker = worker or Worker("e2e-worker")
        now = start
        for _ in range(runs):
            self.run(notifier, now, worker, concurrency=concurrency)
            if not self.unfinished():
                return now
            now += STEP
        pytest.fail(f"reminders still unsent after {runs} runs")

    def assert_one_message_each(self, *, now: datetime) -> None:
        stored = assert_exactly_once(self.engine, self.slack, now=now)
        sent = [r for r in stored.values() if r.state == "sent"]
        assert sorted(r.recipient for r in sent) == sorted(self.people)
        for person in self.people.values():
            (message,) = self.slack.sent_to(person.user_id)
            (key,) = keys_of(message)
            assert stored[key].recipient == person.handle
        assert self.slack.violations == []

    def posted_but_unrecorded(self) -> set[str]:
        """Reminders in Slack whose claim is still open: a run died between post and record."""
        posted = {key for message in self.slack.messages() for key in keys_of(message)}
        return posted & self.sending()

    def cli_env(self) -> dict[str, str]:
        """``focal``'s settings: this database, the stand-in as Slack, four sends at once."""
        return {
            "FOCAL_DATABASE_URL": self.database_url,
            "SLACK_BOT_TOKEN": TOKEN,
            "FOCAL_SLACK_API_URL": self.slack.url,
            "FOCAL_SEND_CONCURRENCY": "4",
            "FOCAL_TIMEZONE": COORDINATOR_ZONE,
            "FOCAL_COUNTRY": "VN",
            "FOCAL_REMINDER_HOUR": "9",
        }


@pytest.fixture(scope="module")
def loaded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the crowd loaded, copied by each test that runs on SQLite."""
    path = tmp_path_factory.mktemp("crowd") / "focal.sqlite"
    engine = build_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = build_session_factory(engine)
    load(lambda: SqlAlchemyUnitOfWork(factory), now=LOADED, roster=ROSTER, calendar=CROWD_CALENDAR)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def crowd(
    request: pytest.FixtureRequest,
    database_url: str,
    make_uow: MakeUow,
    engine: Engine,
    slack: SlackStandIn,
) -> Crowd:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":  # no connection is open yet: take the loaded copy
        assert url.database is not None
        shutil.copyfile(request.getfixturevalue("loaded_sqlite"), url.database)
    else:
        load(make_uow, now=LOADED, roster=ROSTER, calendar=CROWD_CALENDAR)
    people = register_people(slack, ROSTER)
    del people["lan"]  # the coordinator: escalations only, none due yet
    return Crowd(people, slack, make_uow, engine, database_url)


@pytest.fixture(scope="module", autouse=True)
def focal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FocalCommand]:
    """``focal`` runs for this module; its imports are done once, while the in-process tests
    (which come first in this file) run."""
    command = FocalCommand(tmp_path_factory.mktemp("focal"))
    yield command
    command.close()


# ------------------------------------------------------------------ Slack trouble


def retry_waits(slack: SlackStandIn, method: str, arg: str) -> list[float]:
    """For each rate-limited call, the seconds until the same request came again."""
    calls = slack.calls(method)
    waits = []
    for i, call in enumerate(calls):
        if call.fault == "rate_limit":
            again = next(c for c in calls[i + 1 :] if c.args.get(arg) == call.args.get(arg))
            waits.append(again.at - call.at)
    return waits


@pytest.mark.slow
def test_rate_limits_are_waited_out_and_nothing_is_dropped_or_doubled(crowd: Crowd) -> None:
    slack = crowd.slack
    slack.rate_limit("users.lookupByEmail", times=6, retry_after=1)
    slack.rate_limit("chat.postMessage", times=20, retry_after=1)
    done = crowd.run_until_done(slack_notifier(slack), concurrency=20)

    crowd.assert_one_message_each(now=done)
    assert len(slack.faults("chat.postMessage", "rate_limit")) == 20
    assert len(slack.faults("users.lookupByEmail", "rate_limit")) == 6
    # Retry-After (1 second) was honoured before each request came again
    for method, arg in (
        ("chat.postMessage", "channel"),
        ("users.lookupByEmail", "email"),
    ):
        waits = retry_waits(slack, method, arg)
        assert waits
        assert min(waits) >= 1.0, (method, waits)


@pytest.mark.parametrize(("status", "lookups"), [(500, 0), (502, 0), (503, 1)])
def test_server_errors_are_looked_up_then_retried_and_each_reminder_sent_once(
    crowd: Crowd, status: int, lookups: int
) -> None:
    slack = crowd.slack
    slack.fail("chat.postMessage", times=5, status=status)
    if lookups:  # a read is simply retried (after a back-off)
        slack.fail("users.lookupByEmail", times=lookups, status=status)
    done = crowd.run_until_done(slack_notifier(slack), concurrency=4)

    crowd.assert_one_message_each(now=done)
    assert len(slack.faults("chat.postMessage", "fail")) == 5
    assert len(slack.faults("users.lookupByEmail", "fail")) == lookups
    # a 5xx may hide a stored message: Slack's history was read before each post again
    assert len(slack.calls("conversations.history")) >= 5
    assert len(slack.calls("chat.postMessage")) == SIZE + 5


@pytest.mark.parametrize(
    ("drops", "stored", "concurrency"),
    [
        pytest.param(3, 0, 1, id="dropped-thrice-in-a-row"),
        pytest.param(0, 3, 1, id="stored-then-dropped-thrice"),
        pytest.param(4, 4, 4, id="mixed"),
    ],
)
def test_dropped_connections_never_lose_or_double_a_reminder(
    crowd: Crowd, drops: int, stored: int, concurrency: int
) -> None:
    slack = crowd.slack
    if drops:
        slack.drop("chat.postMessage", times=drops)
    if stored:
        slack.drop_after_store("chat.postMessage", times=stored)
    done = crowd.run_until_done(slack_notifier(slack), concurrency=concurrency)

    crowd.assert_one_message_each(now=done)
    assert len(slack.faults("chat.postMessage", "drop")) == drops
    assert len(slack.faults("chat.postMessage", "drop_after_store")) == stored
    # a post that was lost is made again (after a look); one that Slack stored is found instead
    assert len(slack.calls("chat.postMessage")) == SIZE + drops


# ------------------------------------------------------------------ batches


def claimed_by(crowd: Crowd) -> Counter[str]:
    with crowd.engine.connect() as connection:
        query = select(ReminderRow.claimed_by).where(ReminderRow.state == "sent")
        return Counter(connection.scalars(query))


def test_each_batch_is_claimed_while_the_last_is_posted_under_a_name_of_its_own(
    crowd: Crowd,
) -> None:
    crowd.slack.slow("chat.postMessage", seconds=0.01, times=1000)
    crowd.run(slack_notifier(crowd.slack), CROWD_DUE, Worker("w"), batch=5, concurrency=4)

    crowd.assert_one_message_each(now=CROWD_DUE)
    batches = -(-SIZE // 5)
    assert claimed_by(crowd) == {f"w|{n}": 5 for n in range(1, batches)} | {
        f"w|{batches}": SIZE - 5 * (batches - 1)
    }


def test_a_run_can_stop_after_some_batches_and_the_next_run_goes_on(crowd: Crowd) -> None:
    notifier = slack_notifier(crowd.slack)
    refresh_plan(uow=crowd.make_uow(), policy=POLICY, now=CROWD_DUE)
    report = send_due(
        uow_factory=crowd.make_uow,
        notifier=notifier,
        now=CROWD_DUE,
        worker=Worker("w"),
        batch=10,
        batches=2,
    )

    assert (report.messages, report.reminders) == (20, 20)
    assert crowd.sending() == set()  # nothing claimed beyond the two batches
    assert crowd.unfinished() == SIZE - 20
    crowd.run(notifier, CROWD_DUE + STEP, Worker("next"))
    crowd.assert_one_message_each(now=CROWD_DUE + STEP)


def test_a_run_with_nothing_due_starts_no_thread(crowd: Crowd) -> None:
    before = threading.active_count()
    report = send_due(
        uow_factory=crowd.make_uow,
        notifier=slack_notifier(crowd.slack),
        now=CROWD_DUE - timedelta(days=30),
        worker=Worker("w"),
    )
    assert report.messages == report.reminders == 0
    assert threading.active_count() == before


# ------------------------------------------------------------------ two runs at once


def test_two_workers_at_the_same_moment_send_each_reminder_once(crowd: Crowd) -> None:
    crowd.slack.slow("chat.postMessage", seconds=0.01, times=1000)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            notifier = slack_notifier(crowd.slack)  # each with its own clients and caches
            start.wait()
            crowd.run(notifier, CROWD_DUE, Worker(name), batch=3, concurrency=2)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    crowd.assert_one_message_each(now=CROWD_DUE)


@pytest.mark.slow
def test_two_focal_remind_processes_started_together_send_each_reminder_once(
    focal: FocalCommand, crowd: Crowd
) -> None:
    crowd.slack.slow("chat.postMessage", seconds=0.02, times=1000)
    env, now = crowd.cli_env(), CROWD_DUE.isoformat()
    processes = [focal.start("remind", "--now", now, env=env) for _ in range(2)]
    for process in processes:
        assert process.wait() == 0, process.output()
    crowd.assert_one_message_each(now=CROWD_DUE)


# ------------------------------------------------------------------ killed runs


def kill_at_random_point(
    focal: FocalCommand, crowd: Crowd, rng: random.Random, *, now: datetime, least: int = 0
) -> FocalRun:
    """``focal remind --now NOW``, killed with SIGKILL at a random point: after a random
    number of posts and a moment more, or (no posts) a random moment after it starts, while
    it plans, claims, or reads Slack's history to recover an earlier run's claims."""
    calls = crowd.slack.calls
    posts = len(calls("chat.postMessage"))
    after_posts = rng.randint(max(least, 1), 10)
    if least == 0 and rng.random() < 0.5:
        after_posts = 0
    then = rng.uniform(0, 0.4) if after_posts == 0 else rng.uniform(0, 0.05)
    process = focal.start("remind", "--now", now.isoformat(), env=crowd.cli_env())
    wait_for(
        lambda: process.poll() is not None or len(calls("chat.postMessage")) >= posts + after_posts
    )
    time.sleep(then)
    process.kill()
    process.wait()
    # a post in flight when the run died still lands in Slack a moment later (the stand-in
    # answers each post after 50 ms); the next run comes a minute later, when it has
    wait_for(
        lambda: (
            len(crowd.slack.messages())
            == sum("channel" in call.args for call in calls("chat.postMessage"))
        )
    )
    return process


@pytest.mark.slow
def test_killed_runs_are_taken_over_at_once_by_the_next_run_on_this_machine(
    focal: FocalCommand, crowd: Crowd
) -> None:
    crowd.slack.slow("chat.postMessage", seconds=0.05, times=1000)
    rng = random.Random(20260209)  # noqa: S311 - kill points, not secrets
    now = CROWD_DUE
    killed, unrecorded = 0, set()
    for _ in range(5):
        process = kill_at_random_point(focal, crowd, rng, now=now)
        assert process.returncode in {0, -signal.SIGKILL}, process.output()
        killed += process.returncode == -signal.SIGKILL
        unrecorded |= crowd.posted_but_unrecorded()
        # the killed run's process is gone: a minute later its claims are taken over at once
        now += STEP
    final = focal.run("remind", "--now", now.isoformat(), env=crowd.cli_env())

    assert final.returncode == 0, final.output()
    assert killed >= 3
    assert unrecorded, "no kill fell between a post and its record: recovery was not tested"
    crowd.assert_one_message_each(now=now)


@pytest.mark.slow
def test_a_run_elsewhere_waits_out_the_lease_of_a_killed_run_then_takes_over(
    focal: FocalCommand, crowd: Crowd
) -> None:
    crowd.slack.slow("chat.postMessage", seconds=0.05, times=1000)
    rng = random.Random(7)  # noqa: S311 - kill points, not secrets
    first = kill_at_random_point(focal, crowd, rng, now=CROWD_DUE, least=1)
    # the next run takes the first's claims over at once, posts some more, and is killed too
    claimed = CROWD_DUE + STEP
    second = kill_at_random_point(focal, crowd, rng, now=claimed, least=1)
    assert first.returncode == -signal.SIGKILL, first.output()
    assert second.returncode == -signal.SIGKILL, second.output()
    held = crowd.sending()
    assert held
    assert crowd.posted_but_unrecorded()

    # a worker that cannot tell whether the holder is alive (it could be on another machine)
    # leaves its claims alone until the 10-minute lease is over: nothing is posted meanwhile
    elsewhere = Worker("elsewhere", is_gone=lambda _holder: False)
    notifier = slack_notifier(crowd.slack)
    posts = len(crowd.slack.calls("chat.postMessage"))
    for minutes in (1, 5, 9):
        crowd.run(notifier, claimed + timedelta(minutes=minutes), elsewhere)
        assert crowd.sending() == held
        assert len(crowd.slack.calls("chat.postMessage")) == posts
    # 11 minutes after the claim it takes them over, finds what was posted, posts the rest
    lease_over = claimed + timedelta(minutes=11)
    done = crowd.run_until_done(notifier, start=lease_over, worker=elsewhere)
    assert done == lease_over
    crowd.assert_one_message_each(now=done)


# ------------------------------------------------------------------ a run ahead of the clock


def test_a_run_ahead_of_the_clock_recovers_an_unclear_post_without_posting_it_again(
    make_uow: MakeUow, engine: Engine, slack: SlackStandIn
) -> None:
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)  # --now a month on
    due = (ahead + timedelta(days=2)).astimezone(ZoneInfo(COORDINATOR_ZONE)).date()
    roster = crowd_roster(3)
    calendar = f"deadlines:\n  - {{code: AHEAD, title: Ahead, due: {due}, assign: [CROWD]}}\n"
    load(make_uow, now=ahead - timedelta(days=30), roster=roster, calendar=calendar)
    register_people(slack, roster)
    # Slack stores the first post but the answer is lost, and its history cannot be read for
    # a moment: the run cannot tell, and leaves the reminder for the next run to look up
    slack.drop_after_store("chat.postMessage", times=1)
    slack.drop("conversations.history", times=3)
    clients = build_web_clients(token=TOKEN, base_url=slack.url, max_retries=0)
    notifier = SlackNotifier(clients, digest_channel=None, sleep=lambda _s: None)
    now = ahead
    for _ in range(3):
        refresh_plan(uow=make_uow(), policy=POLICY, now=now)
        send_due(
            uow_factory=make_uow, notifier=notifier, now=now, worker=Worker("w"), concurrency=1
        )
        now += STEP
    assert len(slack.faults("chat.postMessage", "drop_after_store")) == 1
    assert_exactly_once(engine, slack, now=now)
    assert len(slack.messages()) == 3
