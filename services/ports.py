"""The ports services depend on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from datetime import datetime
    from types import TracebackType

    from core.notices import Digest, ReminderMessage, ReviewNotice
    from db.digests import DigestRepository
    from db.feeds import FeedRepository
    from db.flow_runs import FlowRunRepository
    from db.imports import ImportRepository
    from db.reminders import ReminderRepository
    from db.repositories import (
        AssignmentRepository,
        AuditRepository,
        CalendarRepository,
        RosterRepository,
    )
    from db.submissions import SubmissionRepository


class UnitOfWork(Protocol):
    roster: RosterRepository
    calendar: CalendarRepository
    assignments: AssignmentRepository
    audit: AuditRepository
    reminders: ReminderRepository
    digests: DigestRepository
    submissions: SubmissionRepository
    imports: ImportRepository
    feeds: FeedRepository
    flow_runs: FlowRunRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def flush(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a message landed: Slack's channel and ``ts`` (or the outbox's).

    ``address``: where later messages to the same person can go without a look-up (a Slack
    DM channel), remembered with the person; None when there is nothing worth remembering.
    """

    channel: str
    ts: str
    address: str | None = field(default=None, compare=False)  # a hint, not where it landed


class DeliveryFailedError(Exception):
    """Nothing was posted. ``permanent``: trying again will not help (no such user...)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class DeliveryUncertainError(Exception):
    """The message may or may not have been posted (the connection went away mid-call)."""


class Notifier(Protocol):
    """Sends messages to people; the Slack and console edges implement it.

    ``send`` raises ``DeliveryFailedError`` when nothing was posted and
    ``DeliveryUncertainError`` when it cannot tell. ``find_sent`` looks in the destination's
    recent history (since ``since``) for messages carrying the message's keys as metadata,
    and returns the key -> delivery of those it finds.
    """

    def send(self, message: ReminderMessage | Digest | ReviewNotice) -> Delivery: ...

    def find_sent(
        self, message: ReminderMessage | Digest | ReviewNotice, *, since: datetime
    ) -> dict[str, Delivery]: ...
