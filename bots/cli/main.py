"""The ``focal`` command line."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bots.cli.render import render_agenda, render_load_report, render_status
from config.settings import Settings
from config.wiring import App, build_app
from config.yaml_source import YamlSourceError, parse_yaml
from core.source import LoadError, LoadErrors
from db.migrate import current_revision, head_revision, upgrade
from services.loading import load_configuration
from services.queries import UnknownDeadlineError, agenda, deadline_status

if TYPE_CHECKING:
    from collections.abc import Sequence

    from core.source import Node

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
        fail(f"--now {value!r} is not an ISO date or time such as 2026-08-17T09:00")
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
    """The submission matrix of one deadline: who owes it, who has submitted."""
    focal = _app()
    try:
        result = deadline_status(code, uow=focal.uow())
    except UnknownDeadlineError as exc:
        fail(str(exc))
    finally:
        focal.close()
    render_status(out, result, timezone=focal.settings.timezone, now=focal.clock.now())


@app.command()
def demo(
    now: Annotated[
        str, typer.Option(help="Run the tour as of this local time.")
    ] = "2026-08-17T09:00",
    database: Annotated[Path, typer.Option(help="The SQLite file the tour creates afresh.")] = Path(
        "var/demo.sqlite"
    ),
) -> None:
    """A self-contained tour on a fresh SQLite database with the sample calendar and roster."""
    from bots.cli.tour import run_tour  # noqa: PLC0415 - only the demo needs it

    run_tour(out, now=now, database=database, actor=_actor())


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


def main() -> None:
    app()
