"""The processes ``focal serve`` runs beside the HTTP app: a local Prefect server (unless
``PREFECT_API_URL`` names one) and the flow runner (``python -m flows.serving``).

Each child runs in a session of its own, so a Ctrl-C in the terminal reaches only
``focal serve``, which then stops them in order: the runner first (it finishes the runs
under way and reports them), the Prefect server last. If ``focal serve`` itself is killed
(SIGKILL, the out-of-memory killer), Linux sends each child SIGTERM (``PR_SET_PDEATHSIG``):
none is left behind to serve flows or hold the Prefect database when it starts again.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

log = logging.getLogger("focal.serve")

#: A first start migrates the server's database: it takes ten seconds or more.
SERVER_STARTUP_SECONDS = 120.0
#: The runner waits up to ten minutes for runs under way; the server stops in seconds.
RUNNER_STOP_SECONDS = 660.0
SERVER_STOP_SECONDS = 30.0


class ProcessStartError(RuntimeError):
    """A child process did not come up; the message says which and why."""


@dataclass
class Child:
    """A child process started by ``focal serve``."""

    name: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float) -> None:
        """SIGTERM, then wait; SIGKILL only when it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s: killed", self.name, timeout)
                self.process.kill()
                self.process.wait()
        log.info("%s stopped (exit status %s)", self.name, self.process.returncode)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/api/health")
        return connection.getresponse().status == http.client.OK
    except OSError:
        return False
    finally:
        connection.close()


#: ``prctl(PR_SET_PDEATHSIG, ...)``: a signal the kernel sends a process when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """For ``Popen(preexec_fn=...)`` on Linux: the child gets SIGTERM when ``focal serve``
    ends, however it ends; elsewhere None (the children then outlive a killed parent)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)

    def arrange() -> None:  # runs in the child, between fork and exec
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


def _start(name: str, argv: list[str], env: Mapping[str, str]) -> Child:
    process = subprocess.Popen(  # noqa: S603 - our own argv
        argv,
        env=dict(env),
        start_new_session=True,
        preexec_fn=_die_with_parent(os.getpid()),  # noqa: PLW1509 - only a prctl, no locks
    )
    return Child(name, process)


def start_prefect_server(
    home: Path,
    *,
    timeout: float = SERVER_STARTUP_SECONDS,
    settings: Mapping[str, str] | None = None,
) -> tuple[Child, str]:
    """``prefect server start`` on a free loopback port, its home and SQLite under ``home``
    (and any other Prefect ``settings``); returns once its health endpoint answers, with the
    API URL."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = os.environ | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    env |= settings or {}
    env.pop("PREFECT_API_URL", None)
    prefect = str(Path(sys.executable).with_name("prefect"))
    child = _start(
        "the Prefect server",
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
    )
    try:
        _wait_until_up(child, port, timeout)
    except BaseException:
        child.stop(SERVER_STOP_SECONDS)
        raise
    url = f"http://127.0.0.1:{port}/api"
    log.info("local Prefect server at %s (home %s)", url, home)
    return child, url


def _wait_until_up(child: Child, port: int, timeout: float) -> None:
    until = time.monotonic() + timeout
    while not _answers(port):
        if child.process.poll() is not None:
            status = child.process.returncode
            raise ProcessStartError(f"the Prefect server stopped while starting (status {status})")
        if time.monotonic() > until:
            raise ProcessStartError(f"the Prefect server did not answer within {timeout:.0f} s")
        time.sleep(0.25)


def start_flow_runner(api_url: str, home: Path | None) -> Child:
    """The flows served on their schedules to the Prefect server at ``api_url``."""
    env = os.environ | {"PREFECT_API_URL": api_url}
    if home is not None:
        env["PREFECT_HOME"] = str(home)
    return _start("the flow runner", [sys.executable, "-m", "flows.serving"], env)


def _watch(runner: Child, stopping: threading.Event) -> None:
    """A runner that ends by itself stops ``focal serve``: no half-served office."""
    status = runner.process.wait()
    if not stopping.is_set():
        log.error("the flow runner stopped (exit status %s): stopping", status)
        os.kill(os.getpid(), signal.SIGTERM)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops ``focal serve`` the way Ctrl-C does: with a ``KeyboardInterrupt`` that
    unwinds through every ``finally``, so the children are stopped. (uvicorn catches the
    signal, shuts down, then raises it again: by then this handler is back in place.)"""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def flows_served(home: Path) -> Iterator[str]:
    """Serve the flows (and, without ``PREFECT_API_URL``, a local Prefect server) for as long
    as the block runs; stop them in order afterwards, whatever happened."""
    server: Child | None = None
    api_url = os.environ.get("PREFECT_API_URL")
    if api_url:
        log.info("serving the flows to the Prefect server at %s", api_url)
    else:
        server, api_url = start_prefect_server(home)
    runner: Child | None = None
    stopping = threading.Event()
    try:
        runner = start_flow_runner(api_url, None if server is None else home)
        threading.Thread(target=_watch, args=(runner, stopping), daemon=True).start()
        yield api_url
    finally:
        stopping.set()
        if runner is not None:
            runner.stop(RUNNER_STOP_SECONDS)
        if server is not None:
            server.stop(SERVER_STOP_SECONDS)
