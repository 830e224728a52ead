"""The ``focal`` command line as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bots.cli.main import app
from tests.conftest import set_terminal_width

ROOT = Path(__file__).resolve().parents[2]
CALENDAR = ROOT / "config/calendar/asean-environment-2026.yaml"
ROSTER = ROOT / "config/roster.example.yaml"


@pytest.fixture
def focal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``focal ARGS`` in-process against a SQLite file of this test's own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOCAL_DATABASE_URL", f"sqlite:///{tmp_path / 'focal.sqlite'}")
    set_terminal_width(monkeypatch, 200)
    for name in ("FOCAL_TIMEZONE", "FOCAL_COUNTRY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def test_help_lists_the_commands_and_each_has_help(focal) -> None:
    result = focal("--help")
    assert result.exit_code == 0
    for command in ("init", "load", "status", "export", "review", "demo", "agenda"):
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

    from config.settings import Settings  # noqa: PLC0415
    from config.wiring import build_app  # noqa: PLC0415
    from config.yaml_source import read_documents  # noqa: PLC0415
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


# ------------------------------------------------ status, export and review

WORKPLANS = "ASOEN37-WORKPLANS"  # due Tue 1 Sep 2026 17:00 Hanoi; minh, hoa and ngoc owe it


def _submit_samples() -> None:
    """minh v1 on time; hoa (his alternate) v2 for him, 19 hours late; hoa her own; ngoc excused."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from config.settings import Settings  # noqa: PLC0415
    from config.wiring import build_app  # noqa: PLC0415
    from services.submissions import (  # noqa: PLC0415
        Submission,
        declare_not_applicable,
        record_submission,
    )

    app = build_app(Settings())
    try:
        for actor, person, text, at in (
            ("minh", None, "Kế hoạch 2027 🌏 中文", datetime(2026, 8, 20, 3, tzinfo=UTC)),
            (
                "hoa",
                "minh",
                'Bản 2, "sửa" [bold]x[/]\nline two',
                datetime(2026, 9, 2, 5, tzinfo=UTC),
            ),
            ("hoa", None, "AWGEE plan", datetime(2026, 8, 21, 3, tzinfo=UTC)),
        ):
            record_submission(
                Submission(WORKPLANS, text, actor, person, ("https://example.org/plan",)),
                uow=app.uow(),
                now=at,
            )
        declare_not_applicable(
            WORKPLANS,
            actor="ngoc",
            reason="AHP [has] no work plan this year",
            uow=app.uow(),
            now=datetime(2026, 8, 21, 3, tzinfo=UTC),
        )
    finally:
        app.close()


@pytest.fixture
def submitted(focal):
    _load_sample(focal)
    _submit_samples()
    return focal


def test_status_shows_versions_lateness_on_behalf_reviews_and_excuses(submitted) -> None:
    result = submitted("status", WORKPLANS)
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "v2" in rows["minh"]
    assert "Wed 2026-09-02 12:00" in rows["minh"]  # in the coordinator's timezone
    assert "late by 19 hours" in rows["minh"]
    assert "Bui Thi Hoa, on behalf" in rows["minh"]
    assert "received" in rows["minh"]
    assert "on time" in rows["hoa"]
    assert "not applicable" in rows["ngoc"]
    assert "AHP [has] no work plan this year" in rows["ngoc"]
    assert "times in Asia/Ho_Chi_Minh" in result.output
    assert "2 submitted (1 late), 1 not applicable, 0 missing, of 3 assigned." in result.output


def test_review_returns_accepts_tells_and_shows_in_the_status(submitted) -> None:
    returned = submitted("review", WORKPLANS, "minh", "--return", "--note", "Add the budget")
    assert returned.exit_code == 0, returned.output
    assert f"{WORKPLANS} v2 of minh: returned (note: Add the budget)." in returned.output
    assert "Told @hoa, @minh." in returned.output
    assert "To Bui Thi Hoa (@hoa):" in returned.output  # no Slack token: the console and outbox
    assert "bạn nộp thay Dang Quang Minh đã bị trả lại" in returned.output
    assert "Ghi chú: Add the budget" in returned.output

    again = submitted("review", WORKPLANS, "minh", "--return")
    assert again.exit_code == 0
    assert (
        "is already returned (note: Add the budget): nothing changed, no one told." in again.output
    )
    assert "To " not in again.output

    accepted = submitted("review", WORKPLANS.lower(), "hoa", "--accept", "--as", "lan")
    assert accepted.exit_code == 0, accepted.output
    assert f"{WORKPLANS} v1 of hoa: accepted." in accepted.output
    assert "Người xem xét: Nguyen Thi Lan" in accepted.output

    status = submitted("status", WORKPLANS)
    rows = {line.split("│")[1].strip(): line for line in status.output.splitlines() if "│" in line}
    assert "returned" in rows["minh"]
    assert "Add the budget" in rows["minh"]
    assert "accepted by Nguyen Thi Lan" in rows["hoa"]
    assert "2 submitted (1 late, 1 accepted, 1 returned)" in status.output


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("minh",), "error: give one of --accept or --return"),
        (("minh", "--accept", "--return"), "error: give one of --accept or --return"),
        (("mihn", "--accept"), "error: no person mihn (did you mean minh?)"),
        (("cuong", "--accept"), f"error: cuong owes no {WORKPLANS}"),
        (("ngoc", "--accept"), f"error: ngoc has submitted nothing for {WORKPLANS}"),
        (
            ("minh", "--accept", "--version", "5"),
            f"error: minh has no version 5 of {WORKPLANS} (versions: 1, 2)",
        ),
        (
            ("minh", "--accept", "--version", "0"),
            "error: --version 0: versions are numbered from 1",
        ),
        (
            ("minh", "--accept", "--as", "minh"),
            f"error: minh may not do this for {WORKPLANS}: only the coordinators may",
        ),
    ],
)
def test_review_refusals_are_one_line_and_write_nothing(submitted, args, line) -> None:
    before = submitted("export", WORKPLANS, "--format", "csv").stdout
    result = submitted("review", WORKPLANS, *args)
    assert result.exit_code == 1
    assert result.stderr.strip() == line
    assert "To " not in result.output
    assert submitted("export", WORKPLANS, "--format", "csv").stdout == before


def test_review_of_an_unknown_deadline_suggests_one(submitted) -> None:
    result = submitted("review", "ASOEN37-WORKPLAN", "minh", "--accept")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no deadline ASOEN37-WORKPLAN (did you mean ASOEN37-WORKPLANS?)"
    )


def test_export_markdown_to_stdout_skips_returned_versions(submitted) -> None:
    assert submitted("review", WORKPLANS, "minh", "--return").exit_code == 0
    result = submitted("export", WORKPLANS)
    assert result.exit_code == 0, result.stderr
    document = result.stdout
    assert document.startswith(f"# {WORKPLANS} — ")
    assert "- Due: Tue 2026-09-01 17:00 (Asia/Ho_Chi_Minh)" in document
    sections = document.split("\n## ")[1:]
    assert [s.splitlines()[0] for s in sections] == [
        "Department of Environment — Bui Thi Hoa (hoa)",
        "Department of Environment — Dang Quang Minh (minh)",
        "Department of Nature Conservation and Biodiversity — Ngo Bich Ngoc (ngoc)",
    ]
    assert "Version 1 · submitted Thu 2026-08-20 10:00" in sections[1]
    assert "Kế hoạch 2027 🌏 中文" in sections[1]
    assert "later returned: v2" in sections[1]
    assert "Bản 2" not in document
    assert "_Not applicable: AHP [has] no work plan this year_" in sections[2]
    assert submitted("export", WORKPLANS).stdout == document


def test_export_csv_to_a_file(submitted, tmp_path: Path) -> None:
    import csv  # noqa: PLC0415

    result = submitted("export", WORKPLANS, "--format", "csv", "-o", "inputs.csv")
    assert result.exit_code == 0, result.output
    assert f"Wrote 3 inputs of {WORKPLANS} to inputs.csv." in result.output
    raw = (tmp_path / "inputs.csv").read_bytes()
    assert raw.startswith(b"deadline,meeting,due,person,")
    assert b"\r\n" in raw
    with (tmp_path / "inputs.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    minh = next(r for r in rows if r["person"] == "minh")
    assert minh["text"] == 'Bản 2, "sửa" [bold]x[/]\nline two'
    assert (minh["version"], minh["late"], minh["late_by"]) == ("2", "yes", "19 hours")
    assert (minh["submitted_by"], minh["on_behalf"]) == ("hoa", "yes")


def test_export_refuses_an_unknown_deadline_and_a_bad_format(submitted) -> None:
    unknown = submitted("export", "ASOEN37-WORKPLAN")
    assert unknown.exit_code == 1
    assert "did you mean ASOEN37-WORKPLANS?" in unknown.stderr
    assert submitted("export", WORKPLANS, "--format", "pdf").exit_code == 2
