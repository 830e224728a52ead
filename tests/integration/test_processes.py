"""What ``focal serve`` starts beside the HTTP app does not outlive it, however it ends."""

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


def test_a_child_is_told_to_stop_when_focal_serve_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not _gone(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        until = time.monotonic() + 10
        while not _gone(child):
            assert time.monotonic() < until, "the child outlived focal serve"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.communicate()
