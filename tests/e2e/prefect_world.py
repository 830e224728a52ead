"""A real Prefect server for the end-to-end tests, and ``focal serve`` run against it.

One ``prefect server start`` serves the whole session (``tests/e2e/conftest.py``): it takes
ten seconds or more to start. Its scheduler service is off: the tests start every flow run
they want through the API, so no run of a schedule lands in the middle of one. Between
tests every deployment, flow run and work pool is deleted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.e2e.test_serve import focal, free_port, health

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
#: What the test server runs with, besides its own home and SQLite.
SERVER_ENV = {
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",  # runs come from the tests only
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
#: Flow runs started by tests emit one heartbeat when they start and none after (Prefect 3.8
#: cannot turn them off from the environment: the setting takes no None there).
QUIET_RUNS = {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "86400"}
#: The most the tests ask of the API at once.
PAGE = 200


@contextlib.contextmanager
def prefect_settings(api: str) -> Iterator[Any]:
    """A Prefect client for the server at ``api``."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 - slow import
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as c:
        yield c


def forget_everything(api: str) -> None:
    """Delete every deployment, flow run and work pool the last test left on the server.
    (Prefect 3.8.8's client sends null for a limit or sort left out, which its server
    refuses: every one is given.)"""
    from prefect.client.schemas.sorting import DeploymentSort, FlowRunSort  # noqa: PLC0415

    with prefect_settings(api) as client:
        while deployments := client.read_deployments(limit=PAGE, sort=DeploymentSort.NAME_ASC):
            for deployment in deployments:
                client.delete_deployment(deployment.id)
        while runs := client.read_flow_runs(limit=PAGE, sort=FlowRunSort.ID_DESC):
            for run in runs:
                client.delete_flow_run(run.id)
        for pool in client.read_work_pools(limit=PAGE):
            if not pool.name.startswith("default"):
                client.delete_work_pool(pool.name)


def start_runs(api: str, name: str, count: int, **parameters: object) -> list[Any]:
    """``count`` runs of deployment ``name`` created at once through the API; returns them
    (not waiting). Waits up to a minute for the deployment to exist."""
    from prefect.deployments import run_deployment  # noqa: PLC0415
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    with temporary_settings(updates={PREFECT_API_URL: api}):
        until = time.monotonic() + 60
        while True:  # the deployment exists once focal serve's runner has registered it
            try:
                return [
                    run_deployment(name, parameters=parameters, timeout=0) for _ in range(count)
                ]
            except Exception:
                if time.monotonic() > until:
                    raise
                time.sleep(0.5)


def wait_for_runs(api: str, ids: list[Any], timeout: float) -> list[Any]:
    """The flow runs, once each is in a final state."""
    until = time.monotonic() + timeout
    with prefect_settings(api) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            assert time.monotonic() < until, [r.state for r in runs]
            time.sleep(0.5)


# ------------------------------------------------------------------ processes


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid``, at any depth (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Serve:
    """A running ``focal serve``; its output goes to ``log``."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM, as an init system stops it; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_all()
            raise

    def kill_all(self) -> list[int]:
        """SIGKILL to ``focal serve`` and every process it started, as a power cut (or an
        init system's kill of the whole service) ends them; returns their pids."""
        pids = [self.process.pid, *descendants(self.process.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        return pids


@contextlib.contextmanager
def serving(
    directory: Path, env: dict[str, str], *args: str, log: str = "serve.log"
) -> Iterator[Serve]:
    """``focal serve ARGS`` in ``directory`` once ``/healthz`` answers; stopped (SIGTERM)
    afterwards unless the test ended it."""
    port = free_port()
    path = directory / log
    with path.open("w") as out:
        process = subprocess.Popen(
            focal("serve", "--port", str(port), *args),
            env=env,
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    serve = Serve(process, port, path)
    try:
        until = time.monotonic() + 180
        while health(port) is None:
            assert process.poll() is None, serve.output()
            assert time.monotonic() < until, "focal serve did not start"
            time.sleep(0.2)
        yield serve
    finally:
        if process.poll() is None:
            serve.stop()


def serve_env(api: str, directory: Path, **settings: str) -> dict[str, str]:
    """The environment of a process that uses the Prefect server at ``api`` (``focal serve``,
    a worker, the ``prefect`` command): a Prefect home in ``directory``, runs picked up within
    a second, Prefect's INFO lines (what an operator sees), and ``settings``: FOCAL_*,
    SLACK_*, PREFECT_* (none of the test process's own FOCAL_* or SLACK_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOCAL_", "SLACK_"))}
    return (
        env
        | QUIET_RUNS
        | {
            "PREFECT_API_URL": api,
            "PREFECT_HOME": str(directory / "prefect-home"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
        | settings
    )
