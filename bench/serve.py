"""One ``focal serve`` under a month of an office's activity, compressed into ten minutes.

Run from the repository root (see bench/README.md)::

    .venv/bin/python -m bench.serve                 # 10 minutes (and the start before it)
    .venv/bin/python -m bench.serve --quick         # 3 minutes
    .venv/bin/python -m bench.serve --minutes 5 --database postgresql+psycopg://...

What runs: ``focal serve`` as an operator starts it (the HTTP app under uvicorn, its own local
Prefect server, the flows on their schedules: ``send-reminders`` every minute), on a store
holding 1,000 focal points (bench/serve_world.py). Their month of reminders, planned by
Focal's planner, is compressed so each minute of the bench carries three days of it; 20
people type ``/focal`` commands (signed as Slack signs them), and 1,000 calendar clients poll
their feeds with ``If-None-Match``. Slack is the local stand-in, in a process of its own.

The issue's goals: reminder lateness (arrival in Slack after the planned minute) p99 <= 60 s;
the memory of focal serve's processes grows no more than 10% from the start to the end.
Also printed: acknowledgement times of the commands (Slack's limit 3 s; the slash bench's
goal p99 <= 150 ms) and feed answer times (the feed bench's goal, on an idle machine, 5 ms).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import func, select

from bench.reminders import (
    HOME_COUNTRY,
    HOME_ZONE,
    TOKEN,
    _ok,
    _say,
    _table,
    console,
    fresh_database,
    print_machine,
    source_state,
)
from bench.serve_load import FocalServe, Load, Memory, environment, loadavg, serve_standin
from bench.serve_world import (
    build_office,
    issue_tokens,
    load_office,
    month_start,
    move_to,
    plan_month,
    planned_times,
)
from bench.slash_world import SECRET, Child, owed
from bots.cli.processes import free_port
from db.engine import build_engine
from db.migrate import upgrade
from db.models import ReminderRow, SubmissionRow

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bench.serve_load import Request
    from bench.serve_world import Compressed

LATENESS_P99_S, GROWTH, ACK_P99_MS, SLACK_LIMIT_S, FEED_P99_MS = 60.0, 0.10, 150.0, 3.0, 5.0
#: After the last planned minute, how long the bench waits for its reminders to arrive.
SETTLE_S = 180
#: The memory "at the start": a minute into the load, every path warm.
WARM_S = 60.0


@dataclass(frozen=True)
class Options:
    minutes: int
    people: int
    clients: int
    think: float  # seconds between one person's commands, mean
    subscribers: int
    poll_every: float  # seconds between two polls of one feed
    poll_threads: int
    keep: bool


@dataclass
class Result:
    backend: str
    started_in: float  # seconds until focal serve served its flows
    compressed: Compressed
    lateness: list[float]  # seconds, one per reminder delivered
    unsent: int  # planned within the bench's minutes, not in Slack at the end
    twice: int  # reminders in more than one message
    messages: int
    requests: list[Request]
    late_polls: int
    memory: Memory
    submissions: int
    standin: dict[str, Any]
    load: tuple[str, str]  # load average at the start and the end
    exit_status: int | None


def run_backend(spec: str, options: Options) -> Result:
    with fresh_database(spec) as url:
        engine = build_engine(url)
        work = Path(tempfile.mkdtemp(prefix="focal-bench-serve-"))
        try:
            return _run(engine, url, work, options)
        finally:
            engine.dispose()
            if options.keep:
                console.print(f"kept: {work} (focal-serve.log, var/prefect)")
            else:
                shutil.rmtree(work, ignore_errors=True)


def _run(engine: Any, url: str, work: Path, options: Options) -> Result:  # noqa: ANN401
    backend = engine.dialect.name
    now = datetime.now(UTC)
    start = month_start(now)
    _say(f"{backend}: migrating, loading {options.people:,} people")
    upgrade(engine)
    w = build_office(options.people, start)
    load_office(engine, w)
    tokens = issue_tokens(engine, w, now=now)
    _say(f"{backend}: planning the month from {start:%Y-%m-%d}, compressing it")
    compressed = plan_month(engine, start, minutes=options.minutes, at=now + timedelta(days=1))
    with Child(serve_standin, w.slack_users()) as slack:
        serve = FocalServe(
            work,
            environment(
                FOCAL_DATABASE_URL=url,
                FOCAL_TIMEZONE=HOME_ZONE,
                FOCAL_COUNTRY=HOME_COUNTRY,
                FOCAL_SLACK_API_URL=slack.greeting,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
            ),
            free_port(),
        )
        _say(f"{backend}: starting focal serve (its own Prefect server)")
        try:
            started_in = serve.start()
            # the first planned minute: the next whole minute at least 20 s away
            first = datetime.now(UTC) + timedelta(seconds=20 + 60)
            first = first.replace(second=0, microsecond=0)
            compressed = move_to(engine, compressed, first, now=datetime.now(UTC))
            load, memory = Load(serve.base_url), Memory(serve)
            before = loadavg()
            people = [
                (w.user_ids[p.handle], owed(w, p.handle)) for p in w.people[: options.clients]
            ]
            load.start_people(
                people, SECRET, lambda u, n: slack.ask("urls", [u] * n), options.think
            )
            load.start_feeds(
                list(tokens.values())[: options.subscribers],
                options.poll_every,
                options.poll_threads,
            )
            memory.start()
            end = first + timedelta(minutes=options.minutes)
            _say(
                f"{backend}: load on; reminders planned {first:%H:%M} to "
                f"{end - timedelta(minutes=1):%H:%M} UTC ({compressed.planned:,})"
            )
            _sleep_until(end)
            load.finish()
            memory.finish()
            after = loadavg()
            _say(f"{backend}: load off; waiting for the last reminders")
            _settle(engine, end)
            posts = slack.ask("posts")
            standin = slack.ask("summary")
        finally:
            _say(f"{backend}: stopping focal serve")
            status = serve.stop()
    planned = planned_times(engine)
    lateness, twice, seen = _lateness(posts, planned)
    window = [k for k, (at, _) in planned.items() if first <= at < end]
    with engine.connect() as c:
        submissions = int(c.scalar(select(func.count()).select_from(SubmissionRow)) or 0)
    return Result(
        backend=backend,
        started_in=started_in,
        compressed=compressed,
        lateness=lateness,
        unsent=sum(planned[k][1] in {"planned", "sending"} for k in window),
        twice=twice,
        messages=len(posts),
        requests=load.requests,
        late_polls=load.late_polls,
        memory=memory,
        submissions=submissions,
        standin=standin | {"keys": seen},
        load=(before, after),
        exit_status=status,
    )


def _sleep_until(at: datetime) -> None:
    while (left := (at - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(min(left, 5))


def _settle(engine: Any, end: datetime) -> None:  # noqa: ANN401
    """Until every reminder planned before ``end`` is settled, or SETTLE_S."""
    query = (
        select(func.count())
        .select_from(ReminderRow)
        .where(ReminderRow.planned_at < end, ReminderRow.state.in_(["planned", "sending"]))
    )
    until = time.monotonic() + SETTLE_S
    while time.monotonic() < until:
        with engine.connect() as c:
            if not c.scalar(query):
                return
        time.sleep(2)


def _lateness(
    posts: Sequence[tuple[float, list[str]]], planned: dict[str, tuple[datetime, str]]
) -> tuple[list[float], int, int]:
    """Seconds from each delivered reminder's planned minute to its arrival in Slack; how
    many reminders arrived in more than one message; how many keys were seen."""
    first: dict[str, float] = {}
    twice = 0
    for arrived, keys in posts:
        for key in keys:
            if key in first:
                twice += 1
                continue
            first[key] = arrived
    late = [at - planned[k][0].timestamp() for k, at in first.items() if k in planned]
    return late, twice, len(first)


# ------------------------------------------------------------------- report


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def print_result(r: Result, options: Options) -> None:
    c = r.compressed
    table = _table(
        f"{r.backend}: reminders, a month in {c.minutes} minutes "
        f"(focal serve ready in {r.started_in:.0f} s)",
        "what", "value", "goal", "ratio", "ok",
    )  # fmt: skip
    table.add_row("planned (per minute: min / max)", f"{c.planned:,} ({min(c.per_minute):,} / "
                  f"{max(c.per_minute):,})")  # fmt: skip
    table.add_row("messages in Slack / reminders in them", f"{r.messages:,} / {len(r.lateness):,}")
    table.add_row("submitted meanwhile (their reminders skipped)", f"{r.submissions:,}")
    p50, p99 = percentile(r.lateness, 0.5), percentile(r.lateness, 0.99)
    table.add_row("lateness p50, s", f"{p50:.1f}")
    table.add_row(
        "lateness p99, s", f"{p99:.1f}", f"<= {LATENESS_P99_S:g}",
        f"{p99 / LATENESS_P99_S:.2f}", _ok(p99 <= LATENESS_P99_S),
    )  # fmt: skip
    table.add_row("lateness max, s", f"{percentile(r.lateness, 1.0):.1f}")
    table.add_row("not sent by the end", str(r.unsent), "0", "", _ok(r.unsent == 0))
    table.add_row("sent twice", str(r.twice), "0", "", _ok(r.twice == 0))
    console.print(table)
    _print_requests(r, options)
    _print_memory(r)
    facts = _table(f"{r.backend}: the run", "what", "value")
    facts.add_row("load average (1 / 5 / 15 min) at the start", r.load[0])
    facts.add_row("load average at the end", r.load[1])
    facts.add_row("feed polls sent late by the bench (>1 s)", f"{r.late_polls:,}")
    facts.add_row("stand-in calls", str(r.standin["calls"]))
    facts.add_row("stand-in violations", str(len(r.standin["violations"])))
    facts.add_row("focal serve's exit status (SIGTERM)", str(r.exit_status))
    console.print(facts)


def _ms(values: Sequence[float]) -> list[str]:
    return [f"{percentile(values, q) * 1000:.1f}" for q in (0.5, 0.99, 1.0)]


def _print_requests(r: Result, options: Options) -> None:
    table = _table(
        f"{r.backend}: HTTP, {options.clients} people typing /focal, {options.subscribers:,} "
        f"feeds polled every {options.poll_every:g} s; ms",
        "requests", "n", "p50", "p99", "max", "not answered", "goal p99", "ok",
    )  # fmt: skip
    for name, kinds, goal in (
        ("/focal (acknowledgement)", {"deadlines", "submit"}, ACK_P99_MS),
        ("feeds (200 and 304)", {"feed"}, FEED_P99_MS),
    ):
        group = [q for q in r.requests if q.kind in kinds]
        elapsed = [q.elapsed for q in group]
        bad = sum(q.status not in {200, 304} for q in group)
        p99 = percentile(elapsed, 0.99) * 1000
        table.add_row(
            name, f"{len(group):,}", *_ms(elapsed), str(bad), f"{goal:g}", _ok(p99 <= goal)
        )
    feeds = [q for q in r.requests if q.kind == "feed"]
    for status in (200, 304):
        chosen = [q.elapsed for q in feeds if q.status == status]
        table.add_row(f"  feeds answered {status}", f"{len(chosen):,}", *_ms(chosen))
    acks = [q.elapsed for q in r.requests if q.kind in {"deadlines", "submit"}]
    table.add_row(
        f"  /focal over Slack's {SLACK_LIMIT_S:g} s", str(sum(a > SLACK_LIMIT_S for a in acks))
    )
    console.print(table)


def _print_memory(r: Result) -> None:
    start, end = r.memory.at(WARM_S), r.memory.samples[-1][1]
    ready = r.memory.samples[0][1] if r.memory.samples else {}
    table = _table(
        f"{r.backend}: memory of focal serve's processes (RSS, MB; start = {WARM_S:.0f} s "
        "into the load)",
        "process", "at ready", "start", "end", "growth", "goal", "ok",
    )  # fmt: skip
    peak_runs = max((m.get("flow runs", 0.0) for _, m in r.memory.samples), default=0.0)
    for role in ("focal serve (HTTP app)", "flow runner", "Prefect server"):
        s, e = start.get(role, 0.0), end.get(role, 0.0)
        growth = (e - s) / s if s else float("nan")
        table.add_row(
            role, f"{ready.get(role, 0.0):.0f}", f"{s:.0f}", f"{e:.0f}", f"{growth:+.1%}",
            f"<= +{GROWTH:.0%}", _ok(growth <= GROWTH),
        )  # fmt: skip
    total_s = sum(start.get(k, 0.0) for k in start if k != "flow runs")
    total_e = sum(end.get(k, 0.0) for k in end if k != "flow runs")
    growth = (total_e - total_s) / total_s if total_s else float("nan")
    table.add_row(
        "all three", "", f"{total_s:.0f}", f"{total_e:.0f}", f"{growth:+.1%}",
        f"<= +{GROWTH:.0%}", _ok(growth <= GROWTH),
    )  # fmt: skip
    table.add_row("flow runs (each a process while it runs), peak", "", "", f"{peak_runs:.0f}")
    console.print(table)


# --------------------------------------------------------------------- main


def main(  # noqa: PLR0917 - typer passes the options by name
    minutes: Annotated[
        int, typer.Option(help="Minutes of load: the month is spread over them.")
    ] = 10,
    quick: Annotated[bool, typer.Option("--quick", help="3 minutes.")] = False,
    people: Annotated[int, typer.Option(help="Focal points in the store.")] = 1_000,
    clients: Annotated[int, typer.Option(help="People typing /focal at once.")] = 20,
    think: Annotated[float, typer.Option(help="Mean seconds between one person's commands.")] = 3.0,
    subscribers: Annotated[int, typer.Option(help="Calendar feeds polled.")] = 1_000,
    poll_every: Annotated[float, typer.Option(help="Seconds between two polls of a feed.")] = 30.0,
    poll_threads: Annotated[int, typer.Option(help="The calendar clients' threads.")] = 8,
    keep: Annotated[bool, typer.Option("--keep", help="Keep focal serve's directory.")] = False,
    database: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' (a temporary file, the default) or a PostgreSQL URL (a database is "
            "created there and dropped). Repeatable.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """focal serve under a compressed month: reminder lateness, acknowledgements, feeds, memory."""
    if minutes < 1 or people < clients or subscribers > people:
        raise typer.BadParameter("--minutes >= 1; --clients and --subscribers at most --people")
    options = Options(
        minutes=3 if quick else minutes,
        people=people,
        clients=clients,
        think=think,
        subscribers=subscribers,
        poll_every=poll_every,
        poll_threads=poll_threads,
        keep=keep,
    )
    specs = database or ["sqlite"]
    source = source_state()
    print_machine(specs, source)
    for spec in specs:
        print_result(run_backend(spec, options), options)
    if source_state() != source:
        console.print(
            f"[red]The production code changed during the run[/] ({source} -> "
            f"{source_state()}): the figures may mix versions."
        )


if __name__ == "__main__":
    typer.run(main)
