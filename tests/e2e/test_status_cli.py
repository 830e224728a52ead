"""``focal status`` without a code: the next deadlines (in the coordinator's timezone) with
their counts, and each flow's last run and last success. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli.main import app
from config.settings import Settings
from config.wiring import build_app
from config.yaml_source import read_documents
from core.runs import RunOutcome
from services.flow_runs import finish_flow_run, start_flow_run
from services.loading import load_configuration
from services.submissions import Submission, declare_not_applicable, record_submission
from tests.conftest import set_terminal_width

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = [ROOT / "config/calendar/asean-environment-2026.yaml", ROOT / "config/roster.example.yaml"]


@pytest.fixture
def focal(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``focal ARGS`` in-process against this test's database, the sample loaded."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOCAL_DATABASE_URL", database_url)
    set_terminal_width(monkeypatch, 160)
    for name in ("FOCAL_TIMEZONE", "FOCAL_COUNTRY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    documents, errors = read_documents(SAMPLE)
    assert not errors
    focal_app = build_app(Settings())
    try:
        load_configuration(
            documents,
            uow=focal_app.uow(),
            options=focal_app.load_options(),
            actor="test",
            now=datetime(2026, 7, 1, tzinfo=UTC),
        )
        when = datetime(2026, 9, 10, 3, tzinfo=UTC)
        record_submission(
            Submission("JPNVN2026-TALKING-POINTS", "points", "long"), uow=focal_app.uow(), now=when
        )
        declare_not_applicable(
            "SUMMIT49-INPUTS", actor="minh", reason="not ours", uow=focal_app.uow(), now=when
        )
    finally:
        focal_app.close()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def rows(output: str) -> dict[str, list[str]]:
    """Table lines by their first cell."""
    found = {}
    for line in output.splitlines():
        cells = line.split()
        if cells:
            found.setdefault(cells[0], cells)
    return found


def test_status_shows_the_next_deadlines_with_their_counts(focal) -> None:
    result = focal("status", "--now", "2026-09-03T09:00", "--next", "3")
    assert result.exit_code == 0, result.output
    assert "Next deadlines (as of Thu 2026-09-03 09:00, due times in Asia/Ho_Chi_Minh)" in (
        result.output
    )
    table = rows(result.output)
    # due 22 Sep 17:00 Hanoi: submitted 1 (long) of 2, none excused, missing 1 (minh)
    assert table["JPNVN2026-TALKING-POINTS"][1:] == [
        "22", "Sep", "2026", "17:00", "in", "19", "days", "1", "of", "2", "0", "1",
    ]  # fmt: skip
    assert table["SUMMIT49-INPUTS"][-5:] == ["0", "of", "2", "1", "1"]  # minh excused, tuan missing
    assert table["AMME19-BRIEF"][-5:] == ["0", "of", "1", "0", "1"]
    assert "VN-ANNUAL-REPORT-2026" not in table, "--next 3"
    assert "… and 2 more (focal agenda lists them all)." in result.output
    for flow in ("sync-calendar", "send-reminders", "send-digest"):
        assert table[flow][1:] == ["never", "never"]


def test_status_shows_each_flows_last_run_and_last_success(focal) -> None:
    remind = focal("remind", "--now", "2026-09-03T10:00")
    assert remind.exit_code == 0, remind.output
    started = datetime.now(UTC) + timedelta(minutes=1)
    settings = Settings()
    focal_app = build_app(settings)
    try:
        run_id = start_flow_run(
            "sync-calendar", uow=focal_app.uow(), now=started, runner="host|1|x"
        )
        finish_flow_run(
            run_id,
            uow=focal_app.uow(),
            now=started + timedelta(seconds=2),
            outcome=RunOutcome.FAILED,
            summary="SourceError: https://calendar.example.org/asean.ics: HTTP 503",
        )
    finally:
        focal_app.close()
    result = focal("status")
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    reminders = table["send-reminders"]  # flow, day month year time, outcome, took, success
    assert reminders[5] == "succeeded"
    assert reminders[-4:] == reminders[1:5], "the last run is the last success"
    assert table["sync-calendar"][5:8] == ["failed", "2.0", "s"]
    assert table["sync-calendar"][-1] == "never", "no success yet"
    assert table["send-digest"][1:] == ["never", "never"]
    assert (
        "  sync-calendar: SourceError: https://calendar.example.org/asean.ics: HTTP 503"
        in result.output
    )
    assert "  send-reminders: " in result.output
    assert "messages sent (" in result.output


def test_status_refuses_a_bad_time(focal) -> None:
    result = focal("status", "--now", "next week")
    assert result.exit_code == 1
    assert "--now 'next week' is not an ISO date or time" in result.stderr
