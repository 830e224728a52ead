"""What ``focal status`` without a code shows: the next deadlines with how many inputs are in,
and when each flow last ran and last did its job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from core.runs import FlowHealth
    from db.repositories import DeadlineRecord
    from services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class DeadlineCounts:
    """Where one deadline stands: its active assignments, and how many are settled."""

    record: DeadlineRecord
    assigned: int
    submitted: int
    not_applicable: int

    @property
    def missing(self) -> int:
        return self.assigned - self.submitted - self.not_applicable


@dataclass(frozen=True, slots=True)
class Overview:
    deadlines: tuple[DeadlineCounts, ...]  # the next ones, soonest first
    more: int  # deadlines still to come beyond those
    flows: tuple[FlowHealth, ...]


def office_overview(
    *, uow: UnitOfWork, now: datetime, flows: Sequence[str], limit: int = 10
) -> Overview:
    """The ``limit`` deadlines due next (from ``now`` on), counted; each flow's last runs."""
    with uow:
        coming = sorted(
            (
                stored.value
                for stored in uow.calendar.deadlines().values()
                if not stored.removed and stored.value.due_at >= now
            ),
            key=lambda record: (record.due_at, record.deadline.code),
        )
        counted = []
        for record in coming[:limit]:
            lines = [line for line in uow.assignments.status(record.deadline.code) if line.active]
            excused = sum(1 for line in lines if line.not_applicable_reason)
            submitted = sum(1 for line in lines if line.versions and not line.not_applicable_reason)
            counted.append(DeadlineCounts(record, len(lines), submitted, excused))
        health = uow.flow_runs.health(flows)
    return Overview(tuple(counted), max(0, len(coming) - limit), tuple(health))
