"""The ``focal`` command line."""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bots.cli.feeds import feed as feed_command
from bots.cli.importing import CliParts, register
from bots.cli.render import render_agenda, render_delivery, render_load_report, render_status
from bots.slack.messages import render_plain
from config.settings import Settings
from config.wiring import App, build_app, local_worker
from config.yaml_source import YamlSourceError, parse_yaml
from core.source import LoadError, LoadErrors
from db.migrate import current_revision, head_revision, upgrade
from services.digest import DigestOutcome, current_digest
from services.export import ExportFormat, consolidate_inputs, render_export
from services.loading import load_configuration
from services.queries import UnknownDeadlineError, agenda
from services.reminders import preview_due
from services.review import Review, ReviewOutcome, ReviewRefusedError, review_submission
from services.status import AccessRefusedError, submission_status

if TYPE_CHECKING:
    from collections.abc import Sequence

    from core.source import Node
    from flows.reminders import Runtime

app = typer.Typer(
    name="focal",
    help="Keeps a focal-point office on top of its meeting calendar.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = "FOCAL_" + str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        fail(f"setting {name}: {problem['msg']}")


def _app(*, require_schema: bool = True) -> App:
    focal = build_app(_settings())
    if require_schema:
        try:
            revision = current_revision(focal.engine)
        except OperationalError as exc:
            fail(f"cannot reach the database ({_safe_url(focal)}): {exc.orig}")
        if revision is None:
            fail(f"the database ({_safe_url(focal)}) is not set up yet: run `focal init`")
        if revision != head_revision():
            fail(
                f"the database is at revision {revision}, this Focal needs {head_revision()}: "
                "run `focal init` to upgrade it"
            )
    return focal


def _safe_url(focal: App) -> str:
    return focal.engine.url.render_as_string(hide_password=True)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in some containers
        return "cli"


def parse_now(value: str, timezone: str) -> datetime:
    """``--now`` as an aware instant; a value without an offset is local time in ``timezone``."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--now {value!r} is not an ISO date or time such as 2026-09-03T09:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed


# ------------------------------------------------------------------ commands


@app.command()
def init() -> None:
    """Create the database, or upgrade it to this version's schema (Alembic migrations)."""
    focal = _app(require_schema=False)
    try:
        before = current_revision(focal.engine)
        upgrade(focal.engine)
    except SQLAlchemyError as exc:
        fail(f"cannot set up the database ({_safe_url(focal)}): {exc}")
    finally:
        focal.close()
    head = head_revision()
    if before == head:
        out.print(f"The database ({_safe_url(focal)}) is up to date (revision {head}).")
    else:
        out.print(
            f"The database ({_safe_url(focal)}) is now at revision {head} "
            f"(was {before or 'empty'})."
        )


def read_documents(files: Sequence[Path]) -> tuple[list[tuple[str, Node]], list[LoadError]]:
    """Read and parse each YAML file; every unreadable file is an error, not an exception."""
    documents: list[tuple[str, Node]] = []
    errors: list[LoadError] = []
    for path in files:
        name = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            errors.append(LoadError(name, 0, "file", "no such file"))
            continue
        except (IsADirectoryError, PermissionError) as exc:
            errors.append(LoadError(name, 0, "file", f"cannot be read ({exc.strerror})"))
            continue
        except UnicodeDecodeError as exc:
            errors.append(LoadError(name, 0, "file", f"is not UTF-8 text (byte {exc.start})"))
            continue
        try:
            documents.append((str(path.resolve()), parse_yaml(text, str(path.resolve()))))
        except YamlSourceError as exc:
            errors += exc.errors
    return documents, errors


def _relative_names(errors: Sequence[LoadError], files: Sequence[Path]) -> list[LoadError]:
    """Report errors under the names the user typed, not resolved paths."""
    names = {str(p.resolve()): str(p) for p in files}
    return [LoadError(names.get(e.file, e.file), e.line, e.field, e.reason) for e in errors]


def _report_errors(errors: Sequence[LoadError], files: Sequence[Path]) -> NoReturn:
    shown = sorted(set(_relative_names(errors, files)))
    for error in shown:
        err.print(str(error), soft_wrap=True, markup=False)
    fail(f"{len(shown)} problem{'s' if len(shown) != 1 else ''} found; nothing was written.")


@app.command()
def load(
    files: Annotated[
        list[Path], typer.Argument(help="Calendar and roster YAML files.", show_default=False)
    ],
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Remove meetings, deadlines, people and groups gone from these files."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, and write nothing.")
    ] = False,
) -> None:
    """Load calendar and roster files: all or nothing, idempotent."""
    documents, errors = read_documents(files)
    if errors:
        _report_errors(errors, files)
    focal = _app()
    try:
        with out.status("Checking and applying…"):
            report = load_configuration(
                documents,
                uow=focal.uow(),
                options=focal.load_options(),
                actor=_actor(),
                now=focal.clock.now(),
                prune=prune,
                dry_run=dry_run,
            )
    except LoadErrors as exc:
        _report_errors(exc.errors, files)
    except SQLAlchemyError as exc:
        fail(f"the database refused the load, nothing was written: {exc}")
    finally:
        focal.close()
    render_load_report(out, report, names={str(p.resolve()): str(p) for p in files})


@app.command()
def status(
    code: Annotated[str, typer.Argument(help="A deadline code, e.g. ASOEN37-WORKPLANS.")],
) -> None:
    """The submission matrix of one deadline: who submitted (version, time, late, review),
    who has not, who is excused and why."""
    focal = _app()
    try:
        result = submission_status(code, uow=focal.uow())
    except UnknownDeadlineError as exc:
        fail(str(exc))
    finally:
        focal.close()
    render_status(out, result, timezone=focal.settings.timezone, now=focal.clock.now())


@app.command()
def export(
    code: Annotated[str, typer.Argument(help="A deadline code, e.g. ASOEN37-WORKPLANS.")],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="md: one Markdown document; csv: one row per input."),
    ] = ExportFormat.MD,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """The consolidated inputs of one deadline: the latest accepted or received version of each."""
    focal = _app()
    try:
        document = consolidate_inputs(code, uow=focal.uow())
    except UnknownDeadlineError as exc:
        fail(str(exc))
    finally:
        focal.close()
    data = render_export(document, fmt=fmt, timezone=focal.settings.timezone).encode("utf-8")
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    out.print(
        f"Wrote {len(document.inputs)} inputs of {document.deadline.deadline.code} to {output}.",
        markup=False,
    )


def _report_review(outcome: ReviewOutcome) -> None:
    what = f"{outcome.deadline} v{outcome.version} of {outcome.person}"
    note = f" (note: {outcome.note})" if outcome.note else ""
    if not outcome.changed:
        out.print(
            f"{what} is already {outcome.status.value}{note}: nothing changed, no one told.",
            markup=False,
        )
        return
    out.print(f"{what}: {outcome.status.value}{note}.", markup=False)
    if outcome.told:
        out.print(f"Told {', '.join('@' + h for h in outcome.told)}.", markup=False)
    for handle, why in outcome.skipped:
        out.print(f"Not told @{handle}: {why}.", markup=False)
    if outcome.failed:
        for handle, error in outcome.failed:
            err.print(f"Could not tell @{handle}: {error}", markup=False, soft_wrap=True)
        fail("the review is recorded, but not everyone was told", code=2)


@app.command()
def review(
    code: Annotated[str, typer.Argument(help="A deadline code, e.g. ASOEN37-WORKPLANS.")],
    handle: Annotated[str, typer.Argument(help="Whose input: a person's handle.")],
    *,
    accept: Annotated[bool, typer.Option("--accept", help="Accept the version.")] = False,
    give_back: Annotated[
        bool, typer.Option("--return", help="Return the version for a new one.")
    ] = False,
    note: Annotated[str | None, typer.Option(help="A note for the submitter.")] = None,
    version: Annotated[
        int | None, typer.Option(help="Which version (default: the latest).", show_default=False)
    ] = None,
    reviewer: Annotated[
        str | None,
        typer.Option("--as", help="Record the review as this coordinator's (a handle)."),
    ] = None,
) -> None:
    """Accept or return a version of someone's input; the submitter is told."""
    if accept == give_back:
        fail("give one of --accept or --return")
    if version is not None and version < 1:
        fail(f"--version {version}: versions are numbered from 1")
    from bots.slack.notifier import build_notifier  # noqa: PLC0415 - imports slack_sdk

    focal = _app()
    try:
        notifier = build_notifier(
            focal.settings, focal.session_factory, focal.clock.now, echo=_echo_message
        )
        outcome = review_submission(
            Review(
                deadline=code,
                person=handle,
                accept=accept,
                actor=_actor(),
                note=note,
                version=version,
                reviewer=reviewer,
            ),
            uow=focal.uow(),
            notifier=notifier,
            now=focal.clock.now(),
        )
    except (UnknownDeadlineError, ReviewRefusedError, AccessRefusedError) as exc:
        fail(str(exc))
    finally:
        focal.close()
    _report_review(outcome)


@app.command()
def demo(
    now: Annotated[
        str, typer.Option(help="Run the tour as of this local time.")
    ] = "2026-09-03T09:00",
    database: Annotated[Path, typer.Option(help="The SQLite file the tour creates afresh.")] = Path(
        "var/demo.sqlite"
    ),
) -> None:
    """A self-contained tour on a fresh SQLite database with the sample calendar and roster."""
    from bots.cli.tour import run_tour  # noqa: PLC0415 - only the demo needs it

    run_tour(out, now=now, database=database, actor=_actor())


def _echo_message(text: str) -> None:
    out.print(Panel(text, expand=False), markup=False)


def _runtime(focal: App) -> Runtime:
    from bots.slack.notifier import build_notifier  # noqa: PLC0415 - imports slack_sdk
    from flows.reminders import Runtime  # noqa: PLC0415 - imports Prefect

    notifier = build_notifier(
        focal.settings, focal.session_factory, focal.clock.now, echo=_echo_message
    )
    return Runtime(app=focal, notifier=notifier, worker=local_worker())


def _use_prefect() -> bool:
    """Run through Prefect's engine only when a Prefect server is configured to record it."""
    return bool(os.environ.get("PREFECT_API_URL"))


@app.command()
def remind(
    now: Annotated[
        str | None, typer.Option(help="Run as of this time (ISO; local time if no offset).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and show what would be sent; send nothing.")
    ] = False,
) -> None:
    """Run the send-reminders flow once: plan what changed, deliver what is due."""
    from flows.reminders import run_send_reminders, send_reminders  # noqa: PLC0415

    focal = _app()
    when = None if now is None else parse_now(now, focal.settings.timezone)
    try:
        if dry_run:
            messages = preview_due(
                uow=focal.uow(), policy=focal.policy(), now=when or focal.clock.now()
            )
            for message in messages:
                _echo_message(render_plain(message))
            out.print(f"{len(messages)} messages would be sent; nothing was written.")
            return
        if _use_prefect():
            focal.close()
            result = send_reminders(now=when)
            out.print(
                f"Sent {result['messages']} messages ({result['reminders']} reminders); "
                f"{result['planned']} reminders newly planned."
            )
            return
        planned, report = run_send_reminders(_runtime(focal), when)
    except SQLAlchemyError as exc:
        fail(f"the database failed during the run; what was sent is recorded: {exc}")
    finally:
        focal.close()
    render_delivery(out, planned, report)
    if report.uncertain or report.failed:
        raise typer.Exit(2)


@app.command()
def digest(
    now: Annotated[
        str | None, typer.Option(help="As of this time (ISO; local time if no offset).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the digest; post nothing.")
    ] = False,
) -> None:
    """Send the coordinators' digest once (at most once per day)."""
    from flows.reminders import run_send_digest  # noqa: PLC0415

    focal = _app()
    when = focal.clock.now() if now is None else parse_now(now, focal.settings.timezone)
    try:
        if dry_run:
            shown = current_digest(
                uow=focal.uow(),
                now=when,
                timezone=focal.settings.timezone,
                window_days=focal.settings.digest_window_days,
            )
            _echo_message(render_plain(shown))
            return
        result = run_send_digest(_runtime(focal), when)
    finally:
        focal.close()
    messages = {
        DigestOutcome.SENT: "The digest was posted.",
        DigestOutcome.FOUND: "The digest had been posted by an earlier run; now recorded.",
        DigestOutcome.EMPTY: "Nothing needs action today: no digest posted.",
        DigestOutcome.ALREADY_SENT: "Today's digest was already posted.",
        DigestOutcome.BUSY: "Another run is posting today's digest.",
    }
    if result.outcome in messages:
        out.print(messages[result.outcome])
        return
    fail(f"the digest was not posted ({result.outcome.value}): {result.error}", code=2)


@app.command(name="agenda")
def agenda_command(
    now: Annotated[str | None, typer.Option(help="As of this time (default: now).")] = None,
) -> None:
    """Coming meetings and deadlines, due times in the coordinator's timezone."""
    focal = _app()
    try:
        when = focal.clock.now() if now is None else parse_now(now, focal.settings.timezone)
        render_agenda(
            out, agenda(uow=focal.uow(), now=when), timezone=focal.settings.timezone, now=when
        )
    finally:
        focal.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode", help="Take Slack's requests over Socket Mode (needs SLACK_APP_TOKEN)."
        ),
    ] = False,
    flows: Annotated[
        bool,
        typer.Option(
            help="Also run the flows on their schedules (--no-flows: the flows run on "
            "Prefect workers elsewhere)."
        ),
    ] = True,
) -> None:
    """Serve the /focal Slack app, the calendar feeds, /healthz and the scheduled flows.

    Without PREFECT_API_URL a local Prefect server is started under var/prefect and stopped
    on exit. Stop with Ctrl-C or SIGTERM: flow runs under way finish first.
    """
    from bots.cli.processes import (  # noqa: PLC0415
        ProcessStartError,
        flows_served,
        sigterm_interrupts,
    )
    from bots.cli.serve import serve_http, serve_socket_mode  # noqa: PLC0415 - imports Bolt

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    focal = _app()
    try:
        if socket_mode and focal.settings.slack_app_token is None:
            fail("--socket-mode needs SLACK_APP_TOKEN (an xapp- token)")
        with (
            sigterm_interrupts(),
            flows_served(Path("var") / "prefect") if flows else contextlib.nullcontext(),
        ):
            if socket_mode:
                serve_socket_mode(focal)
            else:
                serve_http(focal, host=host, port=port)
    except (ValueError, ProcessStartError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
    finally:
        focal.close()


register(app, CliParts(build=_app, fail=fail, actor=_actor, out=out, err=err))
app.command(name="feed")(feed_command)


def main() -> None:
    app()
