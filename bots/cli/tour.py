"""``focal demo``: a self-contained tour on a fresh SQLite database.

The office lives on a day of the sample calendar (``--now``): its clock starts there and runs
on. The tour loads the sample, shows the agenda and that day's reminders, then starts the HTTP
app on a free loopback port, in console mode (a demo signing secret, no bot token: nothing goes
to Slack), and talks to it as Slack would: a focal point's signed ``/focal submit`` and
``/focal calendar``, whose replies it reads from the outbox; it fetches the feed link it got,
and ends with ``focal status``, ``/healthz`` and what to try next.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
import typer
from rich.json import JSON
from rich.panel import Panel

import config
from bots.cli.context import fail, parse_now
from bots.cli.render import render_agenda, render_load_report, render_overview, render_status
from bots.cli.slack_requests import command_form, get, post_signed, wait_for_reply
from bots.slack.notifier import OutboxNotifier
from bots.web.background import base_url, loopback_listener, serving
from config.settings import Settings
from config.wiring import App, ShiftedClock, build_app, local_worker
from config.yaml_source import read_documents
from db.migrate import head_revision, upgrade
from flows.schedules import flow_schedules
from services.loading import load_configuration
from services.overview import office_overview
from services.queries import agenda, deadline_status

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
    from rich.console import Console

SAMPLE_DIR = Path(config.__file__).parent
SAMPLE_FILES = (
    SAMPLE_DIR / "calendar" / "asean-environment-2026.yaml",
    SAMPLE_DIR / "roster.example.yaml",
)
#: The tour's signing secret: its requests are signed with it, as Slack signs with the app's.
DEMO_SECRET = "focal-demo-signing-secret"  # noqa: S105 - made up, for loopback only
#: Who submits in the tour: a focal point of the sample roster with a Slack id, and his input.
SUBMITTER, SUBMITTER_SLACK, SUBMITTER_INPUT = "long", "U03DVL8TKY", "JPNVN2026-TALKING-POINTS"
SUBMITTER_NAME = "Duong Van Long"
SUBMISSION = "Talking points for the Japan-Viet Nam dialogue: air quality, plastics, climate."
LOADED_BEFORE = timedelta(days=60)
STEPS = 9


class TourSettings(Settings):
    """The defaults and what the tour sets: the environment and ``.env`` are left out, so the
    tour is the same on every machine (and never reaches a Slack workspace)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003 - pydantic-settings' signature
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _step(console: Console, number: int, text: str) -> None:
    console.rule(f"[bold]{number}/{STEPS}. {text}", align="left")


def _fixed(at: datetime) -> datetime:
    return at


def _said(console: Console, who: str, text: str) -> None:
    console.print(Panel(text, title=who, title_align="left", expand=False), markup=False)


def _reminders_of_day(console: Console, focal: App, day: date) -> None:
    """Run send-reminders as if Focal had been running: quietly up to the day, aloud through
    it (both runs recorded, as every run is)."""
    from flows.reminders import Runtime, run_send_reminders  # noqa: PLC0415 - imports Prefect

    zone = ZoneInfo(focal.settings.timezone)
    start = datetime.combine(day, clock_time(0, 0), zone)
    end = start + timedelta(days=1) - timedelta(minutes=1)

    def shown(text: str) -> None:
        who, _, message = text.partition(":\n")
        _said(console, who, message)

    worker = local_worker()
    with console.status(f"send-reminders as of {start:%d %b %H:%M}…"):
        quiet = OutboxNotifier(focal.session_factory, clock=partial(_fixed, start), echo=None)
        run_send_reminders(Runtime(focal, quiet, worker), start)
    aloud = OutboxNotifier(focal.session_factory, clock=partial(_fixed, end), echo=shown)
    _, report = run_send_reminders(Runtime(focal, aloud, worker), end)
    console.print(
        f"{report.messages} messages, {report.reminders} reminders: at "
        f"{focal.settings.reminder_hour:02d}:00 in each person's own timezone, on their working "
        "days. Without SLACK_BOT_TOKEN they go to the outbox table and this console; with it, "
        "to Slack as direct messages with Submit / Remind me tomorrow / Not applicable buttons."
    )


def _slash(console: Console, focal: App, url: str, text: str) -> str:
    """``/focal text`` from the submitter, signed and posted to the app; the reply he sees."""
    command = focal.settings.slack_command
    body, response_url = command_form(
        command=command, text=text, user_id=SUBMITTER_SLACK, user_name=SUBMITTER
    )
    with console.status(f"{command} {text.split(maxsplit=1)[0]}: waiting for the app…"):
        answer = post_signed(f"{url}/slack/events", body, secret=DEMO_SECRET)
        if answer.status != 200:  # noqa: PLR2004
            fail(f"the app answered {answer.status} to a signed {command} request")
        reply = wait_for_reply(focal, response_url)
    console.print(
        f"POST /slack/events, signed as Slack signs (X-Slack-Signature, HMAC-SHA256): "
        f"acknowledged {answer.status} in {answer.seconds * 1000:.0f} ms; the reply, only to him "
        "and in his language (the roster's):"
    )
    _said(console, f"To {SUBMITTER_NAME} (@{SUBMITTER})", reply)
    return reply


def _feed(console: Console, reply: str, path: Path) -> None:
    """Follow the first link of the ``/focal calendar`` reply: the feed, written to ``path``."""
    links = [line for line in reply.splitlines() if line.startswith("http")]
    if not links:
        fail("the /focal calendar reply carried no link")
    status, body = get(links[0])
    if status != 200:  # noqa: PLR2004
        fail(f"the feed link answered {status}")
    path.write_bytes(body)
    titles = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    console.print(
        f"GET {links[0]}\nWrote {path} ({len(body):,} bytes, {len(titles)} events): what Google "
        "Calendar, Outlook, Apple Calendar or Thunderbird read from that link. The first events:",
        markup=False,
    )
    for title in titles[:5]:
        console.print(f"  {title}", markup=False)
    console.print("(The link answers while the tour's app runs; focal serve serves it for real.)")


def _health(console: Console, url: str) -> None:
    status, body = get(f"{url}/healthz")
    console.print(f"GET {url}/healthz → {status}")
    console.print(JSON(json.dumps(json.loads(body), ensure_ascii=False)))


def _what_next(database: Path, feed: Path, now: str) -> str:
    return (
        "[bold]Try it yourself[/] (the tour's database stays in "
        f"[cyan]{database}[/], its feed in [cyan]{feed}[/]):\n"
        f"• [cyan]FOCAL_DATABASE_URL=sqlite:///{database} .venv/bin/focal status --now "
        f"{now}[/]: this office's next deadlines and flow runs; with a code, one deadline's "
        "matrix.\n"
        "• Your own office: [cyan].venv/bin/focal init[/], then [cyan].venv/bin/focal load "
        "config/calendar/asean-environment-2026.yaml config/roster.example.yaml[/], "
        "[cyan]focal agenda[/], [cyan]focal remind --dry-run[/], [cyan]focal digest --dry-run[/].\n"
        "• The whole thing: [cyan].venv/bin/focal serve[/] (Slack endpoint, feeds, /healthz and "
        "the three flows on their schedules). Connecting Slack: docs/slack-app.md; running it "
        "for real (settings, PostgreSQL, systemd, Prefect workers, backups, upgrades, what the "
        "logs say): docs/operations.md.\n"
        "• The tests: [cyan]make test[/]."
    )


def run_tour(console: Console, *, now: str, database: Path, actor: str) -> None:
    started = time.monotonic()
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself: this process is the tour's
    # alone, and the tour uses no Slack workspace, whatever the shell it runs in says.
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        os.environ.pop(name, None)
    settings = TourSettings(database_url=f"sqlite:///{database}", slack_signing_secret=DEMO_SECRET)
    when = parse_now(now, settings.timezone)  # bad input: refuse before touching anything
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    listener = loopback_listener()  # the app's port, known before the app (feed links)
    settings = settings.model_copy(update={"public_url": base_url(listener)})
    focal = build_app(settings, clock=ShiftedClock(when))
    try:
        _offline(console, focal, when=when, database=database, actor=actor)
        _step(console, 5, "The app, running: what focal serve serves")
        from bots.slack.app import build_bolt_app  # noqa: PLC0415 - imports Bolt
        from bots.web.app import build_web_app  # noqa: PLC0415

        with console.status("Starting the HTTP app…"):
            web = build_web_app(focal, bolt=build_bolt_app(focal))
        with serving(web, listener) as url:
            feed = _online(console, focal, url=url, database=database)
    finally:
        focal.close()
        listener.close()
    console.print(Panel(_what_next(database, feed, now)))
    console.print(f"[dim]The tour took {time.monotonic() - started:.1f} s.[/]")
    raise typer.Exit(0)


def _offline(console: Console, focal: App, *, when: datetime, database: Path, actor: str) -> None:
    """Steps 1-4: the database, the sample, the agenda, the day's reminders."""
    zone = focal.settings.timezone
    _step(console, 1, "A fresh database")
    upgrade(focal.engine)
    console.print(f"Created {database} at schema revision {head_revision()}.")

    _step(console, 2, "Load the sample calendar and roster")
    documents, errors = read_documents(SAMPLE_FILES)
    if errors:
        fail("the sample files do not load: " + "; ".join(map(str, errors)))
    for path in SAMPLE_FILES:
        console.print(f"  {path.relative_to(SAMPLE_DIR.parent)}")
    options = focal.load_options()
    report = load_configuration(  # as if the office had loaded them weeks ago
        documents, uow=focal.uow(), options=options, actor=actor, now=when - LOADED_BEFORE
    )
    render_load_report(console, report, names={}, details=False)
    again = load_configuration(documents, uow=focal.uow(), options=options, actor=actor, now=when)
    console.print(f"Loading the same files again: {again.written} changes written.")

    _step(console, 3, f"The office's agenda as of {when:%a %d %b %Y %H:%M} ({zone})")
    render_agenda(console, agenda(uow=focal.uow(), now=when), timezone=zone, now=when)

    day = when.astimezone(ZoneInfo(zone)).date()
    _step(console, 4, f"The reminders of {day:%a %d %b %Y}, as people would see them")
    _reminders_of_day(console, focal, day)


def _online(console: Console, focal: App, *, url: str, database: Path) -> Path:
    """Steps 5-9, with the app running at ``url``; returns the feed file written."""
    zone = focal.settings.timezone
    console.print(
        f"Listening on {url}: POST /slack/events (console mode: requests verified with the "
        "tour's signing secret; without SLACK_BOT_TOKEN the replies go to the outbox, not to "
        "Slack), GET /feeds/…, GET /healthz."
    )
    _step(console, 6, f"{SUBMITTER_NAME} submits his input: /focal submit {SUBMITTER_INPUT}")
    _slash(console, focal, url, f"submit {SUBMITTER_INPUT} {SUBMISSION}")

    _step(console, 7, f"Who owes it now: focal status {SUBMITTER_INPUT}")
    status = deadline_status(SUBMITTER_INPUT, uow=focal.uow())
    render_status(console, status, timezone=zone, now=focal.clock.now())

    feed = database.with_name(f"demo-{SUBMITTER}.ics")
    _step(console, 8, "His calendar feed: /focal calendar, then the link it gives")
    _feed(console, _slash(console, focal, url, "calendar"), feed)

    _step(console, 9, "How the office and its flows stand: focal status, /healthz")
    flows = [s.flow for s in flow_schedules(zone)]
    overview = office_overview(uow=focal.uow(), now=focal.clock.now(), flows=flows, limit=5)
    render_overview(console, overview, timezone=zone, now=focal.clock.now())
    _health(console, url)
    return feed
