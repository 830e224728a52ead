"""``focal status`` and ``focal agenda``: where the office stands.

``focal status CODE`` is one deadline's submission matrix; ``focal status`` alone, the next
deadlines with their counts and when each flow last ran.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bots.cli.context import fail, open_app, out, parse_now
from bots.cli.render import render_agenda, render_overview, render_status
from flows.schedules import flow_schedules
from services.overview import office_overview
from services.queries import UnknownDeadlineError, agenda
from services.status import submission_status


def status(
    code: Annotated[
        str | None,
        typer.Argument(
            help="A deadline code, e.g. ASOEN37-WORKPLANS; without one, the office's overview.",
            show_default=False,
        ),
    ] = None,
    next_deadlines: Annotated[
        int, typer.Option("--next", min=1, help="Without a code: how many deadlines to show.")
    ] = 10,
    now: Annotated[
        str | None, typer.Option(help="As of this time (ISO; local time if no offset).")
    ] = None,
) -> None:
    """The submission matrix of one deadline: who submitted (version, time, late, review),
    who has not, who is excused and why. Without a code: the next deadlines with their counts,
    and each flow's last run and last success."""
    focal = open_app()
    timezone = focal.settings.timezone
    try:
        when = focal.clock.now() if now is None else parse_now(now, timezone)
        if code is None:
            flows = [schedule.flow for schedule in flow_schedules(timezone)]
            overview = office_overview(uow=focal.uow(), now=when, flows=flows, limit=next_deadlines)
            render_overview(out, overview, timezone=timezone, now=when)
            return
        result = submission_status(code, uow=focal.uow())
    except UnknownDeadlineError as exc:
        fail(str(exc))
    finally:
        focal.close()
    render_status(out, result, timezone=timezone, now=when)


def agenda_command(
    now: Annotated[str | None, typer.Option(help="As of this time (default: now).")] = None,
) -> None:
    """Coming meetings and deadlines, due times in the coordinator's timezone."""
    focal = open_app()
    try:
        when = focal.clock.now() if now is None else parse_now(now, focal.settings.timezone)
        render_agenda(
            out, agenda(uow=focal.uow(), now=when), timezone=focal.settings.timezone, now=when
        )
    finally:
        focal.close()
