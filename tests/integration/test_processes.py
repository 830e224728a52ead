"""What ``focal serve`` starts beside the HTTP app does not outlive it, however it ends: the
Prefect server and the flow runner, and the worker processes of the /focal services."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's"
)

#: A stand-in for focal serve: starts a child the way it starts the Prefect server and the
#: flow runner, says the child's pid, then waits to be killed.
PARENT = """
import sys, time
from bots.cli.processes import _start
child = _start("a child", [sys.executable, "-c", "import time; time.sleep(120)"], {})
print(child.process.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    """``script`` in a Python of its own, with this repository importable."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def _kill_and_wait(parent: subprocess.Popen[str], child: int, what: str) -> None:
    """SIGKILL ``parent``, then wait (10 s at most) for ``child`` to be gone."""
    assert not _gone(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    until = time.monotonic() + 10
    while not _gone(child):
        assert time.monotonic() < until, f"{what} outlived its parent"
        time.sleep(0.05)


def test_a_child_is_told_to_stop_when_focal_serve_is_killed() -> None:
    parent = _start(PARENT)
    try:
        assert parent.stdout is not None
        _kill_and_wait(parent, int(parent.stdout.readline()), "the child")
    finally:
        parent.kill()
        parent.communicate()


#: A stand-in for focal serve's HTTP app: starts its /focal service workers, has one of them
#: run a call that takes a second (and then writes a file, as a commit would), says the worker's
#: pid once the call is under way, then waits to be killed.
APP = """
import asyncio, os, sys, time
from bots.slack.workers import ProcessWorkers
from config.settings import Settings
from tests.integration.test_processes import slow_write, worker_pid

async def main():
    workers = ProcessWorkers(Settings(_env_file=None, database_url=sys.argv[1]), processes=1)
    await workers.start()
    pid = await workers.call(worker_pid)
    call = asyncio.ensure_future(workers.call(slow_write, sys.argv[2]))
    await asyncio.sleep(0.3)
    print(pid, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def worker_pid(*, uow: object) -> int:
    return os.getpid()


def slow_write(path: str, *, uow: object) -> None:
    """A call that is still under way when the app dies; its end stands for a commit."""
    time.sleep(1)
    Path(path).write_text("written")


def test_a_service_worker_finishes_its_call_then_ends_when_the_app_is_killed(
    tmp_path: Path,
) -> None:
    done = tmp_path / "done"
    app = _start(APP, f"sqlite:///{tmp_path / 'focal.sqlite'}", str(done))
    worker = None
    try:
        assert app.stdout is not None
        worker = int(app.stdout.readline())
        _kill_and_wait(app, worker, "the service worker")
        assert done.read_text() == "written", "the call under way was cut short"
    finally:
        app.kill()
        if worker is not None and not _gone(worker):  # it holds the app's stdout open
            os.kill(worker, signal.SIGKILL)
        app.communicate(timeout=30)
