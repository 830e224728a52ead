"""``focal serve`` when things go wrong under it: killed while sending, its database restarted.

A crowd of focal points all owe a reminder at the same moment (``reminder_world``); the Slack
stand-in answers each post slowly, so a run takes seconds and a fault lands in the middle of
it. The flows run through ``focal serve``'s own flow runner, against the session's Prefect
server; runs are started through the Prefect API. At the end every reminder is in Slack
exactly once (``assert_exactly_once``), and nothing is left claimed.
"""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, func, select, text

from db.engine import build_engine, build_session_factory
from db.migrate import upgrade
from db.models import ReminderRow, SubmissionRow
from db.uow import SqlAlchemyUnitOfWork
from services.feed_access import feed_access
from tests.e2e.prefect_world import (
    alive,
    descendants,
    serve_env,
    serving,
    start_runs,
    wait_for_runs,
)
from tests.e2e.private_postgres import private_postgres, unavailable_reason, wait_until
from tests.e2e.reminder_world import (
    COORDINATOR_ZONE,
    CROWD_CALENDAR,
    CROWD_DUE,
    LOADED,
    TOKEN,
    assert_exactly_once,
    crowd_roster,
    load,
    register_people,
)
from tests.e2e.test_serve import health
from tests.integration.test_slack_app import SECRET, reply_at
from tests.slack_http import SlackSender

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from tests.e2e.private_postgres import PrivatePostgres
    from tests.e2e.reminder_world import MakeUow, Someone
    from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

SIZE = 36
#: Each post is answered after this long; two at a time: a run takes SIZE / 2 * POST seconds.
POST = 0.3
SUMMARY = re.compile(r"send-reminders: \d+ newly planned, (\d+) messages sent")


def loaded(make_uow: MakeUow, slack: SlackStandIn) -> dict[str, Someone]:
    """The crowd in the store and in Slack; its focal points (the coordinator left out)."""
    roster = crowd_roster(SIZE)
    load(make_uow, now=LOADED, roster=roster, calendar=CROWD_CALENDAR)
    people = register_people(slack, roster)
    del people["lan"]
    slack.slow("chat.postMessage", seconds=POST, times=100_000)
    return people


def focal_env(api: str, directory: Path, database_url: str, slack: SlackStandIn) -> dict[str, str]:
    return serve_env(
        api,
        directory,
        FOCAL_DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        FOCAL_SLACK_API_URL=slack.url,
        FOCAL_SEND_CONCURRENCY="2",
        FOCAL_TIMEZONE=COORDINATOR_ZONE,
    )


def posts_landed(slack: SlackStandIn) -> bool:
    """Every post that reached the stand-in is stored (its slow answer is over)."""
    posts = [c for c in slack.calls("chat.postMessage") if "channel" in c.args]
    return len(slack.messages()) == len(posts)


def claimed(engine: Engine) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(ReminderRow).where(ReminderRow.state == "sending")
        return connection.scalar(query) or 0


def assert_one_message_each(
    engine: Engine, slack: SlackStandIn, people: dict[str, Someone]
) -> None:
    stored = assert_exactly_once(engine, slack, now=CROWD_DUE + timedelta(minutes=10))
    assert sorted(r.recipient for r in stored.values() if r.state == "sent") == sorted(people)
    for person in people.values():
        assert len(slack.sent_to(person.user_id)) == 1, person
    assert slack.violations == []


# ------------------------------------------------------------------ killed


def test_focal_serve_killed_while_sending_then_started_again_sends_each_reminder_once(
    tmp_path: Path, engine: Engine, make_uow: MakeUow, slack: SlackStandIn, prefect_api: str
) -> None:
    people = loaded(make_uow, slack)
    url = engine.url.render_as_string(hide_password=False)
    env = focal_env(prefect_api, tmp_path, url, slack)

    # 1. a power cut: focal serve and every process it started die at once, mid-run
    with serving(tmp_path, env, log="serve-1.log") as first:
        start_runs(prefect_api, "send-reminders/focal", 1, now=CROWD_DUE.isoformat())
        wait_until(lambda: len(slack.messages()) >= 4, timeout=120, what="the first posts")
        first.kill_all()
    wait_until(lambda: posts_landed(slack), timeout=10, what="the posts in flight")
    cut_at = len(slack.messages())
    assert 4 <= cut_at < SIZE, "the kill did not land mid-run"
    assert claimed(engine), "the killed run left no claim: nothing was half-sent"

    # 2. started again, its first run takes over the dead run's claims at once, looks up in
    # Slack what may have been posted, and sends the rest. While it sends, only focal serve is
    # killed (kill -9): the kernel tells its flow runner, which finishes the run under way and
    # stops; nothing of it is left running
    with serving(tmp_path, env, log="serve-2.log") as second:
        [run] = start_runs(prefect_api, "send-reminders/focal", 1, now=_at(1))
        wait_until(lambda: len(slack.messages()) > cut_at, timeout=120, what="a post")
        children = descendants(second.process.pid)
        assert children, "focal serve started no flow runner"
        second.process.kill()
        second.process.wait()
        wait_until(
            lambda: not any(alive(pid) for pid in children),
            timeout=120,
            what="focal serve's processes to stop",
        )
    [finished] = wait_for_runs(prefect_api, [run.id], timeout=30)
    assert finished.state.is_completed(), finished.state
    runner_log = second.output()
    assert "stopping: no new flow runs; waiting for the runs under way" in runner_log

    # nothing was sent twice, nothing lost, nothing left claimed
    assert claimed(engine) == 0
    assert_one_message_each(engine, slack, people)


def _at(minutes: int) -> str:
    """A run's time: a minute after the last (``--now``)."""
    return (CROWD_DUE + timedelta(minutes=minutes)).isoformat()


# ------------------------------------------------------------ PostgreSQL restarted


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of this test's own (the shared one is never restarted)."""
    if reason := unavailable_reason():
        pytest.skip(reason)
    yield from private_postgres()


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _claimed_at(url: str) -> int:
    engine = build_engine(url)
    try:
        return claimed(engine)
    finally:
        engine.dispose()


def _submissions(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(SubmissionRow)) or 0
    finally:
        engine.dispose()


@dataclass
class Office:
    url: str
    people: dict[str, Someone]
    feed: str  # the path of one person's feed


@pytest.fixture
def office(postgres: PrivatePostgres, slack: SlackStandIn) -> Office:
    """The crowd in a database ``focal`` on the private PostgreSQL; one person's feed."""
    admin = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE focal"))
    admin.dispose()
    url = postgres.url.rsplit("/", 1)[0] + "/focal"
    engine = build_engine(url)
    try:
        upgrade(engine)
        factory = build_session_factory(engine)
        people = loaded(lambda: SqlAlchemyUnitOfWork(factory), slack)
        handle = next(iter(people))
        access = feed_access(handle, reset=False, uow=SqlAlchemyUnitOfWork(factory), now=LOADED)
    finally:
        engine.dispose()
    return Office(url, people, f"/feeds/{access.token}.ics")


def test_postgresql_restarted_under_focal_serve_it_recovers_and_loses_nothing(
    tmp_path: Path,
    slack: SlackStandIn,
    prefect_api: str,
    postgres: PrivatePostgres,
    office: Office,
) -> None:
    someone, feed = next(iter(office.people.values())), office.feed
    env = focal_env(prefect_api, tmp_path, office.url, slack)

    with serving(tmp_path, env) as serve:
        sender = SlackSender(f"http://127.0.0.1:{serve.port}", SECRET, slack=slack)
        assert _get(serve.port, feed)[0] == 200

        # 1. the database stops in the middle of a run: the run fails, and says so
        [cut] = start_runs(prefect_api, "send-reminders/focal", 1, now=CROWD_DUE.isoformat())
        wait_until(lambda: len(slack.messages()) >= 4, timeout=120, what="the first posts")
        postgres.stop()
        [failed] = wait_for_runs(prefect_api, [cut.id], timeout=120)
        assert not failed.state.is_completed(), "the run went on without its database"

        # 2. while it is down: health and feeds say so (503, never an empty calendar); a run
        # fails and is recorded as failed; a submission is refused, saying nothing was recorded
        status, body = health(serve.port) or (0, {})
        assert status == 503
        assert body["database"].startswith("unreachable"), body
        assert _get(serve.port, feed)[0] == 503
        [down] = start_runs(prefect_api, "send-reminders/focal", 1, now=_at(1))
        [refused] = wait_for_runs(prefect_api, [down.id], timeout=120)
        assert refused.state.is_failed() or refused.state.is_crashed(), refused.state
        submit = sender.command("submit CROWD-REPORTS Our report", user_id=someone.user_id)
        assert submit.status == 200
        assert "nothing was recorded" in reply_at(slack, submit.request.response_url, timeout=30)

        # 3. the database is back: the same focal serve (never restarted) answers again, the
        # next run sends what is left and settles what the cut run left unclear
        postgres.start()
        wait_until(lambda: (health(serve.port) or (0, {}))[0] == 200, timeout=60, what="health 200")
        assert _get(serve.port, feed)[0] == 200
        assert _claimed_at(office.url), "the cut run left nothing unclear: nothing to recover"
        [after] = start_runs(prefect_api, "send-reminders/focal", 1, now=_at(2))
        [recovered] = wait_for_runs(prefect_api, [after.id], timeout=180)
        assert recovered.state.is_completed(), recovered.state
        again = sender.command("submit CROWD-REPORTS Our report", user_id=someone.user_id)
        assert "Received *CROWD-REPORTS* v1" in reply_at(
            slack, again.request.response_url, timeout=30
        )
        assert serve.process.poll() is None, "focal serve stopped"
        pid = serve.process.pid
    assert serve.process.pid == pid
    output = serve.output()
    assert serve.process.returncode == 0, output

    assert _submissions(office.url) == 1  # the refused one left nothing; the next was recorded once
    engine = build_engine(office.url)
    try:
        assert claimed(engine) == 0
        assert_one_message_each(engine, slack, office.people)
    finally:
        engine.dispose()
    # what an operator reads: the failed runs, the outage, the recovery
    for run in (failed, refused):
        assert re.search(
            rf"Flow run '{re.escape(run.name)}' - Finished in state (Failed|Crashed)", output
        ), output
    assert "health check: the database is unreachable" in output
