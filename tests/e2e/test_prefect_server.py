"""A real Prefect server: ``focal serve`` deploys the flows to it, runs started through the
Prefect API deliver the reminders to the Slack stand-in, and two runs of ``send-reminders``
started at the same moment still send each reminder once (the database's claim guards it).

Slow: the server needs ten seconds or more to start. Everything started here is stopped here,
also when an assertion fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from bots.cli.processes import SERVER_STOP_SECONDS, start_prefect_server
from config.settings import Settings
from config.wiring import build_app
from db.models import ReminderRow
from tests.e2e.test_flows import office  # noqa: F401 - the sample office, a fixture
from tests.e2e.test_serve import focal, free_port, health

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

NOW = datetime(2026, 9, 3, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi: the day's reminders are due


@pytest.fixture
def prefect_api(tmp_path: Path) -> Iterator[str]:
    """``prefect server start`` on loopback, its own home and SQLite in ``tmp_path``."""
    server, url = start_prefect_server(tmp_path / "prefect-server")
    try:
        yield url
    finally:
        server.stop(SERVER_STOP_SECONDS)


@contextlib.contextmanager
def serving(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``focal serve`` in ``tmp_path``, its output in ``serve.log`` there."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            focal("serve", "--port", str(port)),
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        until = time.monotonic() + 180
        while health(port) is None:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < until, "focal serve did not start"
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def wait_for_runs(api: str, ids: list[Any], timeout: float) -> list[Any]:
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    until = time.monotonic() + timeout
    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            assert time.monotonic() < until, [r.state for r in runs]
            time.sleep(0.5)


def start_runs(api: str, name: str, count: int, **parameters: object) -> list[Any]:
    from prefect.deployments import run_deployment  # noqa: PLC0415
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    with temporary_settings(updates={PREFECT_API_URL: api}):
        until = time.monotonic() + 60
        while True:  # the deployment exists once focal serve's runner has registered it
            try:
                return [
                    run_deployment(name, parameters=parameters, timeout=0) for _ in range(count)
                ]
            except Exception:
                if time.monotonic() > until:
                    raise
                time.sleep(0.5)


def test_flows_deployed_to_a_prefect_server_deliver_each_reminder_once(
    tmp_path: Path,
    office: str,  # noqa: F811 - the fixture imported above
    slack: SlackStandIn,
    prefect_api: str,
) -> None:
    env = dict(os.environ) | {
        "PREFECT_API_URL": prefect_api,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",  # what an operator sees
    }
    with serving(tmp_path, env) as server:
        runs = start_runs(prefect_api, "send-reminders/focal", 2, now=NOW.isoformat())
        finished = wait_for_runs(prefect_api, [r.id for r in runs], timeout=180)
    output = (tmp_path / "serve.log").read_text()
    assert all(r.state.is_completed() for r in finished), [r.state for r in finished]

    posted = [m.metadata for m in slack.messages() if m.metadata]
    keys = [
        k
        for meta in posted
        if meta["event_type"] == "focal_reminders"
        for k in meta["event_payload"]["keys"]
    ]
    assert keys, "the runs delivered the day's reminders"
    assert len(keys) == len(set(keys)), "two runs at the same moment sent no reminder twice"
    app = build_app(Settings(database_url=office))
    try:
        with app.engine.connect() as connection:
            sent = connection.scalar(
                select(func.count()).select_from(ReminderRow).where(ReminderRow.state == "sent")
            )
    finally:
        app.close()
    assert sent == len(keys)
    assert slack.violations == []
    # what ran and what it did, then a clean stop
    assert "serving the flows to the Prefect server at" in output
    assert re.search(r"send-reminders: \d+ newly planned, \d+ messages sent", output), output
    assert "stopping: no new flow runs" in output
    assert "the flow runner stopped (exit status 0)" in output
    assert server.returncode == 0, output
