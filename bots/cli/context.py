"""What every ``focal`` command shares: the consoles, failing with one clear line, the
settings and the application (its database checked), who is acting, ``--now``."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from sqlalchemy.exc import OperationalError

from config.settings import Settings
from config.wiring import App, build_app
from db.migrate import current_revision, head_revision

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on standard error, then exit ``code`` (1: bad input; 2: done in part)."""
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """The settings, or one line naming the bad one."""
    try:
        return Settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = "FOCAL_" + str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        fail(f"setting {name}: {problem['msg']}")


def open_app(*, require_schema: bool = True) -> App:
    """The application; unless told otherwise, only on a database at this version's schema."""
    focal = build_app(settings())
    if require_schema:
        try:
            revision = current_revision(focal.engine)
        except OperationalError as exc:
            fail(f"cannot reach the database ({safe_url(focal)}): {exc.orig}")
        if revision is None:
            fail(f"the database ({safe_url(focal)}) is not set up yet: run `focal init`")
        if revision != head_revision():
            fail(
                f"the database is at revision {revision}, this Focal needs {head_revision()}: "
                "run `focal init` to upgrade it"
            )
    return focal


def safe_url(focal: App) -> str:
    """The database URL without its password."""
    return focal.engine.url.render_as_string(hide_password=True)


def actor() -> str:
    """Who changes things from this shell, for the audit log."""
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


def echo_message(text: str) -> None:
    """A message that went to the console instead of Slack, framed."""
    out.print(Panel(text, expand=False), markup=False)
