"""``focal import-ics`` and ``focal sync`` as a user runs them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from bots.cli.main import app
from db.models import MeetingRow

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
CALENDAR = ROOT / "config/calendar/asean-environment-2026.yaml"
ROSTER = ROOT / "config/roster.example.yaml"

ICS = (
    "BEGIN:VCALENDAR\n"
    "VERSION:2.0\n"
    "PRODID:-//Partner//EN\n"
    "BEGIN:VEVENT\n"
    "UID:{uid}\n"
    "SUMMARY:Partner policy dialogue\n"
    "DTSTART;TZID=Asia/Bangkok:{start}\n"
    "DTEND;TZID=Asia/Bangkok:{start}\n"
    "RRULE:FREQ=MONTHLY;COUNT=3\n"
    "END:VEVENT\n"
    "END:VCALENDAR\n"
)


def partner_calendar(start: str = "20270115T090000", uid: str = "dialogue@example.org") -> bytes:
    return ICS.format(start=start, uid=uid).encode()


def soon() -> str:
    """Six weeks from today: inside the default window (30 days back, 365 ahead)."""
    return f"{datetime.now(UTC).date() + timedelta(weeks=6):%Y%m%d}T090000"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/partner.ics":
            self.send_error(404, "Not Found")
            return
        body = partner_calendar(soon(), uid="from-the-web@example.org")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def focal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOCAL_DATABASE_URL", f"sqlite:///{tmp_path / 'focal.sqlite'}")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FOCAL_TIMEZONE", "FOCAL_COUNTRY", "SLACK_BOT_TOKEN", "FOCAL_SOURCES"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    assert run("init").exit_code == 0
    return run


def stored(tmp_path: Path) -> list[MeetingRow]:
    engine = create_engine(f"sqlite:///{tmp_path / 'focal.sqlite'}")
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(MeetingRow).where(MeetingRow.uid != "")))
    finally:
        engine.dispose()


def test_import_ics_has_help_and_imports_a_file_once(focal, tmp_path: Path) -> None:
    assert focal("import-ics", "--help").exit_code == 0
    assert focal("sync", "--help").exit_code == 0
    path = tmp_path / "partner.ics"
    path.write_bytes(partner_calendar())
    first = focal("import-ics", path, "--from", "2027-01-01", "--to", "2027-12-31")
    assert first.exit_code == 0, first.stderr
    assert "warning: lines end with LF instead of CRLF (accepted)" in first.output
    assert "3 changes written." in first.output
    again = focal("import-ics", path, "--from", "2027-01-01", "--to", "2027-12-31")
    assert "Nothing changed." in again.output
    rows = [r for r in stored(tmp_path) if r.source == str(path)]
    assert len(rows) == 3
    assert {r.kind for r in rows} == {"other"}


def test_import_ics_from_a_url_with_a_group_and_a_kind(focal, server: str, tmp_path: Path) -> None:
    assert focal("load", CALENDAR, ROSTER).exit_code == 0
    result = focal(
        "import-ics",
        f"{server}/partner.ics",
        "--group",
        "AWGESC",
        "--kind",
        "dialogue",
    )
    assert result.exit_code == 0, result.stderr
    rows = [r for r in stored(tmp_path) if r.source == f"{server}/partner.ics"]
    assert len(rows) == 3
    assert all(r.code.startswith("AWGESC-") and r.kind == "dialogue" for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{bad}",), "line 7: cannot read DTSTART;;TZID=Asia/Bangkok:20270115T090000"),
        (("{good}", "--from", "2027-13-01"), "--from '2027-13-01' is not a date"),
        (("{good}", "--from", "2027-05-01", "--to", "2027-01-01"), "is after --to"),
        (("{good}", "--group", "NOPE"), "--group NOPE: no such group"),
        (("{good}", "--kind", "party"), "Invalid value for '--kind'"),
        (("{missing}",), "no such file"),
        (("{server}/gone.ics",), "the server answered HTTP 404 Not Found"),
    ],
)
def test_bad_input_is_one_clear_line_and_nothing_is_written(
    focal, server: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    good, bad = tmp_path / "good.ics", tmp_path / "bad.ics"
    good.write_bytes(partner_calendar())
    bad.write_bytes(partner_calendar().replace(b"DTSTART;", b"DTSTART;;"))
    names = {"good": good, "bad": bad, "missing": tmp_path / "missing.ics", "server": server}
    result = focal("import-ics", *(a.format(**names) for a in args))
    assert result.exit_code != 0
    assert message in " ".join(result.stderr.split())
    assert stored(tmp_path) == []


def test_sync_reads_every_source_and_reports_the_failing_one(
    focal, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "partner.ics"
    path.write_bytes(partner_calendar(soon()))
    sources = [
        str(CALENDAR),
        str(ROSTER),
        f"{server}/gone.ics",
        f"{path}#group=AWGEE&kind=workshop",
        f"{server}/partner.ics",
    ]
    monkeypatch.setenv("FOCAL_SOURCES", ",".join(sources))
    result = focal("sync")
    assert result.exit_code == 2
    assert "gone.ics: the server answered HTTP 404 Not Found" in result.stderr
    assert "Loaded 2 files" in result.output
    rows = stored(tmp_path)
    from_file = [r for r in rows if r.source == str(path)]
    assert len(from_file) == 3
    assert all(r.kind == "workshop" and r.code.startswith("AWGEE-") for r in from_file)
    assert len([r for r in rows if r.source == f"{server}/partner.ics"]) == 3
    assert "ASOEN-37" in {r.code for r in rows}
    again = focal("sync")
    assert "0 changes written" in again.output
