"""Recording flow runs, and reading back when each flow last ran and last did its job.

A run is recorded when it starts (``running``) and again when it ends. A run whose process
died without a word stays ``running`` until the next run of the same flow notices: at once
when it ran on this machine and its process is gone, else after ``STALE_AFTER``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from core.runs import RunOutcome, one_line
from db.flow_runs import RUNS_KEPT

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from core.runs import FlowHealth, FlowRun
    from services.ports import UnitOfWork

#: A run still "running" this long after its start is taken for dead (no flow runs this long:
#: ``focal serve`` cancels runs after ten minutes when it stops).
STALE_AFTER = timedelta(hours=6)


def _abandoned(run: FlowRun) -> str:
    return (
        "abandoned: its process ended before the run did "
        f"(started {run.started_at:%Y-%m-%d %H:%M} UTC on {run.runner or 'an unknown host'})"
    )


def start_flow_run(
    flow: str,
    *,
    uow: UnitOfWork,
    now: datetime,
    runner: str | None,
    prefect_run_id: str | None = None,
    is_gone: Callable[[str], bool] = lambda _runner: False,
) -> int:
    """Record that ``flow`` starts; end earlier runs of it that are certainly dead, and forget
    runs older than ``RUNS_KEPT`` (its last success is always kept). Returns the run's id."""
    with uow:
        uow.flow_runs.abandon(
            flow, at=now, started_before=now - STALE_AFTER, is_gone=is_gone, summary=_abandoned
        )
        uow.flow_runs.prune(flow, before=now - RUNS_KEPT)
        run_id = uow.flow_runs.start(flow, at=now, runner=runner, prefect_run_id=prefect_run_id)
        uow.commit()
    return run_id


def finish_flow_run(
    run_id: int, *, uow: UnitOfWork, now: datetime, outcome: RunOutcome, summary: str
) -> bool:
    """Record how run ``run_id`` ended; False when it had already been ended (abandoned)."""
    if outcome is RunOutcome.RUNNING:
        raise ValueError("a run ends succeeded, partial or failed")
    with uow:
        done = uow.flow_runs.finish(run_id, at=now, outcome=outcome, summary=one_line(summary))
        uow.commit()
    return done


def flow_health(flows: Sequence[str], *, uow: UnitOfWork) -> list[FlowHealth]:
    """Each flow's latest run and latest success, in the order given."""
    with uow:
        return uow.flow_runs.health(flows)
