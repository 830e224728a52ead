"""Where the ``/focal`` app runs its services: worker processes beside the event loop.

The services are synchronous Python (SQLAlchemy, the domain). Run in threads of the process
that answers Slack, they hold the GIL that the event loop needs for every acknowledgement:
each time the loop lets go of it (a socket ``send``, a ``select``), a busy worker thread takes
it for up to the switch interval (5 ms), and under a burst the acknowledgements queue up
behind the work they have already acknowledged. Worker processes have their own interpreter,
and run at a lower CPU priority (``nice``): the kernel gives the event loop the CPU first, so
acknowledgements leave at once and the slow work happens after, as Slack asks.

A call is ``await workers.call(service, *args, **kwargs)``; the worker adds ``uow=`` (its own
unit of work, from its own engine). Arguments and results cross the process boundary pickled:
services take and return plain values and frozen dataclasses. A database failure comes back as
``DatabaseUnavailableError`` (SQLAlchemy's and the drivers' errors need not pickle).

``ThreadWorkers`` runs the same calls in threads of the app's own process, on the app's own
engine: for tests that put something into that engine (a fault injected into its statements).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from config.settings import Settings
    from config.wiring import App

log = logging.getLogger("focal.slack")

T = TypeVar("T")

#: How much lower a worker process's CPU priority is than the event loop's (``nice``):
#: under contention the kernel gives the loop about three times the worker's share.
WORKER_NICENESS = 5


class DatabaseUnavailableError(Exception):
    """The database could not be reached (or its pool was exhausted): nothing was written."""


#: What the listeners tell a person as "the database is down, nothing was recorded".
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError, DatabaseUnavailableError)


class ServiceWorkers(Protocol):
    """Runs a service call away from the event loop; the call gets ``uow=`` added."""

    async def start(self) -> None: ...

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...  # noqa: ANN401

    async def close(self) -> None: ...


def _with_uow(
    focal: App, fn: Callable[..., T], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> T:
    return fn(*args, uow=focal.uow(), **kwargs)


class ThreadWorkers:
    """Service calls in threads of this process, on the app's own engine."""

    def __init__(self, focal: App, *, threads: int = 1) -> None:
        self.focal = focal
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="focal-bot")

    async def start(self) -> None:
        pass

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401
        loop = asyncio.get_running_loop()
        call = functools.partial(_with_uow, self.focal, fn, args, kwargs)
        return await loop.run_in_executor(self.executor, call)

    async def close(self) -> None:
        await asyncio.to_thread(self.executor.shutdown)


# ------------------------------------------------------------ in the workers

#: The worker process's application, built once by ``_start_worker`` (one per process), or
#: why it could not be built (a database URL that cannot be opened, a driver missing).
_worker_app: App | Exception | None = None


#: ``prctl(PR_SET_PDEATHSIG, ...)``: a signal the kernel sends a process when its parent dies.
_PR_SET_PDEATHSIG = 1
#: The signal a worker gets when the app process dies without stopping it (SIGKILL, the
#: out-of-memory killer): SIGTERM is ignored here, since it is the app's to act on.
_ORPHANED = signal.SIGUSR1
_busy = False  # a call is under way
_orphaned = False  # the app process is gone: end once the call under way has finished


def _on_orphaned(_signum: int, _frame: object) -> None:
    global _orphaned  # noqa: PLW0603 - the worker process's own state
    if not _busy:
        os._exit(0)
    _orphaned = True  # the call under way commits (or not) as it would have; then the worker ends


def _die_with_parent(parent: int) -> None:
    """On Linux, end this worker when the app process dies, however it dies: nothing of a
    killed ``focal serve`` is left holding database connections."""
    if not sys.platform.startswith("linux"):
        return
    signal.signal(_ORPHANED, _on_orphaned)
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, _ORPHANED, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(0)


def _start_worker(settings: Settings, niceness: int, parent: int) -> None:
    """A worker process's start: its own engine; Ctrl-C and SIGTERM are for the app process,
    which finishes the work it acknowledged and then stops its workers."""
    global _worker_app  # noqa: PLW0603 - one application per worker process
    from config.wiring import build_app  # noqa: PLC0415 - the worker's own import

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    with contextlib.suppress(OSError):
        os.nice(niceness)
    try:
        _worker_app = build_app(settings)
    except Exception as error:  # noqa: BLE001 - kept, and said on every call (a pool whose
        _worker_app = error  # initializer raises is broken for good: nothing would be said)
    else:  # its connections closed when the pool stops it (the server sees a goodbye)
        multiprocessing.util.Finalize(None, _worker_app.close, exitpriority=10)


def _app() -> App:
    if isinstance(_worker_app, Exception):
        raise DatabaseUnavailableError(f"cannot open the database: {_worker_app}"[:500])
    if _worker_app is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("the worker process was not started")
    return _worker_app


def _in_worker(fn: Callable[..., T], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> T:
    global _busy  # noqa: PLW0603 - the worker process's own state
    focal = _app()
    _busy = True
    try:
        return _with_uow(focal, fn, args, kwargs)
    except DATABASE_DOWN as error:
        raise DatabaseUnavailableError(f"{type(error).__name__}: {error}"[:500]) from None
    finally:
        _busy = False
        if _orphaned:  # nobody is left to take the answer
            os._exit(0)


def _ready() -> int:
    """A first call: the worker is up and its database answers (the connection pooled)."""
    focal = _app()
    try:
        with focal.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DATABASE_DOWN as error:
        raise DatabaseUnavailableError(f"{type(error).__name__}: {error}"[:500]) from None
    return os.getpid()


class ProcessWorkers:
    """Service calls in ``processes`` worker processes (spawned: nothing of this process's
    threads or event loop is copied), each with its own engine built from ``settings``."""

    def __init__(
        self, settings: Settings, *, processes: int = 1, niceness: int = WORKER_NICENESS
    ) -> None:
        self.settings = settings
        self.processes = processes
        self.niceness = niceness
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.settings, self.niceness, os.getpid()),
            )
        return self._pool

    async def start(self) -> None:
        """Start every worker process and wait until each has reached the database (a failure
        is logged, not raised: the app serves, and says the database is down when it is)."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        ready = [loop.run_in_executor(pool, _ready) for _ in range(self.processes)]
        for outcome in await asyncio.gather(*ready, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.warning("a Slack worker process could not reach the database: %s", outcome)

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401
        loop = asyncio.get_running_loop()
        pool = self._executor()
        try:
            return await loop.run_in_executor(pool, _in_worker, fn, args, kwargs)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the calls it had are lost, not their
            # commits. Later calls get a new pool.
            log.exception("a Slack worker process died; starting new ones")
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
