"""``focal export`` and ``focal review``: what the focal points submitted, consolidated and
reviewed by the coordinators."""

from __future__ import annotations

import sys
from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time
from typing import Annotated

import typer

from bots.cli.context import actor, echo_message, err, fail, open_app, out
from services.export import ExportFormat, consolidate_inputs, render_export
from services.queries import UnknownDeadlineError
from services.review import Review, ReviewOutcome, ReviewRefusedError, review_submission
from services.status import AccessRefusedError


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
    focal = open_app()
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

    focal = open_app()
    try:
        notifier = build_notifier(
            focal.settings, focal.session_factory, focal.clock.now, echo=echo_message
        )
        outcome = review_submission(
            Review(
                deadline=code,
                person=handle,
                accept=accept,
                actor=actor(),
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
