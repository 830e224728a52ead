"""``focal feed``: a calendar feed written to a file, byte for byte what the HTTP app serves."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from bots.cli.context import fail, open_app, out, parse_now
from core.model import Language
from services.feeds import FeedNotFoundError, feed_names, group_feed_bytes, person_feed_bytes

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from config.wiring import App


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(body)
    temporary.replace(path)


def _write_all(focal: App, output: Path, *, language: str, when: datetime, out: Console) -> None:
    zone = focal.settings.timezone
    handles, codes = feed_names(uow=focal.uow())
    with out.status("Writing feeds…") as status:
        for n, handle in enumerate(handles, 1):
            status.update(f"Writing feeds… {n}/{len(handles) + len(codes)}")
            body = person_feed_bytes(handle, uow=focal.uow(), now=when)
            _write(output / f"person-{handle}.ics", body)
        for code in codes:
            body = group_feed_bytes(
                code, language=language, office_timezone=zone, uow=focal.uow(), now=when
            )
            _write(output / f"group-{code}.ics", body)
    out.print(f"Wrote {len(handles)} person and {len(codes)} group feeds to {output}.")


def feed(
    *,
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="The file to write (with --all: a directory, one file a feed)."
        ),
    ],
    person: Annotated[str | None, typer.Option(help="A person's feed, by handle.")] = None,
    group: Annotated[str | None, typer.Option(help="A group's feed, by code.")] = None,
    all_feeds: Annotated[
        bool, typer.Option("--all", help="Every person's and every group's feed.")
    ] = False,
    language: Annotated[
        str, typer.Option(help="The language of group feeds: en or vi.")
    ] = Language.EN.value,
    now: Annotated[str | None, typer.Option(help="As of this time (default: now).")] = None,
) -> None:
    """Write a calendar feed (iCalendar) to a file: --person HANDLE, --group CODE or --all."""
    if sum((person is not None, group is not None, all_feeds)) != 1:
        fail("give one of --person HANDLE, --group CODE or --all")
    if language not in {lang.value for lang in Language}:
        fail(f"--language {language!r}: use en or vi")
    if all_feeds and output.exists() and not output.is_dir():
        fail(f"--all writes one file a feed: {output} must be a directory")
    if not all_feeds and output.is_dir():
        fail(f"{output} is a directory: give a file name such as feed.ics")
    focal = open_app()
    try:
        when = focal.clock.now() if now is None else parse_now(now, focal.settings.timezone)
        zone = focal.settings.timezone
        if person is not None:
            _write(output, person_feed_bytes(person, uow=focal.uow(), now=when))
            out.print(f"Wrote {person}'s feed to {output}.")
        elif group is not None:
            body = group_feed_bytes(
                group, language=language, office_timezone=zone, uow=focal.uow(), now=when
            )
            _write(output, body)
            out.print(f"Wrote group {group}'s feed to {output}.")
        else:
            _write_all(focal, output, language=language, when=when, out=out)
    except FeedNotFoundError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"cannot read the database: {type(exc).__name__}")
    except OSError as exc:
        fail(f"cannot write {exc.filename or output}: {exc.strerror}")
    finally:
        focal.close()
