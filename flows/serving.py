"""Serve the three flows on their schedules to a Prefect server, and stop gently.

``python -m flows.serving`` is what ``focal serve`` starts beside the HTTP app: Prefect's
own runner, which creates the deployments (``FLOW/focal``) with their schedules, polls the
server for due runs and runs each in a process of its own. On SIGTERM or SIGINT it takes no
new run, waits for the runs under way to finish (a delivery batch is never cut in half),
then stops; the schedules are paused until the next start, so no backlog piles up. When
``focal serve`` was killed, its local Prefect server stops at the same moment: the runs under
way still finish their work (the database records it), only their final state may not reach
Prefect, and the runner ends without waiting for a server that is gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from prefect.runner import Runner
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from config.settings import Settings
from flows.calendar import sync_calendar
from flows.reminders import send_digest_flow, send_reminders
from flows.schedules import DEPLOYMENT, flow_schedules

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

log = logging.getLogger("focal.serve")

#: How long a stop waits for runs under way before it cancels them.
DRAIN_SECONDS = 600.0
#: How long the last calls to the Prefect server may take when stopping.
STOP_SECONDS = 15.0
#: Flow runs at once in one runner (two sends may overlap when one runs long).
RUN_LIMIT = 4
FLOWS: dict[str, Any] = {
    "sync-calendar": sync_calendar,
    "send-reminders": send_reminders,
    "send-digest": send_digest_flow,
}


def build_deployments(settings: Settings) -> list[RunnerDeployment]:
    """One deployment per flow, each with its schedule and the schedule's timezone."""
    return [
        FLOWS[s.flow].to_deployment(
            name=DEPLOYMENT,
            schedules=[Cron(s.cron, timezone=s.timezone)],
            description=s.description,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for s in flow_schedules(settings.timezone)
    ]


async def _drain(runner: Runner, timeout: float) -> int:  # noqa: ASYNC109 - a bound, not a cancel
    """Stop taking runs; wait up to ``timeout`` seconds for those under way. Returns how many
    were still running when the wait ended."""
    runner.stopping = True  # take no new run from here on (the runner and its poller)
    if (poller := getattr(runner, "_scheduled_run_poller", None)) is not None:
        poller.stopping = True
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while (busy := _runs_under_way(runner)) and loop.time() < until:  # noqa: ASYNC110 - no event to wait on
        await asyncio.sleep(0.2)
    return busy


def _runs_under_way(runner: Runner) -> int:
    """Flow runs holding one of the runner's slots: from the moment a run is taken until its
    process has ended and its final state is reported. The runner has no public count."""
    limiter = runner._limiter  # noqa: SLF001
    return int(limiter.borrowed_tokens) if limiter is not None else 0


async def serve_flows(
    settings: Settings,
    deployments: list[RunnerDeployment],
    *,
    drain_seconds: float = DRAIN_SECONDS,
) -> bool:
    """Run the flows on their schedules until SIGTERM or SIGINT. Returns whether the stop
    was clean (the runner told the Prefect server it stopped)."""
    runner = Runner(name="focal", pause_on_shutdown=True, limit=RUN_LIMIT)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    started = asyncio.create_task(runner.start())
    await asyncio.sleep(0)  # the runner installs its own SIGTERM handler first: ours replace it
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    schedules = flow_schedules(settings.timezone)
    names = ", ".join(f"{s.flow} ({s.cron} {s.timezone})" for s in schedules)
    log.info("serving the flows on their schedules: %s", names)
    done, _ = await asyncio.wait(
        [started, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if started in done:  # the runner ended by itself: let its error show
        started.result()
        return True
    log.info("stopping: no new flow runs; waiting for the runs under way")
    left = await _drain(runner, drain_seconds)
    if left:
        log.warning("%d flow runs still running after %.0f s: cancelling them", left, drain_seconds)
    try:  # pausing the schedules needs the Prefect server; a local one may be gone already
        await asyncio.wait_for(runner.astop(), STOP_SECONDS)
        await asyncio.wait_for(started, STOP_SECONDS)
    except Exception as error:  # noqa: BLE001 - said, then the process ends anyway
        log.warning(
            "flows stopped; the Prefect server did not answer (%s: %s), so the schedules "
            "were not paused",
            type(error).__name__,
            error,
        )
        return False
    log.info("flows stopped")
    return True


def main() -> None:
    # Prefect configured logging on import (the root logger at WARNING): ours says what it does
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    focal = logging.getLogger("focal")
    focal.addHandler(handler)
    focal.setLevel(logging.INFO)
    focal.propagate = False
    try:
        settings = Settings()
        clean = asyncio.run(serve_flows(settings, build_deployments(settings)))
    except KeyboardInterrupt:
        sys.exit(0)
    if not clean:  # Prefect's threads may still be retrying a server that is gone: end here
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
