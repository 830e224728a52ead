"""``focal init`` and ``focal load``: the database, and the calendar and roster files into it."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from bots.cli.context import actor, err, fail, open_app, out, safe_url
from bots.cli.render import render_load_report
from config.yaml_source import read_documents
from core.source import LoadError, LoadErrors
from db.migrate import current_revision, head_revision, upgrade
from services.loading import load_configuration

if TYPE_CHECKING:
    from collections.abc import Sequence


def init() -> None:
    """Create the database, or upgrade it to this version's schema (Alembic migrations)."""
    focal = open_app(require_schema=False)
    try:
        before = current_revision(focal.engine)
        upgrade(focal.engine)
    except SQLAlchemyError as exc:
        fail(f"cannot set up the database ({safe_url(focal)}): {exc}")
    finally:
        focal.close()
    head = head_revision()
    if before == head:
        out.print(f"The database ({safe_url(focal)}) is up to date (revision {head}).")
    else:
        out.print(
            f"The database ({safe_url(focal)}) is now at revision {head} (was {before or 'empty'})."
        )


def _relative_names(errors: Sequence[LoadError], files: Sequence[Path]) -> list[LoadError]:
    """Report errors under the names the user typed, not resolved paths."""
    names = {str(p.resolve()): str(p) for p in files}
    return [LoadError(names.get(e.file, e.file), e.line, e.field, e.reason) for e in errors]


def _report_errors(errors: Sequence[LoadError], files: Sequence[Path]) -> NoReturn:
    shown = sorted(set(_relative_names(errors, files)))
    for error in shown:
        err.print(str(error), soft_wrap=True, markup=False)
    fail(f"{len(shown)} problem{'s' if len(shown) != 1 else ''} found; nothing was written.")


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
    focal = open_app()
    try:
        with out.status("Checking and applying…"):
            report = load_configuration(
                documents,
                uow=focal.uow(),
                options=focal.load_options(),
                actor=actor(),
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
