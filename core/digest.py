"""The coordinators' digest (SPEC.md, "Reminders"): only what needs action. Pure.

Inputs due within the window, with how many are in and who is missing, and everything
overdue that still matters: overdue while its meeting is still to come or under way (or,
without a meeting, for ``OVERDUE_WITHOUT_MEETING`` after the due date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.notices import Digest, DigestLine

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from core.model import Language
    from core.notices import Titled

OVERDUE_WITHOUT_MEETING = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class DeadlineProgress:
    """Where one deadline stands."""

    deadline: Titled
    meeting: Titled | None
    due_at: datetime
    meeting_ends_at: datetime | None
    cancelled: bool
    assigned: int  # active assignments
    submitted: int
    not_applicable: int
    missing: tuple[str, ...]  # names of those who owe it still


def _line(p: DeadlineProgress) -> DigestLine:
    return DigestLine(
        deadline=p.deadline,
        meeting=p.meeting,
        due_at=p.due_at,
        assigned=p.assigned,
        submitted=p.submitted,
        not_applicable=p.not_applicable,
        missing=p.missing,
    )


def _still_matters(p: DeadlineProgress, now: datetime) -> bool:
    if p.meeting_ends_at is not None:
        return p.meeting_ends_at >= now
    return now - p.due_at <= OVERDUE_WITHOUT_MEETING


def build_digest(
    progress: Iterable[DeadlineProgress],
    *,
    now: datetime,
    timezone: str,
    language: Language,
    window_days: int = 14,
) -> Digest:
    due_soon: list[DeadlineProgress] = []
    overdue: list[DeadlineProgress] = []
    horizon = now + timedelta(days=window_days)
    for p in progress:
        if p.cancelled or p.assigned == 0:
            continue
        if now < p.due_at <= horizon:
            due_soon.append(p)
        elif p.due_at <= now and p.missing and _still_matters(p, now):
            overdue.append(p)

    def order(p: DeadlineProgress) -> tuple[datetime, str]:
        return (p.due_at, p.deadline.code)

    return Digest(
        day=now.astimezone(ZoneInfo(timezone)).date(),
        timezone=timezone,
        language=language,
        due_soon=tuple(_line(p) for p in sorted(due_soon, key=order)),
        overdue=tuple(_line(p) for p in sorted(overdue, key=order)),
        now=now,
        window_days=window_days,
    )
