"""``focal demo``: a self-contained tour on a fresh SQLite database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
import typer
from rich.panel import Panel

import config
from bots.cli.main import fail, parse_now, read_documents
from bots.cli.render import render_agenda, render_load_report, render_status
from bots.slack.notifier import OutboxNotifier
from config.settings import Settings
from config.wiring import App, build_app, local_worker
from db.migrate import head_revision, upgrade
from services.delivery import send_due
from services.feeds import person_feed_bytes
from services.loading import load_configuration
from services.queries import agenda, deadline_status
from services.reminders import refresh_plan

if TYPE_CHECKING:
    from rich.console import Console

SAMPLE_DIR = Path(config.__file__).parent
SAMPLE_FILES = (
    SAMPLE_DIR / "calendar" / "asean-environment-2026.yaml",
    SAMPLE_DIR / "roster.example.yaml",
)

WHAT_NEXT = (
    "[bold]What Focal does next[/] (each part arrives with its own release):\n"
    "• [bold]Submissions[/]: [cyan]/focal submit CODE text[/] records a numbered version with a "
    "receipt; [cyan]/focal status CODE[/] shows who has and has not submitted.\n"
    "• [bold]focal serve[/]: the Slack endpoint, the feeds and the schedules in one command.\n\n"
    "Try it on your own database: [cyan].venv/bin/focal init[/], then [cyan].venv/bin/focal load "
    "config/calendar/asean-environment-2026.yaml config/roster.example.yaml[/], "
    "[cyan].venv/bin/focal agenda[/], [cyan].venv/bin/focal status CODE[/], "
    "[cyan].venv/bin/focal remind --dry-run[/] and [cyan].venv/bin/focal digest --dry-run[/]."
)


def _step(console: Console, number: int, text: str) -> None:
    console.rule(f"[bold]{number}. {text}", align="left")


LOADED_BEFORE = timedelta(days=60)


def _fixed(at: datetime) -> datetime:
    return at


def _show_reminders_of_day(console: Console, focal: App, day: date) -> None:
    """Run the reminders as if Focal had been running: quietly up to the day, aloud through it."""
    zone = ZoneInfo(focal.settings.timezone)
    start = datetime.combine(day, time(0, 0), zone)
    end = start + timedelta(days=1) - timedelta(minutes=1)
    worker = local_worker()

    def shown(text: str) -> None:
        console.print(Panel(text, expand=False), markup=False)

    for now, echo in ((start, None), (end, shown)):
        notifier = OutboxNotifier(focal.session_factory, clock=partial(_fixed, now), echo=echo)
        refresh_plan(uow=focal.uow(), policy=focal.policy(), now=now)
        report = send_due(uow_factory=focal.uow, notifier=notifier, now=now, worker=worker)
    console.print(
        f"{report.messages} messages, {report.reminders} reminders: at "
        f"{focal.settings.reminder_hour:02d}:00 in each person's own timezone, on their working "
        "days. Without SLACK_BOT_TOKEN they go to the outbox table and this console; with it, "
        "to Slack as direct messages with Submit / Remind me tomorrow / Not applicable buttons."
    )


def _write_feed(console: Console, focal: App, path: Path, when: datetime) -> None:
    body = person_feed_bytes("minh", uow=focal.uow(), now=when)
    path.write_bytes(body)
    titles = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    console.print(
        f"Wrote {path} ({len(body):,} bytes, {len(titles)} events), what Google Calendar, "
        "Outlook, Apple Calendar or Thunderbird read from minh's private link "
        "(/focal calendar gives it):"
    )
    for title in titles[:6]:
        console.print(f"  {title}", markup=False)


def run_tour(console: Console, *, now: str, database: Path, actor: str) -> None:
    settings = Settings(database_url=f"sqlite:///{database}")
    when = parse_now(now, settings.timezone)  # bad input: refuse before touching anything
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    focal = build_app(settings)
    try:
        _step(console, 1, "A fresh database")
        upgrade(focal.engine)
        console.print(f"Created {database} at schema revision {head_revision()}.")

        _step(console, 2, "Load the sample calendar and roster")
        documents, errors = read_documents(SAMPLE_FILES)
        if errors:
            fail("the sample files do not load: " + "; ".join(map(str, errors)))
        for path in SAMPLE_FILES:
            console.print(f"  {path.relative_to(SAMPLE_DIR.parent)}")
        loaded_at = when - LOADED_BEFORE  # as if the office had loaded them weeks ago
        report = load_configuration(
            documents, uow=focal.uow(), options=focal.load_options(), actor=actor, now=loaded_at
        )
        render_load_report(console, report, names={}, details=False)

        _step(
            console, 3, f"The office's agenda as of {when:%a %d %b %Y %H:%M} ({settings.timezone})"
        )
        coming = agenda(uow=focal.uow(), now=when)
        render_agenda(console, coming, timezone=settings.timezone, now=when)

        if coming.deadlines:
            record = coming.deadlines[0][0]
            _step(console, 4, f"Who owes the next input: focal status {record.deadline.code}")
            render_status(
                console,
                deadline_status(record.deadline.code, uow=focal.uow()),
                timezone=settings.timezone,
                now=when,
            )

        _step(console, 5, "Loading the same files again changes nothing")
        again = load_configuration(
            documents, uow=focal.uow(), options=focal.load_options(), actor=actor, now=when
        )
        console.print(f"{again.written} changes written.")

        day = when.astimezone(ZoneInfo(settings.timezone)).date()
        _step(console, 6, f"The reminders of {day:%a %d %b %Y}, as people would see them")
        _show_reminders_of_day(console, focal, day)

        _step(console, 7, "A calendar feed: focal feed --person minh")
        _write_feed(console, focal, database.with_name("demo-minh.ics"), when)

        console.print(Panel(WHAT_NEXT))
    finally:
        focal.close()
    raise typer.Exit(0)
