"""What running Focal for real costs: the tour, ``/healthz``, and recording each flow run.

1. ``focal demo`` through the installed script in a fresh directory (what ``make demo`` runs
   from a warm virtual environment), against the issue's target of a minute.
2. ``GET /healthz`` with no flow run stored, a day of them, then 30 days (every minute's
   ``send-reminders``, hourly ``sync-calendar``, a daily digest: about 44,000 rows), over one
   keep-alive connection to the app in a process of its own (as ``bench.feed_serving`` runs
   it): it is polled, so it must not grow with the table (the ratio to a day's).
3. An idle ``send-reminders`` run (nothing due: what runs every minute) with its run recorded
   against the same steps without the record (the ratio).

    .venv/bin/python -m bench.ops                  # SQLite, plus PostgreSQL when
                                                   # FOCAL_TEST_DATABASE_URL is set
    .venv/bin/python -m bench.ops --database sqlite --skip-demo
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from unittest import mock

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from bench.feed_serving import Server
from bench.reminders import _databases, fresh_database
from config.settings import Settings
from config.wiring import build_app
from config.yaml_source import read_documents
from db.migrate import upgrade
from db.models import FlowRunRow
from services.loading import load_configuration

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from config.wiring import App

out = Console(highlight=False, width=160)
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [ROOT / "config/calendar/asean-environment-2026.yaml", ROOT / "config/roster.example.yaml"]
NOW = datetime(2026, 9, 3, 3, 0, tzinfo=UTC)
DEMO_TARGET_S = 60.0
KEPT_DAYS = 30


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs"


# -------------------------------------------------------------------- demo


def bench_demo(runs: int) -> list[float]:
    """Seconds per ``focal demo``, each in a fresh directory."""
    script = Path(sys.executable).with_name("focal")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOCAL_", "SLACK_"))}
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="focal-demo-") as folder:
            started = time.perf_counter()
            subprocess.run(  # noqa: S603 - our own script
                [str(script), "demo"], cwd=folder, env=env, check=True, capture_output=True
            )
            times.append(time.perf_counter() - started)
    return times


# ------------------------------------------------------------------ health


def _runs(days: int, *, before: int = 0) -> list[dict[str, Any]]:
    """``days`` days of runs ending ``before`` days before ``NOW``: every minute's
    ``send-reminders``, hourly ``sync-calendar``, a daily digest; one in 97 failed (the latest
    of each flow among them, so that its last success is a second read)."""
    rows = []
    for flow, every, per_day in (
        ("send-reminders", timedelta(minutes=1), 1440),
        ("sync-calendar", timedelta(hours=1), 24),
        ("send-digest", timedelta(days=1), 1),
    ):
        for n in range(before * per_day, (before + days) * per_day):
            at = NOW - every * n
            rows.append(
                {
                    "flow": flow,
                    "started_at": at,
                    "finished_at": at + timedelta(seconds=1),
                    "outcome": "failed" if n % 97 == 0 else "succeeded",
                    "summary": "0 newly planned, 0 messages sent (0 reminders)",
                    "runner": "bench|1|x",
                }
            )
    return rows


def _timed_gets(port: int, path: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    try:
        for _ in range(count + 20):
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            times.append((time.perf_counter() - started) * 1000)
            if response.status != 200:  # noqa: PLR2004
                raise RuntimeError(f"/healthz answered {response.status}")
    finally:
        connection.close()
    return times[20:]  # the first ones warm the pool and the caches


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _settle(focal: App) -> None:
    """What the database would have done since the runs were written: PostgreSQL's autovacuum
    (statistics), SQLite's automatic checkpoints (the WAL folded into the file)."""
    raw = focal.engine.raw_connection()  # outside a transaction (SQLite: autocommit)
    try:
        cursor = raw.cursor()
        if focal.engine.dialect.name == "postgresql":
            cursor.execute("ANALYZE flow_runs")
            raw.commit()
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def bench_health(focal: App, requests: int) -> dict[str, list[float]]:
    """``/healthz`` with no run stored, a day of runs, then 30 days (the same latest runs)."""
    timings = {}
    url = focal.engine.url.render_as_string(hide_password=False)
    for label, rows in (
        ("no runs", []),
        ("a day of runs", _runs(1)),
        (f"{KEPT_DAYS} days of runs", _runs(KEPT_DAYS - 1, before=1)),
    ):
        with focal.engine.begin() as connection:
            for start in range(0, len(rows), 5_000):
                connection.execute(insert(FlowRunRow), rows[start : start + 5_000])
        _settle(focal)
        with Server(url) as server:
            timings[label] = _timed_gets(server.port, "/healthz", requests)
    return timings


# --------------------------------------------------------------- recording


def _idle_runs(focal: App, runs: int, *, record: bool) -> list[float]:
    from bots.slack.notifier import OutboxNotifier  # noqa: PLC0415
    from config.wiring import local_worker  # noqa: PLC0415
    from flows import reminders  # noqa: PLC0415 - imports Prefect

    runtime = reminders.Runtime(
        focal,
        OutboxNotifier(focal.session_factory, clock=focal.clock.now, echo=None),
        local_worker(),
    )
    patch: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if not record:
        patch = mock.patch.object(reminders, "recorded", _not_recorded)
    times = []
    with patch:
        for n in range(runs + 3):
            at = NOW + timedelta(hours=1, minutes=n)  # past the day's reminders: nothing due
            started = time.perf_counter()
            reminders.run_send_reminders(runtime, at)
            times.append((time.perf_counter() - started) * 1000)
    return times[3:]


@contextlib.contextmanager
def _not_recorded(*_args: Any, **_kwargs: Any) -> Iterator[Any]:  # noqa: ANN401
    yield mock.Mock()


def bench_recording(focal: App, runs: int) -> dict[str, list[float]]:
    documents, errors = read_documents(SAMPLE)
    if errors:
        raise RuntimeError(errors)
    load_configuration(
        documents,
        uow=focal.uow(),
        options=focal.load_options(),
        actor="bench",
        now=NOW - timedelta(days=60),
    )
    _idle_runs(focal, 1, record=True)  # the day's reminders sent: later runs are idle
    return {
        "without the record": _idle_runs(focal, runs, record=False),
        "recorded": _idle_runs(focal, runs, record=True),
    }


# -------------------------------------------------------------------- main


def _table(title: str, rows: Sequence[tuple[str, ...]], columns: tuple[str, ...]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column != columns[0] else "left")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _with_database(spec: str) -> Callable[[], contextlib.AbstractContextManager[App]]:
    @contextlib.contextmanager
    def opened() -> Iterator[App]:
        with fresh_database(spec) as url:
            focal = build_app(Settings(_env_file=None, database_url=url))
            try:
                upgrade(focal.engine)
                yield focal
            finally:
                focal.close()

    return opened


def main(
    database: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' or a PostgreSQL URL (a database is created there and dropped). "
            "Repeatable. Default: SQLite, and $FOCAL_TEST_DATABASE_URL when set.",
            show_default=False,
        ),
    ] = None,
    demo_runs: Annotated[int, typer.Option(help="focal demo runs.")] = 3,
    skip_demo: Annotated[bool, typer.Option("--skip-demo", help="No focal demo runs.")] = False,
    requests: Annotated[int, typer.Option(help="/healthz requests per measurement.")] = 300,
    idle_runs: Annotated[int, typer.Option(help="Idle send-reminders runs each way.")] = 30,
) -> None:
    """Print the figures: focal demo, /healthz, recording a flow run."""
    out.print(f"[bold]bench.ops[/] ({_load()})")
    if not skip_demo:
        times = bench_demo(demo_runs)
        median = statistics.median(times)
        _table(
            "focal demo, installed script, fresh directory (target: under 60 s)",
            [(", ".join(f"{t:.1f}" for t in times), f"{median:.1f}", f"{median / 60:.2f}")],
            ("runs (s)", "median (s)", "median / target"),
        )
    health_rows, idle_rows = [], []
    for spec in _databases(database):
        name = "SQLite" if spec == "sqlite" else "PostgreSQL"
        with _with_database(spec)() as focal:
            health = bench_health(focal, requests)
        day = statistics.median(health["a day of runs"])
        for label, values in health.items():
            p50 = statistics.median(values)
            health_rows.append(
                (
                    name,
                    label,
                    f"{p50:.2f}",
                    f"{_percentile(values, 0.99):.2f}",
                    f"{p50 / day:.2f}",
                )
            )
        with _with_database(spec)() as focal:
            idle = bench_recording(focal, idle_runs)
        base = statistics.median(idle["without the record"])
        for label, values in idle.items():
            p50 = statistics.median(values)
            idle_rows.append((name, label, f"{p50:.2f}", f"{p50 / base:.2f}"))
    _table(
        f"GET /healthz over one keep-alive connection, {requests} requests (ms)",
        health_rows,
        ("database", "flow runs stored", "p50", "p99", "p50 / a day's"),
    )
    _table(
        f"an idle send-reminders run, in-process, {idle_runs} runs (ms)",
        idle_rows,
        ("database", "run", "median", "ratio"),
    )
    out.print(f"({_load()})")


if __name__ == "__main__":
    if shutil.which("focal") is None and not Path(sys.executable).with_name("focal").exists():
        sys.exit("the focal script is not installed: make demo or make test first")
    typer.run(main)
