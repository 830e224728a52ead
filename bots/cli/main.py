"""The ``focal`` command line: the commands, each in the module of its responsibility.

``context`` (consoles, settings, the application), ``loading`` (init, load), ``status``
(status, agenda), ``inputs`` (export, review), ``runs`` (remind, digest), ``importing``
(import-ics, sync), ``feeds`` (feed), ``tour`` (demo), ``serve`` and ``processes`` (serve).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Annotated

import typer

from bots.cli.context import actor, err, fail, open_app, out
from bots.cli.feeds import feed as feed_command
from bots.cli.importing import CliParts, register
from bots.cli.inputs import export, review
from bots.cli.loading import init, load
from bots.cli.runs import digest, remind
from bots.cli.status import agenda_command, status
from config.yaml_source import read_documents

__all__ = ["app", "main", "read_documents"]

app = typer.Typer(
    name="focal",
    help="Keeps a focal-point office on top of its meeting calendar.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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

    run_tour(out, now=now, database=database, actor=actor())


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
    focal = open_app()
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


for command in (init, load, status, export, review, demo, remind, digest):
    app.command()(command)
app.command(name="agenda")(agenda_command)
app.command()(serve)
register(app, CliParts(build=open_app, fail=fail, actor=actor, out=out, err=err))
app.command(name="feed")(feed_command)


def main() -> None:
    app()
