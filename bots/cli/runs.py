"""``focal remind`` and ``focal digest``: one run of a flow, from the shell.

Without ``PREFECT_API_URL`` the flow's steps run in this process (no Prefect server to
record them); with it, through Prefect's engine. Either way the run is recorded in the
database (``focal status`` and ``/healthz`` show it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from bots.cli.context import echo_message, fail, open_app, out, parse_now
from bots.cli.render import render_delivery
from bots.slack.messages import render_plain
from config.wiring import App, local_worker
from services.digest import DigestOutcome, current_digest
from services.reminders import preview_due

if TYPE_CHECKING:
    from flows.reminders import Runtime


def runtime(focal: App) -> Runtime:
    """What a flow run needs, its messages echoed here when they go to the console."""
    from bots.slack.notifier import build_notifier  # noqa: PLC0415 - imports slack_sdk
    from flows.reminders import Runtime  # noqa: PLC0415 - imports Prefect

    notifier = build_notifier(
        focal.settings, focal.session_factory, focal.clock.now, echo=echo_message
    )
    return Runtime(app=focal, notifier=notifier, worker=local_worker())


def use_prefect() -> bool:
    """Run through Prefect's engine only when a Prefect server is configured to record it."""
    return bool(os.environ.get("PREFECT_API_URL"))


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

    focal = open_app()
    try:
        when = None if now is None else parse_now(now, focal.settings.timezone)
        if dry_run:
            messages = preview_due(
                uow=focal.uow(), policy=focal.policy(), now=when or focal.clock.now()
            )
            for message in messages:
                echo_message(render_plain(message))
            out.print(f"{len(messages)} messages would be sent; nothing was written.")
            return
        if use_prefect():
            focal.close()
            result = send_reminders(now=when)
            out.print(
                f"Sent {result['messages']} messages ({result['reminders']} reminders); "
                f"{result['planned']} reminders newly planned."
            )
            return
        planned, report = run_send_reminders(runtime(focal), when)
    except SQLAlchemyError as exc:
        fail(f"the database failed during the run; what was sent is recorded: {exc}")
    finally:
        focal.close()
    render_delivery(out, planned, report)
    if report.uncertain or report.failed:
        raise typer.Exit(2)


def digest(
    now: Annotated[
        str | None, typer.Option(help="As of this time (ISO; local time if no offset).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the digest; post nothing.")
    ] = False,
) -> None:
    """Send the coordinators' digest once (at most once per day)."""
    from flows.reminders import DIGEST_SUMMARY, run_send_digest  # noqa: PLC0415

    focal = open_app()
    try:
        when = focal.clock.now() if now is None else parse_now(now, focal.settings.timezone)
        if dry_run:
            shown = current_digest(
                uow=focal.uow(),
                now=when,
                timezone=focal.settings.timezone,
                window_days=focal.settings.digest_window_days,
            )
            echo_message(render_plain(shown))
            return
        result = run_send_digest(runtime(focal), when)
    finally:
        focal.close()
    if result.outcome in DIGEST_SUMMARY and result.outcome is not DigestOutcome.UNCERTAIN:
        said = DIGEST_SUMMARY[result.outcome]
        out.print(f"{said[0].upper()}{said[1:]}.")
        return
    fail(f"the digest was not posted ({result.outcome.value}): {result.error}", code=2)
