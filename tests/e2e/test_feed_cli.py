"""``focal feed`` as a user runs it: the bytes the HTTP app serves for the same data and time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import icalendar
import pytest
from typer.testing import CliRunner

from bots.cli.main import app
from bots.web.app import build_web_app
from config.settings import Settings
from config.wiring import App
from db.engine import build_engine, build_session_factory
from db.uow import SqlAlchemyUnitOfWork
from services.feed_access import feed_access
from tests.e2e.test_cli import CALENDAR, ROSTER
from tests.fakes import HandClock
from tests.integration.test_feed_serving import fetch
from tests.slack_http import serve_asgi

if TYPE_CHECKING:
    from pathlib import Path

NOW = "2026-08-20T10:00"  # Hanoi
AT = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def focal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run ``focal ARGS`` in-process against a SQLite file of this test's own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOCAL_DATABASE_URL", f"sqlite:///{tmp_path / 'focal.sqlite'}")
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FOCAL_TIMEZONE", "FOCAL_COUNTRY", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: object):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def loaded(focal, tmp_path: Path) -> Path:
    assert focal("init").exit_code == 0
    assert focal("load", CALENDAR, ROSTER).exit_code == 0
    return tmp_path / "focal.sqlite"


def test_feed_has_help(focal) -> None:
    result = focal("feed", "--help")
    assert result.exit_code == 0
    for option in ("--person", "--group", "--all", "--output", "--now"):
        assert option in result.output


def test_the_file_is_what_the_app_serves(focal, loaded: Path, tmp_path: Path) -> None:
    written = focal("feed", "--person", "minh", "--now", NOW, "-o", tmp_path / "minh.ics")
    assert written.exit_code == 0, written.stderr
    group = focal(
        "feed", "--group", "AWGESC", "--language", "vi", "--now", NOW, "-o", tmp_path / "g.ics"
    )
    assert group.exit_code == 0, group.stderr
    engine = build_engine(f"sqlite:///{loaded}")
    focal_app = App(
        settings=Settings(_env_file=None, database_url=str(engine.url)),
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=HandClock(AT),
    )
    uow = SqlAlchemyUnitOfWork(focal_app.session_factory)
    access = feed_access("minh", reset=False, uow=uow, now=AT)
    try:
        with serve_asgi(build_web_app(focal_app)) as base:
            served = fetch(base, f"/feeds/{access.token}.ics")
            served_group = fetch(base, f"/feeds/groups/AWGESC.ics?token={access.token}")
    finally:
        engine.dispose()
    assert served.status == served_group.status == 200
    assert (tmp_path / "minh.ics").read_bytes() == served.body
    assert (tmp_path / "g.ics").read_bytes() == served_group.body
    calendar = icalendar.Calendar.from_ical(served.body)
    assert any("Hạn nộp: " in str(e["SUMMARY"]) for e in calendar.walk("VEVENT")), "minh reads vi"


def test_all_writes_one_file_a_feed(focal, loaded: Path, tmp_path: Path) -> None:
    result = focal("feed", "--all", "--now", NOW, "-o", tmp_path / "feeds")
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "feeds").iterdir())
    assert "person-minh.ics" in names
    assert "group-AWGESC.ics" in names
    assert all(
        p.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n") for p in (tmp_path / "feeds").iterdir()
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--person", "nobody", "-o", "x.ics"), "no person 'nobody' in the roster"),
        (("--group", "NOPE", "-o", "x.ics"), "no group 'NOPE' in the roster"),
        (("-o", "x.ics"), "give one of --person HANDLE, --group CODE or --all"),
        (("--person", "minh", "--all", "-o", "x.ics"), "give one of --person"),
        (("--group", "AWGESC", "--language", "fr", "-o", "x.ics"), "--language 'fr': use en or vi"),
        (("--person", "minh", "--now", "soon", "-o", "x.ics"), "--now 'soon' is not an ISO date"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    focal, loaded: Path, tmp_path: Path, args: tuple[str, ...], line: str
) -> None:
    result = focal("feed", *args)
    assert result.exit_code == 1
    assert line in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.ics").exists()
