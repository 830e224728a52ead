"""What a feed says about each deadline, and when that changes. Pure: time is an argument.

A deadline's state in a feed (due, overdue, submitted, not applicable) follows from the
assignments behind it and the time: for a person, their own assignment; for a group, those of
its members. ``fingerprint`` sums up what an event's SEQUENCE follows (its time and status), and
``next_sequence`` says what the SEQUENCE becomes when the fingerprint changes: never lower.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from core.feeds import DeadlineState
from core.model import SubmissionStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

_UID_NAMESPACE = uuid.UUID("0f4d8a5e-93c1-4b7e-8f57-2a6e1d3c9b40")


def deadline_uid(code: str) -> str:
    """A deadline's UID in every feed: from its code, the same on every installation."""
    return f"{uuid.uuid5(_UID_NAMESPACE, 'deadline:' + code)}@focal"


@dataclass(frozen=True, slots=True)
class Owed:
    """One assignment behind a deadline event: its latest version and "not applicable"."""

    version: int  # 0: nothing submitted
    status: SubmissionStatus | None
    submitted_at: datetime | None
    not_applicable_at: datetime | None

    @property
    def settled(self) -> bool:
        """Submitted (and not returned for changes), or declared not applicable."""
        if self.not_applicable_at is not None:
            return True
        return self.version > 0 and self.status is not SubmissionStatus.RETURNED


def deadline_state(
    owed: Sequence[Owed], *, due_at: datetime, meeting_cancelled: bool, now: datetime
) -> DeadlineState:
    """The state of a deadline for the people in ``owed`` (one for a person's feed).

    Not applicable: the meeting is cancelled, or every one declared it so. Submitted: every
    one submitted or declared it not applicable (an input returned for changes is owed again).
    Otherwise due, or overdue once the due instant has passed.
    """
    if meeting_cancelled or (owed and all(o.not_applicable_at is not None for o in owed)):
        return DeadlineState.NOT_APPLICABLE
    if owed and all(o.settled for o in owed):
        return DeadlineState.SUBMITTED
    return DeadlineState.OVERDUE if due_at < now else DeadlineState.DUE


def state_changed_at(
    owed: Iterable[Owed], *, state: DeadlineState, due_at: datetime, updated_at: datetime
) -> datetime:
    """When what the event says last changed: the deadline's own change, the latest version or
    declaration behind it, or the due instant for an overdue one."""
    times = [updated_at]
    for o in owed:
        times += [t for t in (o.submitted_at, o.not_applicable_at) if t is not None]
    if state is DeadlineState.OVERDUE:
        times.append(due_at)
    return max(times)


def fingerprint(*parts: object) -> str:
    """A short digest of the values an event's SEQUENCE follows."""
    text = "\x1f".join(p.isoformat() if isinstance(p, datetime | date) else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def next_sequence(stored: int | None, *, base: int, changed: bool) -> int:
    """An event's SEQUENCE: ``base`` (the store's own count of moves) when first seen, one more
    than the last served when its fingerprint changed, and never lower than either."""
    if stored is None:
        return base
    return max(stored + 1 if changed else stored, base)


def valid_until(due: Iterable[tuple[datetime, DeadlineState]], *, now: datetime) -> datetime | None:
    """The next instant at which a due deadline turns overdue (the feed changes by itself)."""
    coming = [at for at, state in due if state is DeadlineState.DUE and at >= now]
    return min(coming) if coming else None


def whole_seconds(at: datetime) -> datetime:
    """``at`` in UTC without its fraction of a second (what DTSTAMP and HTTP dates carry)."""
    return at.astimezone(UTC).replace(microsecond=0)
