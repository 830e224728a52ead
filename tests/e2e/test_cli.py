"""The ``focal`` command line as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
CALENDAR = ROOT / "config/calendar/asean-environment-2026.yaml"
ROSTER = ROOT / "config/roster.example.yaml"


@pytest.fixture
def focal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``focal ARGS`` in-process against a SQLite file of this test's own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOCAL_DATABASE_URL", f"sqlite:///{tmp_path / 'focal.sqlite'}")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FOCAL_TIMEZONE", "FOCAL_COUNTRY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def test_help_lists_the_commands_and_each_has_help(focal) -> None:
    result = focal("--help")
    assert result.exit_code == 0
    for command in ("init", "load", "status", "demo", "agenda"):
        assert command in result.output
        assert focal(command, "--help").exit_code == 0


def test_commands_refuse_an_uninitialised_database(focal) -> None:
    result = focal("load", CALENDAR, ROSTER)
    assert result.exit_code == 1
    assert "is not set up yet: run `focal init`" in result.stderr


def test_init_load_status_round_trip(focal) -> None:
    first = focal("init")
    assert first.exit_code == 0
    assert "is now at revision" in first.output
    assert "up to date" in focal("init").output

    loaded = focal("load", CALENDAR, ROSTER)
    assert loaded.exit_code == 0, loaded.stderr
    assert "changes written." in loaded.output
    assert "ASOEN37-WORKPLANS is due on Tue 2026-09-01, a public holiday" in loaded.output

    again = focal("load", CALENDAR, ROSTER)
    assert again.exit_code == 0
    assert "Nothing changed." in again.output

    status = focal("status", "ASOEN37-WORKPLANS")
    assert status.exit_code == 0
    assert "due Tue 2026-09-01 17:00 (Asia/Ho_Chi_Minh)" in status.output
    assert "0 submitted" in status.output

    agenda = focal("agenda", "--now", "2026-08-17T09:00")
    assert agenda.exit_code == 0
    assert "ASOEN-37" in agenda.output


def test_bad_files_are_reported_line_by_line_and_nothing_is_written(focal, tmp_path: Path) -> None:
    assert focal("init").exit_code == 0
    broken = tmp_path / "calendar.yaml"
    broken.write_text(
        "meetings:\n"
        "  - code: X-1\n"
        "    title: A meeting\n"
        "    start: 2026-09-22T09:00\n"
        "    end: 2026-09-21T09:00\n"
        "    timezone: Asia/Hanoi\n",
        encoding="utf-8",
    )
    result = focal("load", "calendar.yaml")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "calendar.yaml:5: end: must be after the start"
    assert lines[1].startswith("calendar.yaml:6: timezone: unknown timezone 'Asia/Hanoi'")
    assert lines[-1] == "error: 2 problems found; nothing was written."
    assert focal("status", "ASOEN37-WORKPLANS").exit_code == 1  # nothing was loaded


def test_unreadable_input_gets_one_clear_line(focal, tmp_path: Path) -> None:
    assert focal("init").exit_code == 0
    (tmp_path / "latin1.yaml").write_bytes("title: Hội nghị".encode("utf-16"))
    (tmp_path / "bad.yaml").write_text("meetings: [\n", encoding="utf-8")
    result = focal("load", "missing.yaml", "latin1.yaml", "bad.yaml")
    assert result.exit_code == 1
    assert "missing.yaml:0: file: no such file" in result.stderr
    assert "latin1.yaml:0: file: is not UTF-8 text" in result.stderr
    assert "bad.yaml:2: yaml:" in result.stderr


def test_dry_run_shows_changes_and_writes_nothing(focal) -> None:
    assert focal("init").exit_code == 0
    result = focal("load", "--dry-run", CALENDAR, ROSTER)
    assert result.exit_code == 0
    assert "Dry run: nothing written" in result.output
    assert "+ meeting ASOEN-37" in result.output
    assert focal("status", "ASOEN37-WORKPLANS").exit_code == 1


def test_unknown_deadline_suggests_a_close_code(focal) -> None:
    assert focal("init").exit_code == 0
    assert focal("load", CALENDAR, ROSTER).exit_code == 0
    result = focal("status", "ASOEN37-WORKPLAN")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no deadline ASOEN37-WORKPLAN (did you mean ASOEN37-WORKPLANS?)"
    )


def test_a_bad_setting_is_named(focal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOCAL_TIMEZONE", "Asia/Hanoi")
    result = focal("init")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: setting FOCAL_TIMEZONE: Value error, unknown timezone")


@pytest.mark.slow
def test_the_installed_demo_runs_from_a_fresh_directory(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("focal")
    assert script.exists() or shutil.which("focal"), "the focal console script is installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOCAL_", "SLACK_"))}
    env["COLUMNS"] = "120"
    result = subprocess.run(
        [str(script), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Load the sample calendar and roster" in result.stdout
    assert "focal status JPNVN2026-TALKING-POINTS" in result.stdout
    assert "0 changes written." in result.stdout
    assert "The reminders of Thu 03 Sep 2026" in result.stdout
    assert "7 messages, 13 reminders" in result.stdout
    assert "To Nguyen Thi Lan (@lan)" in result.stdout
    assert (tmp_path / "var" / "demo.sqlite").exists()


def test_demo_refuses_a_bad_time_and_leaves_its_database(focal, tmp_path: Path) -> None:
    kept = tmp_path / "demo.sqlite"
    kept.write_bytes(b"earlier tour")
    result = focal("demo", "--now", "next tuesday", "--database", kept)
    assert result.exit_code == 1
    assert "--now 'next tuesday' is not an ISO date or time" in result.stderr
    assert kept.read_bytes() == b"earlier tour"


def _load_sample(focal) -> None:
    """Init through the CLI, then load as of 1 July 2026 (the CLI's load stamps the clock)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from bots.cli.main import read_documents  # noqa: PLC0415
    from config.settings import Settings  # noqa: PLC0415
    from config.wiring import build_app  # noqa: PLC0415
    from services.loading import load_configuration  # noqa: PLC0415

    assert focal("init").exit_code == 0
    documents, errors = read_documents([CALENDAR, ROSTER])
    assert not errors
    app = build_app(Settings())
    try:
        load_configuration(
            documents,
            uow=app.uow(),
            options=app.load_options(),
            actor="test",
            now=datetime(2026, 7, 1, tzinfo=UTC),
        )
    finally:
        app.close()


def test_remind_dry_run_shows_the_messages_and_writes_nothing(focal) -> None:
    _load_sample(focal)
    result = focal("remind", "--now", "2026-11-26T10:00", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "VN-ANNUAL-REPORT-2026" in result.output
    assert "would be sent; nothing was written" in result.output
    again = focal("remind", "--now", "2026-11-26T10:00", "--dry-run")
    assert again.output.count("VN-ANNUAL-REPORT-2026") == result.output.count(
        "VN-ANNUAL-REPORT-2026"
    )


def test_remind_without_a_token_prints_each_message_once(focal) -> None:
    _load_sample(focal)
    first = focal("remind", "--now", "2026-11-26T10:00")
    assert first.exit_code == 0, first.output
    assert "Sent 6 messages" in first.output
    assert "To Nguyen" in first.output or "To " in first.output
    second = focal("remind", "--now", "2026-11-26T10:30")
    assert "Sent 0 messages" in second.output


def test_remind_refuses_a_bad_time(focal) -> None:
    _load_sample(focal)
    result = focal("remind", "--now", "next tuesday")
    assert result.exit_code == 1
    assert "--now 'next tuesday' is not an ISO date" in result.output


def test_digest_dry_run_and_once_per_day(focal) -> None:
    _load_sample(focal)
    shown = focal("digest", "--now", "2026-12-01T08:30", "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert "VN-ANNUAL-REPORT-2026" in shown.output
    sent = focal("digest", "--now", "2026-12-01T08:30")
    assert "The digest was posted." in sent.output
    again = focal("digest", "--now", "2026-12-01T11:00")
    assert "already posted" in again.output
