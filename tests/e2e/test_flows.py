"""The Prefect flows run through Prefect's engine (a temporary local API), end to end.

Slow (Prefect starts a server of its own): most logic is tested below the flows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from sqlalchemy import func, select

from config.settings import Settings
from config.wiring import build_app
from config.yaml_source import read_documents
from db.migrate import upgrade
from db.models import FlowRunRow, ReminderRow
from services.loading import load_configuration

if TYPE_CHECKING:
    from tests.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = [ROOT / "config/calendar/asean-environment-2026.yaml", ROOT / "config/roster.example.yaml"]

pytestmark = pytest.mark.slow


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: SlackStandIn) -> str:
    """The sample office on a SQLite file, its people known to the Slack stand-in."""
    url = f"sqlite:///{tmp_path / 'focal.sqlite'}"
    for name, value in {
        "FOCAL_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-focal-test",
        "FOCAL_SLACK_API_URL": slack.url,
        "FOCAL_DIGEST_CHANNEL": slack.add_channel(),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }.items():
        monkeypatch.setenv(name, value)
    roster = yaml.safe_load(SAMPLE[1].read_text(encoding="utf-8"))
    for person in roster["people"]:
        slack.add_user(name=person["handle"], email=person["email"])
    app = build_app(Settings())
    try:
        upgrade(app.engine)
        documents, errors = read_documents(SAMPLE)
        assert not errors
        load_configuration(
            documents,
            uow=app.uow(),
            options=app.load_options(),
            actor="test",
            now=datetime(2026, 7, 1, tzinfo=UTC),
        )
    finally:
        app.close()
    return url


def test_the_flows_deliver_through_prefect(
    office: str,
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # imported here: Prefect takes over a second to import, and only this test needs it
    from prefect.settings import (  # noqa: PLC0415
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

    from flows.reminders import send_digest_flow, send_reminders  # noqa: PLC0415

    now = datetime(2026, 9, 3, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi: the day's reminders are due
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        state = send_reminders(now=now, return_state=True)
        assert state.is_completed(), state
        result = state.result()
        again = send_reminders(now=now, return_state=True).result()
        national_day = datetime(2026, 9, 2, 1, 30, tzinfo=UTC)  # 08:30 in Hanoi, a holiday
        day_off = send_digest_flow(now=national_day)
        digest = send_digest_flow(now=now, return_state=True)
        assert digest.is_completed(), digest
        assert digest.result() == "sent"
        # a digest Slack refuses: the run is Failed in Prefect, in its log and in its record
        monkeypatch.setenv("FOCAL_DIGEST_CHANNEL", "C0NOSUCHCHANNEL")
        refused = send_digest_flow(now=now + timedelta(days=1), return_state=True)
        assert refused.is_failed(), refused
    # Prefect's console handler, or pytest's log capture when an earlier test set logging up
    logged = capfd.readouterr().err + caplog.text
    assert "send-digest failed after" in logged
    refusal = (
        "the digest was not posted: posting to C0NOSUCHCHANNEL: Slack answered channel_not_found"
    )
    assert f"DigestNotPostedError: {refusal}" in logged

    assert result["messages"] > 0
    assert day_off == "day-off", "no digest on a public holiday of FOCAL_COUNTRY"
    assert again["messages"] == 0, "a second run sends nothing more"
    posted = [(m, m.metadata) for m in slack.messages() if m.metadata]
    reminder_posts = [meta for _, meta in posted if meta["event_type"] == "focal_reminders"]
    assert len(reminder_posts) == result["messages"]
    keys = [k for meta in reminder_posts for k in meta["event_payload"]["keys"]]
    assert len(keys) == len(set(keys))
    app = build_app(Settings(database_url=office))
    try:
        with app.engine.connect() as connection:
            sent = connection.scalar(
                select(func.count()).select_from(ReminderRow).where(ReminderRow.state == "sent")
            )
    finally:
        app.close()
    assert sent == len(keys)
    # each run recorded, naming Prefect's flow run: /healthz and focal status read these
    with app.engine.connect() as connection:
        runs = connection.execute(
            select(
                FlowRunRow.flow, FlowRunRow.outcome, FlowRunRow.summary, FlowRunRow.prefect_run_id
            ).order_by(FlowRunRow.id)
        ).all()
    assert [(flow, outcome) for flow, outcome, _, _ in runs] == [
        ("send-reminders", "partial"),  # people whose roster Slack id this Slack does not know
        ("send-reminders", "succeeded"),
        ("send-digest", "succeeded"),
        ("send-digest", "succeeded"),
        ("send-digest", "failed"),
    ]
    assert f"{result['messages']} messages sent ({len(keys)} reminders); " in runs[0].summary
    assert (
        "failed for good: lan: posting to U0LAN0001: Slack answered channel_not_found"
        in runs[0].summary
    )
    assert runs[2].summary == "2026-09-02 is a day off in VN: no digest"
    assert runs[3].summary == "the digest was posted"
    assert runs[4].summary == f"DigestNotPostedError: {refusal}"
    assert all(run.prefect_run_id for run in runs)
    assert len({run.prefect_run_id for run in runs}) == len(runs)
    assert [meta for _, meta in posted if meta["event_type"] == "focal_digest"]
    assert slack.violations == []
