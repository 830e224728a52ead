"""Past one machine: the flows deployed from ``prefect.yaml`` to a ``process`` work pool of a
real Prefect server, and two real ``prefect worker start --pool focal`` processes running two
``send-reminders`` runs at the same moment: each reminder reaches Slack exactly once.

The steps are those of docs/operations.md, as an operator types them: ``prefect work-pool
create``, ``python -m flows.deploy --all`` (``prefect deploy``) from the repository root,
``prefect worker start``. Each worker takes one run at a time (``--limit 1``), so the two runs
go to the two workers. More people are due than two delivery batches hold (a run claims its
next batch of 200 while it posts one), so both runs claim and send; the stand-in answers
slowly, so they send side by side. The database's claims decide who sends what.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.prefect_world import (
    ROOT,
    forget_everything,
    prefect_settings,
    serve_env,
    start_runs,
    wait_for_runs,
)
from tests.e2e.private_postgres import wait_until
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

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine

    from tests.e2e.reminder_world import MakeUow
    from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

#: More than two delivery batches (200 people each): a run holds at most two at once (the one
#: it posts and the next), so the other run finds a third to claim.
PEOPLE = 600
SUMMARY = re.compile(r"send-reminders: \d+ newly planned, (\d+) messages sent")


def prefect(*args: str) -> list[str]:
    """The ``prefect`` command installed beside this Python."""
    return [str(Path(sys.executable).with_name("prefect")), *args]


@contextlib.contextmanager
def workers(count: int, env: dict[str, str], directory: Path) -> Iterator[list[Path]]:
    """``count`` ``prefect worker start --pool focal --limit 1``; their logs. Stopped after
    (SIGINT; killed when they do not stop within 20 s)."""
    logs = [directory / f"worker-{n}.log" for n in range(1, count + 1)]
    processes = []
    try:
        for log in logs:
            with log.open("w") as out:
                processes.append(
                    subprocess.Popen(
                        prefect("worker", "start", "--pool", "focal", "--limit", "1"),
                        env=env,
                        cwd=directory,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield logs
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sent_by(output: str, flow_run: Any) -> int | None:
    """The messages ``flow_run`` said it sent, from the log of the worker that ran it."""
    found = re.search(rf"Flow run '{re.escape(flow_run.name)}' - {SUMMARY.pattern}", output)
    return int(found.group(1)) if found else None


@pytest.fixture(scope="module")
def deployed(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ``focal`` work pool and the deployments of ``prefect.yaml`` on the session's
    Prefect server, made once for this module, as docs/operations.md says; the API URL."""
    forget_everything(prefect_server)
    env = serve_env(prefect_server, tmp_path_factory.mktemp("deploy"))

    def run(*argv: str) -> str:
        done = subprocess.run(
            argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(*prefect("work-pool", "create", "focal", "--type", "process"))
    deployed = run(sys.executable, "-m", "flows.deploy", "--all")
    for flow in ("send-reminders", "sync-calendar", "send-digest"):
        assert f"Deployment '{flow}/focal' successfully created" in deployed, deployed
    with prefect_settings(prefect_server) as client:
        deployment = client.read_deployment_by_name("send-reminders/focal")
    assert deployment.work_pool_name == "focal"
    assert deployment.pull_steps in (None, [])
    assert [(s.schedule.cron, s.active) for s in deployment.schedules] == [("* * * * *", True)]
    return prefect_server


def test_two_prefect_workers_deliver_each_reminder_once(
    tmp_path: Path,
    make_uow: MakeUow,
    engine: Engine,
    slack: SlackStandIn,
    deployed: str,
) -> None:
    roster = crowd_roster(PEOPLE)
    load(make_uow, now=LOADED, roster=roster, calendar=CROWD_CALENDAR)
    register_people(slack, roster)
    slack.slow("chat.postMessage", seconds=0.1, times=10_000)
    env = serve_env(
        deployed,
        tmp_path,
        FOCAL_DATABASE_URL=engine.url.render_as_string(hide_password=False),
        SLACK_BOT_TOKEN=TOKEN,
        FOCAL_SLACK_API_URL=slack.url,
        FOCAL_SEND_CONCURRENCY="2",
        FOCAL_TIMEZONE=COORDINATOR_ZONE,
        PREFECT_WORKER_QUERY_SECONDS="1",
    )

    with workers(2, env, tmp_path) as logs:
        wait_until(
            lambda: all("started!" in log.read_text() for log in logs),
            timeout=120,
            what="two workers",
        )
        runs = start_runs(deployed, "send-reminders/focal", 2, now=CROWD_DUE.isoformat())
        finished = wait_for_runs(deployed, [r.id for r in runs], timeout=240)
        assert all(r.state.is_completed() for r in finished), [r.state for r in finished]
        # a worker passes on its runs' output as it comes: wait for the last lines
        wait_until(
            lambda: all(
                any(sent_by(log.read_text(), r) is not None for log in logs) for r in finished
            ),
            timeout=30,
            what="the runs' last lines in the workers' logs",
        )
    output = [log.read_text() for log in logs]

    # the two runs ran at the same time, one on each worker, and each sent some
    first, second = sorted(finished, key=lambda r: r.start_time)
    assert second.start_time < first.end_time, "the two runs did not overlap"
    sent = {}
    for flow_run in finished:
        # the run's own output is in the log of the worker that ran it (the other worker may
        # have tried to take it too, and been told it was taken)
        began = f"Flow run '{flow_run.name}' - Beginning flow run"
        [worker] = [n for n, text in enumerate(output) if began in text]
        sent[worker] = sent_by(output[worker], flow_run)
    assert set(sent) == {0, 1}, output
    assert all(sent.values()), sent
    # together, everyone once
    assert sum(n or 0 for n in sent.values()) == PEOPLE
    stored = assert_exactly_once(engine, slack, now=CROWD_DUE)
    assert sum(r.state == "sent" for r in stored.values()) == PEOPLE
    assert slack.violations == []
