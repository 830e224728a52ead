"""``focal import-ics`` and ``focal sync``: other calendars into the store, from the shell."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from config.sources import SourceError, read_source
from core.changes import Action
from core.ics_import import CalendarRefusedError, ImportWindow
from core.model import MeetingKind  # noqa: TC001 - typer reads the options' types at run time
from services.importing import ImportOptions, ImportRefusedError, ImportReport, import_calendar

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Callable

    from rich.console import Console

    from config.wiring import App
    from flows.calendar import SyncReport


@dataclass(frozen=True)
class CliParts:
    """What these commands share with the rest of the ``focal`` command line."""

    build: Callable[[], App]  # the app, its database checked
    fail: Callable[[str], NoReturn]
    actor: Callable[[], str]
    out: Console
    err: Console


def _day(value: str | None, option: str, fail: Callable[[str], NoReturn]) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date such as 2026-09-01")


def render_import(out: Console, report: ImportReport) -> None:
    for warning in report.warnings:
        out.print(f"[yellow]warning:[/] {warning}", soft_wrap=True, highlight=False)
    counts = report.count("meeting")
    cancelled = len(report.cancelled)
    moved = sum(1 for c in report.changes if c.entity == "deadline" and c.writes)
    table = Table(
        title=f"{report.source}" + (f" ({report.calendar_name})" if report.calendar_name else "")
    )
    for column in (
        "in the window",
        "added",
        "changed",
        "unchanged",
        "cancelled (gone)",
        "deadlines moved",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(report.found),
        str(counts[Action.ADDED]),
        str(counts[Action.CHANGED] + counts[Action.RESTORED] - cancelled),
        str(counts[Action.UNCHANGED]),
        str(cancelled),
        str(moved),
    )
    out.print(table)
    if report.dry_run:
        out.print("Dry run: nothing was written.")
    elif report.written:
        out.print(f"{report.written} changes written.")
    else:
        out.print("Nothing changed.")


def render_sync(out: Console, report: SyncReport) -> None:
    if report.loaded is not None:
        written = report.loaded.written
        out.print(f"Loaded {len(report.loaded.files)} files: {written} changes written.")
    for imported in report.imported:
        counts: Counter[Action] = imported.count("meeting")
        out.print(
            f"Imported {imported.source}: {imported.found} meetings in the window, "
            f"{counts[Action.ADDED]} added, {imported.written} changes written",
            markup=False,
            soft_wrap=True,
        )
        for warning in imported.warnings:
            out.print(f"  warning: {warning}", markup=False, soft_wrap=True)
    if report.plan is not None and report.plan.planned:
        out.print(f"Reminders planned again: {report.plan.added} added.")


def register(app: typer.Typer, cli: CliParts) -> None:
    _register_import(app, cli)
    _register_sync(app, cli)


def _register_import(app: typer.Typer, cli: CliParts) -> None:
    @app.command(name="import-ics")
    def import_ics(
        source: Annotated[str, typer.Argument(help="An iCalendar file, or an http(s)/webcal URL.")],
        *,
        group: Annotated[
            str | None, typer.Option("--group", help="Attach the meetings to this group.")
        ] = None,
        kind: Annotated[
            MeetingKind | None,
            typer.Option("--kind", help="The kind of meeting (default: other, or as stored)."),
        ] = None,
        first: Annotated[
            str | None, typer.Option("--from", help="First day imported (default: 30 days ago).")
        ] = None,
        last: Annotated[
            str | None, typer.Option("--to", help="Last day imported (default: in 365 days).")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show what would change, and write nothing.")
        ] = False,
    ) -> None:
        """Import meetings from an iCalendar file or URL; recurring ones expanded over a window.

        Idempotent by UID and RECURRENCE-ID; a file with anything it cannot read is refused whole.
        """
        start, end = _day(first, "--from", cli.fail), _day(last, "--to", cli.fail)
        try:
            data = read_source(source)
        except SourceError as exc:
            cli.fail(str(exc))
        focal = cli.build()
        try:
            default = ImportWindow.around(focal.clock.now())
            window = ImportWindow(start or default.first, end or default.last)
            if window.first > window.last:
                cli.fail(f"--from {window.first} is after --to {window.last}")
            options = ImportOptions(
                window=window, load=focal.load_options(), group=group, kind=kind
            )
            with cli.out.status("Reading and importing…"):
                report = import_calendar(
                    data,
                    source=source,
                    uow=focal.uow(),
                    now=focal.clock.now(),
                    options=options,
                    actor=cli.actor(),
                    dry_run=dry_run,
                )
        except CalendarRefusedError as exc:
            cli.fail(f"{source}: {exc}; nothing was imported")
        except ImportRefusedError as exc:
            cli.fail(f"{exc}; nothing was imported")
        except SQLAlchemyError as exc:
            cli.fail(f"the database refused the import, nothing was written: {exc}")
        finally:
            focal.close()
        render_import(cli.out, report)


def _register_sync(app: typer.Typer, cli: CliParts) -> None:
    @app.command()
    def sync() -> None:
        """Run the sync-calendar flow once: re-read FOCAL_SOURCES, plan reminders again."""
        from flows.calendar import run_sync_calendar, sync_calendar  # noqa: PLC0415 - Prefect

        focal = cli.build()
        if not focal.settings.sources:
            focal.close()
            cli.fail("no sources configured: set FOCAL_SOURCES (files or URLs, comma-separated)")
        try:
            if os.environ.get("PREFECT_API_URL"):
                focal.close()
                result = sync_calendar()
                problems = result["problems"]
                cli.out.print(f"Synchronised: {result['imported']}", markup=False)
            else:
                report = run_sync_calendar(focal)
                problems = report.problems
                render_sync(cli.out, report)
        except SQLAlchemyError as exc:
            cli.fail(f"the database failed during the sync: {exc}")
        finally:
            focal.close()
        for problem in problems:
            cli.err.print(f"problem: {problem}", markup=False, soft_wrap=True)
        if problems:
            raise typer.Exit(2)
