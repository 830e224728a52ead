"""Every flow run recorded in the database, however it runs (a Prefect worker, ``focal serve``'s
runner, or ``focal remind`` in-process): ``with recorded(flow, app) as run: ... run.done(...)``.

The record is kept beside Prefect's own, for ``/healthz`` and ``focal status``: they read the
application's database, which every installation has, and need no Prefect server. Recording is
never the reason a run fails: when the database cannot take the record, the run goes on (and
most likely fails on the same database, which Prefect and the log then show).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from prefect.context import FlowRunContext
from prefect.logging import get_run_logger
from sqlalchemy.exc import SQLAlchemyError

from config.wiring import local_worker
from core.runs import RunOutcome, describe_error, one_line
from services.flow_runs import finish_flow_run, start_flow_run

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from config.wiring import App
    from services.delivery import Worker

log = logging.getLogger("focal.flows")

#: The longest a run waits for its scheduled time. Prefect's runner and workers take a run a
#: little before its time (10 s by default: ``prefetch_seconds``, ``--prefetch-seconds``) so
#: that its process is ready; one taken earlier than this starts at once.
MOST_EARLY = timedelta(minutes=2)


@dataclass
class RunNote:
    """What the run says of itself before it ends: one line, and whether work was left."""

    summary: str = ""
    outcome: RunOutcome = RunOutcome.SUCCEEDED

    def done(self, summary: str, *, left: str | None = None, failed: bool = False) -> None:
        """``left``: what the run could not do (the next run takes it up): partial.
        ``failed``: the run did not do its job at all."""
        self.summary = summary if left is None else f"{summary}; {left}"
        if failed:
            self.outcome = RunOutcome.FAILED
        elif left is not None:
            self.outcome = RunOutcome.PARTIAL


def seconds_early(scheduled: datetime | None, now: datetime) -> float:
    """How long before ``scheduled`` it is ``now`` (0 when it is time, or there is no schedule,
    or the run came more than ``MOST_EARLY`` early)."""
    if scheduled is None:
        return 0.0
    ahead = (scheduled - now).total_seconds()
    return ahead if 0 < ahead <= MOST_EARLY.total_seconds() else 0.0


def wait_for_schedule(
    now: Callable[[], datetime], sleep: Callable[[float], None] = time.sleep
) -> float:
    """In a flow run that started before its scheduled time, wait for that time; the seconds
    waited. The flows read the clock: a ``send-reminders`` run started 8 s before 09:00 would
    find the 09:00 reminders not yet due and leave them to the next run, a minute late."""
    context = FlowRunContext.get()
    run = None if context is None else context.flow_run
    wait = seconds_early(None if run is None else run.expected_start_time, now())
    if wait:
        _logger().info("started %.1f s before its scheduled time: waiting for it", wait)
        sleep(wait)
    return wait


def _prefect_run_id() -> str | None:
    context = FlowRunContext.get()
    return None if context is None or context.flow_run is None else str(context.flow_run.id)


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Prefect's run logger inside a flow run (its lines reach the Prefect UI), else ours."""
    if FlowRunContext.get() is not None:
        return get_run_logger()
    return log


@contextlib.contextmanager
def recorded(flow: str, app: App, *, worker: Worker | None = None) -> Iterator[RunNote]:
    """Record a run of ``flow``: started now; on the way out succeeded, partial (as ``done``
    said) or failed (an exception, recorded with its message, then raised again)."""
    worker = worker or local_worker()
    note = RunNote()
    started = time.monotonic()
    run_id: int | None = None
    try:
        run_id = start_flow_run(
            flow,
            uow=app.uow(),
            now=app.clock.now(),
            runner=worker.name,
            prefect_run_id=_prefect_run_id(),
            is_gone=worker.is_gone,
        )
    except SQLAlchemyError as error:
        log.warning("%s: the run could not be recorded: %s", flow, describe_error(error))
    try:
        yield note
    except BaseException as error:
        summary = describe_error(error)
        if isinstance(error, KeyboardInterrupt):
            summary = "interrupted (SIGTERM or Ctrl-C) before it ended"
        _logger().error("%s failed after %.1f s: %s", flow, time.monotonic() - started, summary)
        _finish(flow, app, run_id, RunOutcome.FAILED, summary)
        raise
    if note.outcome is not RunOutcome.SUCCEEDED:
        level = logging.ERROR if note.outcome is RunOutcome.FAILED else logging.WARNING
        _logger().log(
            level,
            "%s %s after %.1f s: %s",
            flow,
            note.outcome.value,
            time.monotonic() - started,
            one_line(note.summary),
        )
    _finish(flow, app, run_id, note.outcome, note.summary)


def _finish(flow: str, app: App, run_id: int | None, outcome: RunOutcome, summary: str) -> None:
    if run_id is None:
        return
    try:
        finish_flow_run(
            run_id, uow=app.uow(), now=app.clock.now(), outcome=outcome, summary=summary
        )
    except SQLAlchemyError as error:
        log.warning("%s: the run's end could not be recorded: %s", flow, describe_error(error))
