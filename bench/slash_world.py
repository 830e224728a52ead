"""What ``bench/slash.py`` runs against: a roster and calendar due in the weeks ahead, stored
submissions by the hundred thousand, and the Slack stand-in and the HTTP app each in a process
of its own (so that neither takes CPU from the clients' GIL, nor the clients from theirs).

The roster is 500 focal points in 25 working groups; 200 deadlines fall due 10 to 120 days
from now by the real clock (the app reads the system clock), eight per group, before each
group's meeting. Everyone's Slack id is stored, as after their first command.
"""

from __future__ import annotations

import asyncio
import contextvars
import cProfile
import functools
import gc
import http.client
import io
import itertools
import multiprocessing
import pstats
import random
import socket
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bench.reminders import HOME_ZONE, ZONES, Workload, load_bulk, set_slack_ids
from core.model import (
    AbsoluteDue,
    Deadline,
    DeadlineKind,
    Group,
    Language,
    Meeting,
    MeetingKind,
    Membership,
    Person,
    Role,
)
from db.models import AssignmentRow, DeadlineRow, PersonRow, SubmissionRow
from tests.slack_standin import SlackStandIn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, MutableMapping
    from multiprocessing.connection import Connection

    from sqlalchemy.engine import Engine

PEOPLE, GROUPS, DEADLINES = 500, 25, 200
SECRET = "focal-bench-signing-secret"  # noqa: S105 - the bench's own, not a secret
CHUNK = 5_000
#: Tries at starting a child process: others may be editing the code it imports.
ATTEMPTS = 3

# ------------------------------------------------------------------- world


def build_world(now: datetime) -> Workload:
    """500 focal points in 25 groups; 200 deadlines due 10 to 120 days after ``now``."""
    today = now.astimezone(ZoneInfo(HOME_ZONE)).date()
    people = tuple(
        Person(
            handle=f"p{i:04d}",
            name=f"Focal Point {i:04d}",
            email=f"p{i:04d}@example.gov.vn",
            timezone=ZONES[i % len(ZONES)][0],
            language=Language.VI if i % 10 < 7 else Language.EN,  # noqa: PLR2004
            country=ZONES[i % len(ZONES)][1],
        )
        for i in range(PEOPLE)
    )
    groups = tuple(
        Group(
            f"WG{g:02d}",
            f"Working group {g}",
            tuple(Membership(p.handle, Role.FOCAL) for p in people[g::GROUPS]),
        )
        for g in range(GROUPS)
    )
    meetings = tuple(_meeting(g, today) for g in range(GROUPS))
    deadlines = tuple(_deadline(k, today) for k in range(DEADLINES))
    return Workload(
        people=people,
        groups=groups,
        meetings=meetings,
        deadlines=deadlines,
        coordinators=(people[0].handle,),
        loaded_at=now - timedelta(days=30),
        user_ids={p.handle: f"U{i:08d}" for i, p in enumerate(people)},
    )


def _meeting(g: int, today: date) -> Meeting:
    day = today + timedelta(days=130 + g % 10)
    return Meeting(
        code=f"WG{g:02d}-MTG",
        title=f"Meeting of working group {g}",
        kind=MeetingKind.WORKING_GROUP,
        start=datetime.combine(day, clock_time(9)),
        end=datetime.combine(day, clock_time(17)),
        timezone="Asia/Jakarta",
        titles={"vi": f"Cuộc họp nhóm công tác {g}"},
        venue="Jakarta, Indonesia",
        host_country="ID",
        groups=(f"WG{g:02d}",),
    )


def _deadline(k: int, today: date) -> Deadline:
    g, j = k % GROUPS, k // GROUPS
    due = datetime.combine(today + timedelta(days=10 + k * 110 // DEADLINES), clock_time(17))
    return Deadline(
        code=f"WG{g:02d}-IN{j:02d}",
        title=f"Input {j + 1} of working group {g}",
        kind=DeadlineKind.REPORT,
        due=AbsoluteDue(at=due),
        meeting=f"WG{g:02d}-MTG",
        assign=(f"WG{g:02d}",),
        titles={"vi": f"Đầu vào {j + 1} của nhóm công tác {g}"},
    )


def load_world(engine: Engine, w: Workload) -> None:
    load_bulk(engine, w)
    set_slack_ids(engine, w, known=True)


def owed(w: Workload, handle: str) -> list[str]:
    """The deadline codes ``handle`` owes (through their group)."""
    mine = {g.code for g in w.groups if handle in g.handles_with_role(Role.FOCAL)}
    return [d.code for d in w.deadlines if set(d.assign) & mine]


# ------------------------------------------------------------ submissions

_VI = (
    "Việt Nam ủng hộ đề xuất tăng cường hợp tác khu vực về thương mại điện tử.",
    "Bộ Công Thương đã hoàn thành dự thảo báo cáo tiến độ thực hiện kế hoạch hành động.",
    "Đề nghị Ban Thư ký cập nhật số liệu năm 2025 trước cuộc họp nhóm công tác.",
    "Các cơ quan liên quan đang rà soát điều khoản tham chiếu và sẽ gửi ý kiến bằng văn bản.",
    "Chúng tôi đề xuất bổ sung một mục về phát triển nguồn nhân lực và chuyển đổi số.",
)
_EN = (
    "Viet Nam supports the proposal to strengthen regional cooperation on digital trade.",
    "The ministry has completed the draft progress report on the action plan.",
    "We ask the Secretariat to update the 2025 figures before the working group meets.",
    "Line agencies are reviewing the terms of reference and will comment in writing.",
    "We propose an additional section on human resource development and digital change.",
)


def submission_texts(count: int, rng: random.Random) -> list[str]:
    """``count`` texts of 200 to 2,000 characters, mostly Vietnamese, some English."""
    texts = []
    for i in range(count):
        size = rng.randint(200, 2_000)
        pool = _VI if i % 4 else _EN
        words: list[str] = []
        while sum(len(s) + 1 for s in words) < size:
            words.append(rng.choice(pool))
        texts.append(" ".join(words)[:size].rstrip())
    return texts


def store_submissions(engine: Engine, count: int, *, now: datetime, seed: int = 15) -> int:
    """``count`` submissions, versions 1..n of assignments chosen at random; Core executemany."""
    rng = random.Random(seed)
    texts = submission_texts(256, rng)
    since = now - timedelta(days=29)
    with engine.begin() as c:
        assignments = c.execute(select(AssignmentRow.id, AssignmentRow.person_id)).tuples().all()
        per = Counter(rng.choices(range(len(assignments)), k=count))
        rows = (
            {
                "assignment_id": assignments[a][0],
                "version": v,
                "text": texts[(a * 31 + v) % len(texts)],
                "links": ["https://docs.example.gov.vn/input"] if v % 5 == 0 else [],
                "submitted_by_id": assignments[a][1],
                "on_behalf": False,
                "submitted_at": since + timedelta(minutes=17 * v + a % 600),
                "late": False,
                "status": "received",
                "reviewer_note": None,
                "reviewed_by_id": None,
                "reviewed_at": None,
            }
            for a, n in sorted(per.items())
            for v in range(1, n + 1)
        )
        while chunk := list(itertools.islice(rows, CHUNK)):
            c.execute(insert(SubmissionRow), chunk)
    return count


def versions(engine: Engine, handles: Iterable[str]) -> dict[tuple[str, str], list[int]]:
    """(deadline code, handle) -> the stored version numbers, ascending."""
    query = (
        select(DeadlineRow.code, PersonRow.handle, SubmissionRow.version)
        .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
        .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
        .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
        .where(PersonRow.handle.in_(list(handles)))
        .order_by(DeadlineRow.code, PersonRow.handle, SubmissionRow.version)
    )
    found: dict[tuple[str, str], list[int]] = {}
    with engine.connect() as c:
        for code, handle, version in c.execute(query).tuples():
            found.setdefault((code, handle), []).append(version)
    return found


def count_submissions(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


# --------------------------------------------------------------- processes


class Child:
    """``target(*args, conn)`` in a spawned process; it sends one greeting, then answers
    ``(command, argument)`` pairs until ``("stop", None)``."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:  # noqa: ANN401
        self.target, self.args = target, args
        self.greeting: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        context = multiprocessing.get_context("spawn")
        for attempt in range(1, ATTEMPTS + 1):
            self._conn, child = context.Pipe()
            self._process = context.Process(
                target=self.target, args=(*self.args, child), daemon=True
            )
            self._process.start()
            child.close()
            try:
                self.greeting = self._receive()
            except ChildProcessError:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(5)  # the code it imports may be mid-edit: once more
            else:
                break
        return self

    def _receive(self) -> Any:  # noqa: ANN401 - whatever the child sends
        while not self._conn.poll(0.2):
            if not self._process.is_alive():
                raise ChildProcessError(f"the child ended ({self._process.exitcode})")
        return self._conn.recv()

    def ask(self, command: str, argument: object = None) -> Any:  # noqa: ANN401
        with self._lock:
            self._conn.send((command, argument))
            return self._receive()

    def __exit__(self, *_exc: object) -> None:
        if self._process.is_alive():
            self._conn.send(("stop", None))
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()  # our own child, by its handle
            self._process.join()


def serve_standin(users: list[tuple[str, str, str, str]], conn: Connection) -> None:
    """The Slack stand-in: mints response URLs, reports what reached them."""
    with SlackStandIn() as slack:
        for handle, email, tz, user_id in users:
            slack.add_user(name=handle, email=email, tz=tz, user_id=user_id)
        conn.send(slack.url)
        while (message := conn.recv())[0] != "stop":
            command, argument = message
            if command == "urls":  # argument: the user id of each
                conn.send([slack.new_response_url(user_id=u) for u in argument])
            elif command == "since":  # argument: how many the asker has seen
                conn.send([(r.url, r.at) for r in slack.responses()[argument:]])
            elif command == "replies":
                conn.send(
                    {
                        "accepted": [(r.url, r.at, r.text or "") for r in slack.responses()],
                        "refused": [(r.url, r.error) for r in slack.responses(refused=True)],
                        "calls": dict(Counter(c.method for c in slack.calls())),
                        "violations": list(slack.violations[:5]),
                    }
                )


class Probe:
    """What the app process measures of itself: per request to /slack/events, seconds from the
    ASGI call to the last byte of the answer; how late the event loop wakes a task that sleeps
    10 ms (time it spent on something that would not let go: synchronous work, the GIL, the
    garbage collector) and how many acknowledged requests were waiting then (the bot's
    backlog); the collector's pauses; and each service call in the worker threads (its
    seconds, and what it raised). With ``profiling``, cProfile on the event loop's thread and
    around each service call, from ``reset`` to ``snapshot``."""

    def __init__(self, *, profiling: bool = False) -> None:
        self.server: list[float] = []
        self.lag: list[float] = []
        self.backlog: list[int] = []
        self.gc: list[tuple[int, float]] = []  # (generation, seconds)
        self.calls: dict[str, list[float]] = {}
        self.raised: Counter[str] = Counter()
        self.profiling = profiling
        self.loop_profile = cProfile.Profile()
        self.worker_profiles: list[cProfile.Profile] = []
        self._local = threading.local()
        self._gc_start = 0.0
        self.depth: Callable[[], int] = lambda: 0

    def reset(self) -> None:
        """From the event loop's thread: start counting (and profiling) afresh."""
        for kept in (self.server, self.lag, self.backlog, self.gc):
            kept.clear()
        self.calls.clear()
        self.raised.clear()
        if self.profiling:
            self.loop_profile = cProfile.Profile()
            self.worker_profiles.clear()
            self._local = threading.local()
            self.loop_profile.enable()

    def snapshot(self) -> dict[str, Any]:
        """From the event loop's thread: what was measured (profiling stops)."""
        profiles = {}
        if self.profiling:
            self.loop_profile.disable()
            profiles = {
                "event loop": _top(self.loop_profile),
                "worker threads": _top(*self.worker_profiles),
            }
        return {
            "server": list(self.server),
            "lag": list(self.lag),
            "backlog": list(self.backlog),
            "gc": list(self.gc),
            "calls": {k: list(v) for k, v in self.calls.items()},
            "raised": dict(self.raised),
            "profiles": profiles,
        }

    def _worker_profile(self) -> cProfile.Profile:
        profile: cProfile.Profile | None = getattr(self._local, "profile", None)
        if profile is None:
            profile = self._local.profile = cProfile.Profile()
            self.worker_profiles.append(profile)
        return profile

    def asgi(self, app: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401
            if scope["type"] != "http" or scope["path"] != "/slack/events":
                await app(scope, receive, send)
                return
            start = time.perf_counter()

            async def timed_send(message: MutableMapping[str, Any]) -> None:
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    self.server.append(time.perf_counter() - start)

            await app(scope, receive, timed_send)

        return timed

    async def watch_loop(self, interval: float = 0.01) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(interval)
            self.lag.append(time.perf_counter() - start - interval)
            self.backlog.append(self.depth())

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc.append((info["generation"], time.perf_counter() - self._gc_start))

    def executor(self, threads: int | None) -> ThreadPoolExecutor:
        probe = self

        class Counting(ThreadPoolExecutor):
            def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
                name = _name(fn)

                def call() -> Any:  # noqa: ANN401
                    profile = probe._worker_profile() if probe.profiling else None
                    start = time.perf_counter()
                    try:
                        if profile is not None:
                            return profile.runcall(fn, *args, **kwargs)
                        return fn(*args, **kwargs)
                    except Exception as error:
                        probe.raised[f"{name}: {type(error).__name__}: {str(error)[:60]}"] += 1
                        raise
                    finally:
                        probe.calls.setdefault(name, []).append(time.perf_counter() - start)

                return super().submit(call)

        return Counting(threads, thread_name_prefix="focal")


def _top(*profiles: cProfile.Profile, lines: int = 30) -> str:
    """The functions that took the most time, themselves and below (cumulative)."""
    out = io.StringIO()
    kept = [p for p in profiles if p.getstats()]
    if not kept:
        return "(nothing ran)"
    stats = pstats.Stats(kept[0], stream=out)
    for more in kept[1:]:
        stats.add(more)
    stats.strip_dirs().sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def _name(fn: Callable[..., Any]) -> str:
    """The service inside ``asyncio.to_thread``'s and ``FocalBot.run``'s partials."""
    while isinstance(fn, functools.partial):
        is_context_run = isinstance(getattr(fn.func, "__self__", None), contextvars.Context)
        fn = fn.args[0] if is_context_run else fn.func
    return getattr(fn, "__qualname__", repr(fn))


def serve_app(settings: dict[str, Any], tuning: dict[str, float], conn: Connection) -> None:
    """The HTTP app (Starlette + Bolt) under uvicorn on a free loopback port, measured by a
    ``Probe``. ``tuning``, for a diagnosis: ``threads`` (the bot's worker threads, where the
    listeners run the services; 0: the bot's own choice), ``switch_interval`` (ms, 0:
    Python's default: how long a thread may keep the GIL while another waits for it),
    ``profile`` (1: cProfile during the measured phase). The app's own start-up (its
    lifespan) runs, as under ``focal serve``."""
    import uvicorn  # noqa: PLC0415 - the child's imports

    from bots.slack.app import build_bolt_app  # noqa: PLC0415
    from bots.web.app import build_web_app  # noqa: PLC0415
    from config.settings import Settings  # noqa: PLC0415
    from config.wiring import build_app  # noqa: PLC0415

    focal = build_app(Settings(**settings))
    probe = Probe(profiling=bool(tuning.get("profile")))
    bolt = build_bolt_app(focal)
    bot = bolt.bot
    bot.executor = probe.executor(int(tuning.get("threads") or 0) or bot.executor._max_workers)  # noqa: SLF001
    probe.depth = bot.backlog.__len__
    app = probe.asgi(build_web_app(focal, bolt=bolt))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none", lifespan="on")
    server = uvicorn.Server(config)

    def commands(loop: asyncio.AbstractEventLoop) -> None:
        def on_loop(fn: Callable[[], Any]) -> Any:  # noqa: ANN401 - in the loop's thread
            return asyncio.run_coroutine_threadsafe(_call(fn), loop).result()

        while (message := conn.recv())[0] != "stop":
            if message[0] == "reset":
                on_loop(probe.reset)
                conn.send("ok")
            elif message[0] == "stats":
                conn.send(on_loop(probe.snapshot))
        server.should_exit = True

    async def run() -> None:
        if tuning.get("switch_interval"):
            sys.setswitchinterval(tuning["switch_interval"] / 1000)
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            if serving.done():
                serving.result()
                return
            await asyncio.sleep(0.01)
        watching = asyncio.create_task(probe.watch_loop())
        gc.callbacks.append(probe.on_gc)
        conn.send(f"http://127.0.0.1:{listener.getsockname()[1]}")
        threading.Thread(
            target=commands,
            args=(asyncio.get_running_loop(),),
            name="bench-commands",
            daemon=True,
        ).start()
        await serving
        watching.cancel()

    try:
        asyncio.run(run())
    finally:
        focal.close()


async def _call(fn: Callable[[], Any]) -> Any:  # noqa: ANN401 - run on the loop
    return fn()


class Replies:
    """Watches the stand-in for replies at response URLs (a thread polling every 20 ms)."""

    def __init__(self, slack: Child) -> None:
        self.slack = slack
        self.at: dict[str, float] = {}  # response URL -> when the first reply reached it
        self._seen = 0
        self._arrived: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="replies", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _event(self, url: str) -> threading.Event:
        with self._lock:
            return self._arrived.setdefault(url, threading.Event())

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            new = self.slack.ask("since", self._seen)
            self._seen += len(new)
            for url, at in new:
                self.at.setdefault(url, at)
                self._event(url).set()

    def wait(self, url: str, timeout: float) -> bool:
        return self._event(url).wait(timeout)


def wait_healthy(base_url: str, *, timeout: float = 30) -> None:
    parts = urlsplit(base_url)
    deadline = time.monotonic() + timeout
    while True:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:  # noqa: PLR2004
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url}/healthz did not answer 200 in {timeout} s")
        time.sleep(0.1)


def utc_now() -> datetime:
    return datetime.now(UTC)
