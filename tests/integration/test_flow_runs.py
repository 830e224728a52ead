"""Every flow run is recorded: started, then succeeded, partial or failed with its error; what
``/healthz`` and ``focal status`` read back. On SQLite and PostgreSQL.

The flows' steps run in-process here (as ``focal remind`` runs them); ``tests/e2e/test_flows.py``
runs them through Prefect's engine and checks the record names Prefect's run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from config.wiring import local_worker
from core.runs import FlowRun, RunOutcome
from db.flow_runs import RUNS_KEPT
from db.models import FlowRunRow
from flows.reminders import Runtime, run_send_digest, run_send_reminders
from flows.runs import recorded
from services.delivery import Worker
from services.flow_runs import STALE_AFTER, finish_flow_run, flow_health, start_flow_run
from services.ports import DeliveryFailedError
from tests.fakes import HandClock, RecordingNotifier, app_on
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from db.uow import SqlAlchemyUnitOfWork

LOADED = datetime(2026, 7, 1, tzinfo=UTC)
NOW = datetime(2026, 9, 3, 3, 0, tzinfo=UTC)  # Thu 3 Sep 2026, 10:00 in Hanoi
FLOWS = ("sync-calendar", "send-reminders", "send-digest")
DIGEST = "C0DIGEST"


def runs(engine: Engine) -> list[FlowRunRow]:
    with engine.connect() as connection:
        return list(connection.execute(select(FlowRunRow).order_by(FlowRunRow.id)).all())  # type: ignore[arg-type]


def health(make_uow: Callable[[], SqlAlchemyUnitOfWork]) -> dict[str, tuple[FlowRun | None, ...]]:
    return {h.flow: (h.last_run, h.last_success) for h in flow_health(FLOWS, uow=make_uow())}


def test_nothing_ran_yet(make_uow) -> None:
    assert health(make_uow) == dict.fromkeys(FLOWS, (None, None))


def test_a_reminder_run_is_recorded_with_what_it_did(engine, make_uow) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    clock = HandClock(NOW)
    runtime = Runtime(
        app=app_on(engine, clock, digest_channel=DIGEST),
        notifier=RecordingNotifier(),
        worker=local_worker(),
    )
    planned, report = run_send_reminders(runtime, NOW)
    assert report.messages > 0
    [row] = runs(engine)
    assert row.flow == "send-reminders"
    assert row.outcome == "succeeded"
    assert row.started_at == NOW  # the application's clock
    assert row.finished_at == NOW
    assert row.summary == (
        f"{planned.added} newly planned, {report.messages} messages sent "
        f"({report.reminders} reminders)"
    )
    assert row.runner == runtime.worker.name
    assert row.prefect_run_id is None  # not through Prefect
    last_run, last_success = health(make_uow)["send-reminders"]
    assert last_run == last_success
    assert last_run is not None
    assert last_run.outcome is RunOutcome.SUCCEEDED
    assert health(make_uow)["send-digest"] == (None, None)


def test_undelivered_reminders_make_a_partial_run(engine, make_uow) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    notifier = RecordingNotifier(
        fail_next=[DeliveryFailedError("users_not_found", permanent=True)] * 50
    )
    runtime = Runtime(
        app=app_on(engine, HandClock(NOW), digest_channel=DIGEST),
        notifier=notifier,
        worker=Worker("w1"),
    )
    _, report = run_send_reminders(runtime, NOW)
    assert report.failed > 0
    [row] = runs(engine)
    assert row.outcome == "partial"
    assert f"{report.failed} failed for good: " in row.summary
    assert "users_not_found" in row.summary
    assert health(make_uow)["send-reminders"][1] is None, "a partial run is not a success"


def test_a_failed_digest_is_recorded_with_its_error(engine, make_uow) -> None:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    clock = HandClock(NOW)
    notifier = RecordingNotifier(
        fail_next=[DeliveryFailedError("channel_not_found", permanent=True)]
    )
    runtime = Runtime(
        app=app_on(engine, clock, digest_channel=DIGEST), notifier=notifier, worker=Worker("w1")
    )
    assert run_send_digest(runtime, NOW).outcome.value == "failed"
    clock.at = NOW + timedelta(minutes=5)
    runtime.notifier = RecordingNotifier()
    assert run_send_digest(runtime, NOW + timedelta(minutes=5)).outcome.value == "sent"
    first, second = runs(engine)
    assert (first.outcome, second.outcome) == ("failed", "succeeded")
    assert first.summary == "the digest was not posted: channel_not_found"
    assert second.summary == "the digest was posted"
    clock.at = NOW + timedelta(minutes=10)
    run_send_digest(runtime, NOW + timedelta(minutes=10))
    last_run, last_success = health(make_uow)["send-digest"]
    assert last_run is not None
    assert last_run.summary == "today's digest was already posted"
    assert last_success is not None
    assert last_success.started_at == NOW + timedelta(minutes=10)


def test_a_run_that_raises_is_recorded_failed_and_the_error_goes_on(engine, make_uow) -> None:
    clock = HandClock(NOW)
    app = app_on(engine, clock, digest_channel=DIGEST)
    with recorded("sync-calendar", app) as run:
        run.done("1 files loaded (0 changes)")
    clock.at = NOW + timedelta(hours=1)

    def sync() -> None:
        with recorded("sync-calendar", app):
            clock.at += timedelta(seconds=3)
            raise ValueError("no such group\nAWGX")

    with pytest.raises(ValueError, match="no such group"):
        sync()
    ok, failed = runs(engine)
    assert (ok.outcome, failed.outcome) == ("succeeded", "failed")
    assert failed.summary == "ValueError: no such group AWGX"  # one line
    assert failed.finished_at - failed.started_at == timedelta(seconds=3)
    last_run, last_success = health(make_uow)["sync-calendar"]
    assert last_run is not None
    assert last_run.outcome is RunOutcome.FAILED
    assert last_success is not None
    assert last_success.finished_at == NOW


def test_an_interrupted_run_says_so(engine) -> None:
    app = app_on(engine, HandClock(NOW), digest_channel=DIGEST)
    with pytest.raises(KeyboardInterrupt), recorded("send-reminders", app):
        raise KeyboardInterrupt
    [row] = runs(engine)
    assert row.outcome == "failed"
    assert row.summary.startswith("interrupted")


def _dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_a_run_whose_process_died_is_ended_by_the_next(engine, make_uow) -> None:
    worker = local_worker()
    host = worker.name.split("|")[0]
    dead = f"{host}|{_dead_pid()}|run1"
    alive_elsewhere = "another-host|1|run2"
    alive_here = f"{host}|{os.getpid()}|run3"
    for runner in (dead, alive_elsewhere, alive_here):
        start_flow_run("send-reminders", uow=make_uow(), now=NOW, runner=runner)
    start_flow_run(
        "send-reminders",
        uow=make_uow(),
        now=NOW + timedelta(minutes=1),
        runner=worker.name,
        is_gone=worker.is_gone,
    )
    by_runner = {row.runner: row for row in runs(engine)}
    assert by_runner[dead].outcome == "failed"
    assert by_runner[dead].summary.startswith("abandoned: its process ended before the run did")
    assert by_runner[dead].finished_at == NOW + timedelta(minutes=1)
    assert by_runner[alive_elsewhere].outcome == "running", "another machine's run may be alive"
    assert by_runner[alive_here].outcome == "running"
    # much later, a run nobody ended is taken for dead wherever it ran
    start_flow_run(
        "send-reminders",
        uow=make_uow(),
        now=NOW + STALE_AFTER + timedelta(minutes=1),
        runner=worker.name,
        is_gone=worker.is_gone,
    )
    assert runs(engine)[1].outcome == "failed"
    # an abandoned run can no longer be ended as if it had finished
    run_id = runs(engine)[0].id
    assert not finish_flow_run(
        run_id, uow=make_uow(), now=NOW, outcome=RunOutcome.SUCCEEDED, summary="late"
    )
    assert runs(engine)[0].outcome == "failed"


def test_old_runs_are_forgotten_but_the_last_success_is_kept(engine, make_uow) -> None:
    def one(at: datetime, outcome: RunOutcome, flow: str = "send-reminders") -> None:
        run_id = start_flow_run(flow, uow=make_uow(), now=at, runner="w")
        finish_flow_run(run_id, uow=make_uow(), now=at, outcome=outcome, summary=outcome.value)

    old = NOW - RUNS_KEPT - timedelta(days=2)
    one(old, RunOutcome.SUCCEEDED)
    one(old + timedelta(days=1), RunOutcome.SUCCEEDED)
    one(old + timedelta(days=1), RunOutcome.SUCCEEDED, flow="send-digest")  # another flow's
    for day in range(3):
        one(NOW + timedelta(days=day), RunOutcome.FAILED)
    kept = [(row.flow, row.started_at, row.outcome) for row in runs(engine)]
    assert kept == [
        ("send-reminders", old + timedelta(days=1), "succeeded"),  # the last success
        ("send-digest", old + timedelta(days=1), "succeeded"),
        ("send-reminders", NOW, "failed"),
        ("send-reminders", NOW + timedelta(days=1), "failed"),
        ("send-reminders", NOW + timedelta(days=2), "failed"),
    ]
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(FlowRunRow)) == 5
    _, success = health(make_uow)["send-reminders"]
    assert success is not None
    assert success.started_at == old + timedelta(days=1)
