"""A real Prefect server: ``focal serve`` deploys the flows to it, runs started through the
Prefect API deliver the reminders to the Slack stand-in, and two runs of ``send-reminders``
started at the same moment still send each reminder once (the database's claim guards it).

Slow. The Prefect server is the session's (``tests/e2e/conftest.py``); everything started
here is stopped here, also when an assertion fails.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from config.wiring import build_app
from db.models import ReminderRow
from tests.e2e.prefect_world import serve_env, serving, start_runs, wait_for_runs
from tests.e2e.test_flows import office  # noqa: F401 - the sample office, a fixture

if TYPE_CHECKING:
    from pathlib import Path

    from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

NOW = datetime(2026, 9, 3, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi: the day's reminders are due


def test_flows_deployed_to_a_prefect_server_deliver_each_reminder_once(
    tmp_path: Path,
    office: str,  # noqa: F811 - the fixture imported above
    slack: SlackStandIn,
    prefect_api: str,
) -> None:
    office_settings = {k: v for k, v in os.environ.items() if k.startswith(("FOCAL_", "SLACK_"))}
    env = serve_env(prefect_api, tmp_path, **office_settings)
    with serving(tmp_path, env) as server:
        runs = start_runs(prefect_api, "send-reminders/focal", 2, now=NOW.isoformat())
        finished = wait_for_runs(prefect_api, [r.id for r in runs], timeout=180)
    output = server.output()
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
    assert server.process.returncode == 0, output
