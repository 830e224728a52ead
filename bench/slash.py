"""``/focal`` under load: concurrent clients typing commands, and how fast Slack gets its answer.

Run from the repository root (see bench/README.md)::

    .venv/bin/python -m bench.slash --quick
    .venv/bin/python -m bench.slash --database sqlite \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/test

Target (the issue): with 100,000 submissions stored, 20 concurrent clients sending
``/focal submit CODE text`` and ``/focal deadlines``: the acknowledgement (Slack's HTTP request
answered) p99 <= 150 ms, none over Slack's 3 s.

How it measures: the world of bench/slash_world.py is loaded with SQLAlchemy Core; the Slack
stand-in and the HTTP app (Starlette + Bolt under uvicorn, as ``focal serve``, without its
access log) run in processes of their own. Each client is a thread of this process and a
different focal point; it sends signed requests exactly as Slack does (tests/slack_http.py),
the next as soon as the last is acknowledged (``--pace ack``: a burst, the work queues up
behind the answers) or once its reply arrived (``--pace reply``), ``--think`` pausing between
them; first a warm-up, then ``--requests``. Acknowledgement = from sending to the last byte of
the HTTP answer. Then it waits for every reply at its response URL (reply time = the
stand-in's receipt minus the sending), and checks the database: one new version per receipt,
numbered on from the last with no gap, each receipt naming a version that was stored.
The app process measures itself too (slash_app.Probe): where its time went. First, the same
clients run against an empty app under the same server (the floor, ``--no-floor`` to skip):
Focal's p99 is printed against it.
"""

from __future__ import annotations

import math
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

from bench.reminders import (
    HOME_COUNTRY,
    HOME_ZONE,
    TOKEN,
    _databases,
    _maintain,
    _say,
    console,
    fresh_database,
    print_machine,
    source_state,
)
from bench.slash_app import serve_app
from bench.slash_report import (
    Options,
    Result,
    Sent,
    failure_texts,
    print_result,
)
from bench.slash_world import (
    SECRET,
    Child,
    Replies,
    build_world,
    count_submissions,
    load_world,
    owed,
    serve_standin,
    store_submissions,
    submission_texts,
    utc_now,
    versions,
    wait_healthy,
)
from bots.slack.replies import phrase
from db.engine import build_engine
from db.migrate import upgrade
from tests.slack_http import SlackSender, new_response_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Engine

    from bench.reminders import Workload

#: How long the replies may take to arrive once the last request was answered.
REPLY_PATIENCE_S = 1_800


def kinds(count: int, mix: float, offset: int) -> list[str]:
    """``count`` commands, a share ``mix`` of them submits, spread evenly (alternating at 0.5)."""
    return [
        "submit" if math.floor((k + 1) * mix) > math.floor(k * mix) else "deadlines"
        for k in range(offset, offset + count)
    ]


@dataclass
class Clients:
    """The people typing: one thread each, all starting together."""

    base_url: str
    w: Workload
    options: Options
    replies: Replies | None  # None: replies are not waited for
    texts: list[str] = field(default_factory=lambda: submission_texts(64, random.Random(7)))
    seconds: float = 0.0  # the measured run's

    def run(self, plans: dict[str, list[tuple[str, str]]], *, measured: bool) -> list[Sent]:
        """``plans``: per handle, (kind, response URL) of each request. Returns what was sent,
        and, when ``measured``, sets ``seconds`` to how long it took."""
        start = threading.Barrier(len(plans) + 1)
        with ThreadPoolExecutor(max_workers=len(plans)) as pool:
            futures = [
                pool.submit(self.client, h, plan, start, measured=measured)
                for h, plan in plans.items()
            ]
            start.wait()
            began = time.perf_counter()
            sent = [s for f in futures for s in f.result()]
        if measured:
            self.seconds = time.perf_counter() - began
        return sent

    def client(
        self, handle: str, plan: Sequence[tuple[str, str]], start: threading.Barrier, *,
        measured: bool,
    ) -> list[Sent]:  # fmt: skip
        sender = SlackSender(self.base_url, SECRET, timeout=30)
        user_id, codes = self.w.user_ids[handle], owed(self.w, handle)
        rng, out = random.Random(handle), []
        start.wait()
        for n, (kind, url) in enumerate(plan):
            code = codes[n % len(codes)] if kind == "submit" else None
            text = f"submit {code} {rng.choice(self.texts)}" if code else "deadlines"
            at = time.time()
            try:
                answer = sender.command(text, user_id=user_id, response_url=url)
                status, elapsed = answer.status, answer.elapsed
            except OSError:
                status, elapsed = 0, time.time() - at
            out.append(Sent(kind, handle, code, url, at, status, elapsed, measured))
            if self.options.pace == "reply" and status == 200 and self.replies:  # noqa: PLR2004
                self.replies.wait(url, REPLY_PATIENCE_S)
            if self.options.think:
                time.sleep(rng.expovariate(1 / self.options.think))
        return out


# -------------------------------------------------------------- the run


def run_backend(spec: str, options: Options) -> Result:
    with fresh_database(spec) as url:
        engine = build_engine(url)
        try:
            backend = engine.dialect.name
            _say(f"{backend}: migrating, loading")
            upgrade(engine)
            now = utc_now()
            w = build_world(now)
            began = time.perf_counter()
            load_world(engine, w)
            store_submissions(engine, options.submissions, now=now)
            _maintain(engine)
            sizes = {
                "people / groups / deadlines": f"{len(w.people)} / {len(w.groups)} / "
                f"{len(w.deadlines)}",
                "assignments": f"{w.assignments:,}",
                "submissions stored beforehand": f"{count_submissions(engine):,}",
                "load, s": f"{time.perf_counter() - began:.1f}",
            }
            handles = [p.handle for p in w.people[: options.clients]]
            # The floor is a burst: against --pace reply it would compare unlike things.
            measure_floor = options.floor and options.pace == "ack"
            floor = drive_floor(w, handles, options, backend=backend) if measure_floor else []
            before, total_before = versions(engine, handles), count_submissions(engine)
            result = drive(url, w, handles, options, backend=backend, sizes=sizes)
            result.floor = floor
            result.stored = check_store(
                engine, w, handles, result, before=before, total_before=total_before
            )
            return result
        finally:
            engine.dispose()


def plans_for(
    handles: Sequence[str], options: Options, urls: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Per client, (kind, response URL) of each of its requests, warm-up first."""
    each = options.warmup + options.requests
    return {
        h: list(zip(kinds(each, options.mix, i), urls[i * each : (i + 1) * each], strict=True))
        for i, h in enumerate(handles)
    }


def drive_floor(
    w: Workload, handles: Sequence[str], options: Options, *, backend: str
) -> list[Sent]:
    """The same clients against an empty app under the same server (``slash_app._floor``):
    what the machine, the server and the clients cost before Focal does anything."""
    each = options.warmup + options.requests
    urls = [new_response_url() for _ in range(len(handles) * each)]
    plans = plans_for(handles, options, urls)
    with Child(serve_app, {}, {"floor": 1}) as app:
        wait_healthy(app.greeting)
        clients = Clients(app.greeting, w, options, None)
        _say(f"{backend}: the floor (an empty app), {len(handles)} clients")
        clients.run({h: p[: options.warmup] for h, p in plans.items()}, measured=False)
        return clients.run({h: p[options.warmup :] for h, p in plans.items()}, measured=True)


def drive(
    url: str,
    w: Workload,
    handles: Sequence[str],
    options: Options,
    *,
    backend: str,
    sizes: dict[str, str],
) -> Result:
    with Child(serve_standin, w.slack_users()) as slack:
        settings = {
            "database_url": url,
            "timezone": HOME_ZONE,
            "country": HOME_COUNTRY,
            "slack_api_url": slack.greeting,
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SECRET,
        }
        with Child(serve_app, settings, options.tuning) as app:
            base_url = app.greeting
            wait_healthy(base_url)
            each = options.warmup + options.requests
            urls = slack.ask("urls", [w.user_ids[h] for h in handles for _ in range(each)])
            plans = plans_for(handles, options, urls)
            with Replies(slack) as replies:
                clients = Clients(base_url, w, options, replies)
                _say(f"{backend}: warm-up, {options.warmup} requests per client")
                warm = clients.run(
                    {h: p[: options.warmup] for h, p in plans.items()}, measured=False
                )
                app.ask("reset")
                _say(f"{backend}: {len(handles)} clients x {options.requests} requests")
                sent = clients.run(
                    {h: p[options.warmup :] for h, p in plans.items()}, measured=True
                )
                during = app.ask("stats")
                answered = time.perf_counter()
                expected = sum(s.status == 200 for s in warm + sent)  # noqa: PLR2004
                _say(f"{backend}: waiting for {expected - len(replies.at):,} more replies")
                while len(replies.at) < expected:
                    if time.perf_counter() - answered > REPLY_PATIENCE_S:
                        break
                    time.sleep(0.2)
            found = slack.ask("replies")
            after = app.ask("stats")
    stats = {key: during[key] for key in ("server", "lag", "backlog", "gc", "cpu")}
    stats["profiles"] = during["profiles"] | {
        where: text for where, text in after["profiles"].items() if where != "event loop"
    }
    stats |= {"calls": after["calls"], "raised": after["raised"], "gc_all": after["gc"]}
    return Result(backend, sizes, warm + sent, clients.seconds, stats, found, {})


def check_store(
    engine: Engine,
    w: Workload,
    handles: Sequence[str],
    r: Result,
    *,
    before: dict[tuple[str, str], list[int]],
    total_before: int,
) -> dict[str, int]:
    """Each receipt names a new version, numbered on from the last with no gap; a submit told
    that nothing was recorded left nothing; nothing else was stored."""
    after = versions(engine, handles)
    submits = [s for s in r.sent if s.kind == "submit"]
    acked = [s for s in submits if s.status == 200]  # noqa: PLR2004
    language = {p.handle: p.language.value for p in w.people}
    text_of = {url: text for url, _, text in r.replies["accepted"]}
    failures = failure_texts()
    told_failed = [s for s in acked if text_of.get(s.url) in failures]
    unanswered = [s for s in acked if s.url not in text_of]
    receipts: dict[tuple[str, str], list[Sent]] = {}
    for s in acked:
        if s not in told_failed and s not in unanswered:
            receipts.setdefault((s.code or "", s.handle), []).append(s)
    gaps = wrong = 0
    for key, sent in receipts.items():
        old = before.get(key, [])
        last = old[-1] if old else 0
        new = list(range(last + 1, last + len(sent) + 1))
        gaps += after.get(key, []) != [*old, *new]
        named = {
            v
            for s in sent
            for v in new
            if text_of[s.url] == phrase("receipt_on_time", language[s.handle], code=s.code, v=v)
        }
        wrong += len(sent) - len(named)
    return {
        "submits sent": len(submits),
        "acknowledged": len(acked),
        "told nothing was recorded": len(told_failed),
        "no reply": len(unanswered),
        "receipts": sum(len(v) for v in receipts.values()),
        "new rows": count_submissions(engine) - total_before,
        "assignments with a gap or extra": gaps,
        "receipts not naming a new version": wrong,
    }


# ------------------------------------------------------------------- main


def main(  # noqa: PLR0917 - typer passes the options by name
    clients: Annotated[int, typer.Option(help="Concurrent clients (focal points).")] = 20,
    requests: Annotated[int, typer.Option(help="Measured requests per client.")] = 100,
    warmup: Annotated[int, typer.Option(help="Warm-up requests per client, not counted.")] = 4,
    submissions: Annotated[int, typer.Option(help="Submissions stored beforehand.")] = 100_000,
    mix: Annotated[float, typer.Option(help="Share of submits; the rest are deadlines.")] = 0.5,
    pace: Annotated[
        str,
        typer.Option(
            help="ack: a client sends its next request once the last is answered (a burst: "
            "the work queues up behind the answers); reply: once the reply to it arrived "
            "(20 people each waiting for Focal's answer)."
        ),
    ] = "ack",
    think: Annotated[
        float, typer.Option(help="Mean pause between one client's requests, ms (0: none).")
    ] = 0,
    processes: Annotated[
        int, typer.Option(help="The app's service worker processes (0: the app's own choice).")
    ] = 0,
    niceness: Annotated[
        int,
        typer.Option(help="How much lower the worker processes' CPU priority is (0: the app's)."),
    ] = 0,
    threads: Annotated[
        int,
        typer.Option(
            help="Run the services in this many threads of the app's process instead of worker "
            "processes (0: no; 1 or 2: as before worker processes)."
        ),
    ] = 0,
    switch_interval: Annotated[
        float,
        typer.Option(
            help="The app process's sys.setswitchinterval, ms (0: Python's default, 5 ms)."
        ),
    ] = 0,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="cProfile the app's event loop and its service calls in the measured phase "
            "(prints the top entries; slows the app down: compare figures without it).",
        ),
    ] = False,
    floor: Annotated[
        bool,
        typer.Option(
            help="First measure the same clients against an empty app under the same server: "
            "the floor that Focal's figures are compared with (with --pace ack)."
        ),
    ] = True,
    quick: Annotated[
        bool, typer.Option("--quick", help="10,000 submissions, 20 requests per client.")
    ] = False,
    database: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' (a temporary file) or a PostgreSQL URL (a database is created there "
            "and dropped). Repeatable. Default: $FOCAL_BENCH_DATABASE_URL (comma-separated), "
            "else SQLite and $FOCAL_TEST_DATABASE_URL when set.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Concurrent /focal commands on SQLite and PostgreSQL: acknowledgement times, replies."""
    if pace not in {"ack", "reply"}:
        raise typer.BadParameter("--pace is ack or reply")
    if not 0 <= mix <= 1:
        raise typer.BadParameter("--mix is a share between 0 and 1")
    if clients < 1 or requests < 1:
        raise typer.BadParameter("--clients and --requests are at least 1")
    options = Options(
        clients=clients,
        requests=20 if quick else requests,
        warmup=warmup,
        submissions=10_000 if quick else submissions,
        mix=mix,
        think=think / 1000,
        pace=pace,
        floor=floor,
        tuning={
            "processes": processes,
            "niceness": niceness,
            "threads": threads,
            "switch_interval": switch_interval,
            "profile": float(profile),
        },
    )
    specs = _databases(database)
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
