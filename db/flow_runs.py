"""Flow runs in the store: one row a run, kept ``RUNS_KEPT``; the latest read cheaply.

``/healthz`` is polled, so ``health`` reads two rows a flow, each the first of a backward scan
of an index (``flow, started_at, id`` and ``flow, outcome, finished_at, id``: the order asked,
ties included, so nothing is sorted), however many runs are kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from core.runs import FlowHealth, FlowRun, RunOutcome
from db.models import FlowRunRow

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session

#: How long runs are kept (``send-reminders`` alone makes 1,440 a day).
RUNS_KEPT = timedelta(days=30)


def _run(row: FlowRunRow) -> FlowRun:
    return FlowRun(
        flow=row.flow,
        started_at=row.started_at,
        outcome=RunOutcome(row.outcome),
        summary=row.summary,
        finished_at=row.finished_at,
        runner=row.runner,
        prefect_run_id=row.prefect_run_id,
    )


class FlowRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def start(
        self, flow: str, *, at: datetime, runner: str | None, prefect_run_id: str | None
    ) -> int:
        row = FlowRunRow(
            flow=flow,
            started_at=at,
            outcome=RunOutcome.RUNNING.value,
            summary="",
            runner=runner,
            prefect_run_id=prefect_run_id,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def finish(self, run_id: int, *, at: datetime, outcome: RunOutcome, summary: str) -> bool:
        """End a run still recorded as running; False when it was not (already ended)."""
        done = self.session.execute(
            update(FlowRunRow)
            .where(FlowRunRow.id == run_id, FlowRunRow.outcome == RunOutcome.RUNNING.value)
            .values(finished_at=at, outcome=outcome.value, summary=summary)
        )
        return bool(getattr(done, "rowcount", 0))

    def abandon(
        self,
        flow: str,
        *,
        at: datetime,
        started_before: datetime,
        is_gone: Callable[[str], bool],
        summary: Callable[[FlowRun], str],
    ) -> list[FlowRun]:
        """Runs of ``flow`` still recorded as running whose process is certainly gone, or that
        started before ``started_before``: recorded as failed, with ``summary(run)``."""
        rows = self.session.scalars(
            select(FlowRunRow)
            .where(FlowRunRow.flow == flow, FlowRunRow.outcome == RunOutcome.RUNNING.value)
            .with_for_update(skip_locked=True)
        ).all()
        ended = []
        for row in rows:
            if row.started_at < started_before or (row.runner and is_gone(row.runner)):
                row.outcome = RunOutcome.FAILED.value
                row.finished_at = at
                row.summary = summary(_run(row))
                ended.append(_run(row))
        return ended

    def prune(self, flow: str, *, before: datetime) -> int:
        """Forget runs of ``flow`` started before ``before``, except its last success."""
        keep = self._last_success_id(flow)
        query = delete(FlowRunRow).where(
            FlowRunRow.flow == flow,
            FlowRunRow.started_at < before,
            FlowRunRow.outcome != RunOutcome.RUNNING.value,
        )
        if keep is not None:
            query = query.where(FlowRunRow.id != keep)
        return int(getattr(self.session.execute(query), "rowcount", 0))

    def _last_success_id(self, flow: str) -> int | None:
        return self.session.scalar(
            select(FlowRunRow.id)
            .where(FlowRunRow.flow == flow, FlowRunRow.outcome == RunOutcome.SUCCEEDED.value)
            .order_by(FlowRunRow.finished_at.desc(), FlowRunRow.id.desc())
            .limit(1)
        )

    def health(self, flows: Sequence[str]) -> list[FlowHealth]:
        """Each flow's latest run and latest success (None: never)."""
        found = []
        for flow in flows:
            last = self.session.scalar(
                select(FlowRunRow)
                .where(FlowRunRow.flow == flow)
                .order_by(FlowRunRow.started_at.desc(), FlowRunRow.id.desc())
                .limit(1)
            )
            success = None
            if last is not None and last.outcome == RunOutcome.SUCCEEDED.value:
                success = last
            elif last is not None:
                success = self.session.scalar(
                    select(FlowRunRow)
                    .where(
                        FlowRunRow.flow == flow,
                        FlowRunRow.outcome == RunOutcome.SUCCEEDED.value,
                    )
                    .order_by(FlowRunRow.finished_at.desc(), FlowRunRow.id.desc())
                    .limit(1)
                )
            found.append(
                FlowHealth(
                    flow=flow,
                    last_run=None if last is None else _run(last),
                    last_success=None if success is None else _run(success),
                )
            )
        return found

    def recent(self, *, limit: int) -> list[FlowRun]:
        rows = self.session.scalars(
            select(FlowRunRow)
            .order_by(FlowRunRow.started_at.desc(), FlowRunRow.id.desc())
            .limit(limit)
        )
        return [_run(row) for row in rows]
