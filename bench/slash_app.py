"""The app process of ``bench/slash.py``: Focal's HTTP app under uvicorn, as ``focal serve``
runs it, measuring itself (``Probe``).

What it measures: per request to /slack/events, seconds from the ASGI call to the last byte of
the answer; how late the event loop wakes a task that sleeps 10 ms (time it spent on something
that would not let go: synchronous work, the GIL, the garbage collector) and how many
acknowledged requests were waiting then (the bot's backlog); the collector's pauses; the CPU
time of the event loop's thread and of the process; and each service call, timed where it runs
(in the worker process or thread), with what it raised. With ``profiling``: cProfile on the
event loop's thread, and around each service call in the workers, from ``reset`` to
``snapshot``.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import os
import pstats
import socket
import sys
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from multiprocessing.connection import Connection

    import uvicorn

    from bots.slack.workers import ServiceWorkers
    from config.wiring import App

#: How often a worker sends its profile along with a call's result (seconds).
PROFILE_EVERY = 0.5


class Probe:
    """The app process's measures of itself (see the module's docstring)."""

    def __init__(self, *, profiling: bool = False) -> None:
        self.server: list[float] = []
        self.lag: list[float] = []
        self.backlog: list[int] = []
        self.gc: list[tuple[int, float]] = []  # (generation, seconds)
        self.calls: dict[str, list[float]] = {}
        self.raised: Counter[str] = Counter()
        self.profiling = profiling
        self.generation = 0  # of the workers' profiles: a new one at each reset
        self.loop_profile = cProfile.Profile()
        self.worker_stats: dict[str, dict[Any, Any]] = {}  # per worker, its latest profile
        self.depth: Callable[[], int] = lambda: 0
        self._gc_start = 0.0
        self._cpu_start = (0.0, 0.0, 0.0)  # event loop's thread, process, wall clock

    def reset(self) -> None:
        """From the event loop's thread: start counting (and profiling) afresh."""
        for kept in (self.server, self.lag, self.backlog, self.gc):
            kept.clear()
        self.calls.clear()
        self.raised.clear()
        self.worker_stats.clear()
        self.generation += 1
        self._cpu_start = (time.thread_time(), time.process_time(), time.perf_counter())
        if self.profiling:
            self.loop_profile = cProfile.Profile()
            self.loop_profile.enable()

    def snapshot(self) -> dict[str, Any]:
        """From the event loop's thread: what was measured (the event loop's profile stops at
        the first snapshot; the workers' goes on until the last)."""
        profiles = {}
        if self.profiling:
            self.loop_profile.disable()
            profiles = {
                "event loop": _top(self.loop_profile),
                "service workers": _top(*(_Loaded(s) for s in self.worker_stats.values())),
            }
        return {
            "server": list(self.server),
            "lag": list(self.lag),
            "backlog": list(self.backlog),
            "gc": list(self.gc),
            "calls": {k: list(v) for k, v in self.calls.items()},
            "raised": dict(self.raised),
            "profiles": profiles,
            "cpu": {  # seconds since reset: the event loop's thread, the whole process, wall
                what: now - then
                for what, now, then in zip(
                    ("loop", "process", "wall"),
                    (time.thread_time(), time.process_time(), time.perf_counter()),
                    self._cpu_start,
                    strict=True,
                )
            },
        }

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

    def timing(self, workers: ServiceWorkers) -> None:
        """Time (and profile) every call ``workers`` makes, where it runs."""
        call = workers.call
        probe = self

        async def timed_call(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            name = getattr(fn, "__qualname__", repr(fn))
            try:
                outcome = await call(_timed, probe.generation, probe.profiling, fn, args, kwargs)
            except Exception as error:
                probe.raised[f"{name}: {type(error).__name__}: {str(error)[:60]}"] += 1
                raise
            result, seconds, worker, generation, stats = outcome
            probe.calls.setdefault(name, []).append(seconds)
            if stats is not None and generation == probe.generation:
                probe.worker_stats[worker] = stats
            return result

        workers.call = timed_call  # type: ignore[method-assign]


# ------------------------------------------------------- in the service workers

_profiles: dict[str, tuple[int, cProfile.Profile, float]] = {}  # worker -> (generation, ..., sent)


def _timed(
    generation: int,
    profiling: bool,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    uow: Any,  # noqa: ANN401
) -> tuple[Any, float, str, int, dict[Any, Any] | None]:
    """Runs in the worker: the call, its seconds, which worker, and now and then its profile."""
    worker = f"{os.getpid()}/{threading.get_ident()}"
    if not profiling:
        start = time.perf_counter()
        result = fn(*args, uow=uow, **kwargs)
        return result, time.perf_counter() - start, worker, generation, None
    kept = _profiles.get(worker)
    if kept is None or kept[0] != generation:
        kept = (generation, cProfile.Profile(), time.monotonic())
    _, profile, sent = kept
    start = time.perf_counter()
    try:
        result = profile.runcall(fn, *args, uow=uow, **kwargs)
    finally:
        seconds = time.perf_counter() - start
        _profiles[worker] = (generation, profile, sent)
    stats = None
    if time.monotonic() - sent > PROFILE_EVERY:
        profile.create_stats()
        stats = dict(profile.stats)  # type: ignore[attr-defined]
        _profiles[worker] = (generation, profile, time.monotonic())
    return result, seconds, worker, generation, stats


class _Loaded:
    """A profile's stats as pstats loads them."""

    def __init__(self, stats: dict[Any, Any]) -> None:
        self.stats = stats

    def create_stats(self) -> None:
        pass


def _top(*profiles: Any, lines: int = 30) -> str:  # noqa: ANN401 - cProfile or _Loaded
    """The functions that took the most time, themselves and below (cumulative), then
    themselves alone."""
    out = io.StringIO()
    kept = [p for p in profiles if getattr(p, "stats", None) or isinstance(p, cProfile.Profile)]
    if not kept:
        return "(nothing ran)"
    stats = pstats.Stats(kept[0], stream=out)
    for more in kept[1:]:
        stats.add(more)
    stats.strip_dirs().sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines // 2)
    return out.getvalue()


# ---------------------------------------------------------------- the process


def serve_app(settings: dict[str, Any], tuning: dict[str, float], conn: Connection) -> None:
    """The HTTP app (Starlette + Bolt) under uvicorn on a free loopback port, measured by a
    ``Probe``. ``tuning``: ``floor`` (1: an empty app instead, see ``_floor``); for a
    diagnosis: ``processes`` (the bot's worker processes; 0: its own choice), ``niceness``
    (theirs; 0: the app's own), ``threads`` (N > 0: the services in N threads of the app's
    process instead, as before worker processes), ``switch_interval`` (ms, 0: Python's
    default: how long a thread may keep the GIL while another waits for it), ``profile`` (1:
    cProfile during the measured phase). The app's own start-up and shutdown (its lifespan)
    run, as under ``focal serve``."""
    import uvicorn  # noqa: PLC0415 - the child's imports

    from config.settings import Settings  # noqa: PLC0415
    from config.wiring import build_app  # noqa: PLC0415

    probe = Probe(profiling=bool(tuning.get("profile")))
    focal = None if tuning.get("floor") else build_app(Settings(**settings))
    app = probe.asgi(_floor if focal is None else _focal(focal, tuning, probe))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, ws="none", lifespan="on")
    server = uvicorn.Server(config)

    async def run() -> None:  # on the event loop uvicorn picks, as in focal serve
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
            target=_commands,
            args=(conn, probe, server, asyncio.get_running_loop()),
            name="bench-commands",
            daemon=True,
        ).start()
        await serving
        watching.cancel()

    try:
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(run())
    finally:
        if focal is not None:
            focal.close()


def _commands(
    conn: Connection,
    probe: Probe,
    server: uvicorn.Server,
    loop: asyncio.AbstractEventLoop,
) -> None:
    """The bench's requests to the app process, until ``stop`` (which stops the server)."""

    def on_loop(fn: Callable[[], Any]) -> Any:  # noqa: ANN401 - in the loop's thread
        return asyncio.run_coroutine_threadsafe(_call(fn), loop).result()

    while (message := conn.recv())[0] != "stop":
        if message[0] == "reset":
            on_loop(probe.reset)
            conn.send("ok")
        elif message[0] == "stats":
            conn.send(on_loop(probe.snapshot))
    server.should_exit = True


def _focal(focal: App, tuning: dict[str, float], probe: Probe) -> Callable[..., Any]:
    """Focal's ASGI app as ``focal serve`` builds it, its service calls timed by ``probe``."""
    from bots.slack.app import build_bolt_app  # noqa: PLC0415 - the child's imports
    from bots.web.app import build_web_app  # noqa: PLC0415

    workers = _workers(focal, tuning)
    probe.timing(workers)
    bolt = build_bolt_app(focal, workers=workers)
    probe.depth = bolt.bot.backlog.__len__
    return build_web_app(focal, bolt=bolt)


async def _floor(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401
    """The floor: an app that reads the request and answers 200 at once (health checks and
    lifespan included), to measure the server and the clients without Focal."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _workers(focal: App, tuning: dict[str, float]) -> ServiceWorkers:
    from bots.slack.app import default_workers  # noqa: PLC0415 - the child's imports
    from bots.slack.workers import ThreadWorkers  # noqa: PLC0415

    if tuning.get("threads"):
        return ThreadWorkers(focal, threads=int(tuning["threads"]))
    workers = default_workers(focal)
    if tuning.get("processes"):
        workers.processes = int(tuning["processes"])
    if tuning.get("niceness"):
        workers.niceness = int(tuning["niceness"])
    return workers


async def _call(fn: Callable[[], Any]) -> Any:  # noqa: ANN401 - run on the loop
    return fn()
