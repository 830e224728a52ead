"""Importing a large calendar export: parse, expand and store times, first import and re-import.

Run from the repository root (see bench/README.md)::

    .venv/bin/python -m bench.ics_import --quick
    .venv/bin/python -m bench.ics_import --database sqlite \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/test

Target (the issue): importing the 1.6 MB Google export of the shared corpus
(``niccokunzmann__python-recurring-ical-events__issue42.ics``) takes at most 5 s.

How it measures, per database and per window:

* parse: ``icalendar`` reading the bytes (``Calendar.from_ical``), alone;
* read: ``core.ics_import.read_calendar`` (the line checks, parsing, ``X-WR-TIMEZONE``, the
  expansion by ``recurring-ical-events`` and the conversion to events); expand is read - parse;
* first import: ``services.importing.import_calendar`` into an empty, migrated database
  (reads again, then stores every meeting and its audit entry in one transaction);
  store is first import - read;
* re-import: the same call again (it must write nothing).

Windows: the default one (30 days back, 365 ahead of the bench day, 2026-11-23) and the file's
own years (2019-2021, where most of its events are).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import icalendar
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.ics_import import ImportWindow, read_calendar
from core.workdays import WorkingCalendar
from db.engine import build_engine, build_session_factory
from db.migrate import upgrade
from db.uow import SqlAlchemyUnitOfWork
from services.importing import ImportOptions, import_calendar
from services.loading import LoadOptions

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "reference" / "ics-corpus"
DEFAULT_FILE = CORPUS / "niccokunzmann__python-recurring-ical-events__issue42.ics"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HANOI = "Asia/Ho_Chi_Minh"
WINDOWS = {
    "default": ImportWindow.around(NOW),
    "2019-2021": ImportWindow(date(2019, 1, 1), date(2021, 12, 31)),
}
TARGET_SECONDS = 5.0

out = Console(highlight=False, width=140)


def _fresh_database(url: str, workdir: Path, index: int) -> tuple[str, str | None]:
    """An empty migrated database: a new SQLite file, or a new PostgreSQL database."""
    if url == "sqlite":
        return f"sqlite:///{workdir / f'bench-{index}.sqlite'}", None
    name = f"focal_bench_ics_{int(time.time())}_{index}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def _drop(url: str, name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _timed(function, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN002, ANN003, ANN202
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def measure(
    data: bytes, url: str, window: ImportWindow, workdir: Path, index: int
) -> dict[str, float]:
    parse, _ = _timed(icalendar.Calendar.from_ical, data, multiple=True)
    read, contents = _timed(read_calendar, data, window=window, default_timezone=HANOI)
    database_url, created = _fresh_database(url, workdir, index)
    engine = build_engine(database_url)
    try:
        upgrade(engine)
        factory = build_session_factory(engine)
        options = ImportOptions(
            window=window,
            load=LoadOptions(default_timezone=HANOI, country="VN", workdays=WorkingCalendar("VN")),
        )

        def run() -> int:
            report = import_calendar(
                data,
                source="bench.ics",
                uow=SqlAlchemyUnitOfWork(factory),
                now=NOW,
                options=options,
            )
            return report.written

        first, written = _timed(run)
        again, rewritten = _timed(run)
    finally:
        engine.dispose()
        _drop(url, created)
    if rewritten:
        sys.exit(f"the re-import wrote {rewritten} changes: it must write none")
    return {
        "meetings": float(len(contents.events)),
        "written": float(written),
        "parse": parse,
        "expand": read - parse,
        "store": max(0.0, first - read),  # by difference: noise can hide it
        "first": first,
        "again": again,
    }


def main(
    database: Annotated[
        list[str] | None,
        typer.Option(help="sqlite, or a PostgreSQL URL (a database is created and dropped)."),
    ] = None,
    file: Annotated[Path, typer.Option(help="The calendar to import.")] = DEFAULT_FILE,
    runs: Annotated[int, typer.Option(help="Runs per measurement (the median is shown).")] = 3,
    quick: Annotated[
        bool, typer.Option("--quick", help="One run, SQLite, default window.")
    ] = False,
) -> None:
    if not file.is_file():
        sys.exit(f"{file}: no such file (the shared ics corpus is needed)")
    data = file.read_bytes()
    databases = ["sqlite"] if quick else (database or ["sqlite"])
    windows = {"default": WINDOWS["default"]} if quick else WINDOWS
    runs = 1 if quick else runs
    out.print(f"{file.name}: {len(data) / 1e6:.2f} MB, Python {sys.version.split()[0]}")
    table = Table(title=f"import-ics timings (median of {runs}), seconds")
    for column in (
        "database",
        "window",
        "meetings",
        "parse",
        "expand",
        "store",
        "first import",
        "re-import",
    ):
        table.add_column(column, justify="right")
    worst = 0.0
    index = 0
    with tempfile.TemporaryDirectory() as tmp:
        for url in databases:
            for window in windows.values():
                samples = []
                for _ in range(runs):
                    index += 1
                    samples.append(measure(data, url, window, Path(tmp), index))
                median = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
                worst = max(worst, median["first"], median["again"])
                shown = "sqlite" if url == "sqlite" else make_url(url).get_backend_name()
                table.add_row(
                    shown,
                    f"{window.first}…{window.last}",
                    f"{median['meetings']:.0f}",
                    *(f"{median[k]:.2f}" for k in ("parse", "expand", "store", "first", "again")),
                )
    out.print(table)
    verdict = "within" if worst <= TARGET_SECONDS else "OVER"
    out.print(f"slowest import {worst:.2f} s: {verdict} the {TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    typer.run(main)
