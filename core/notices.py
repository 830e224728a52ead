"""What Focal tells people, before it is rendered: reminders, the digest, reviews. Pure.

A ``ReminderMessage`` is everything one recipient is told in one run (SPEC.md: at most one
reminder message per person per run). A ``Digest`` is the coordinators' morning list. A
``ReviewNotice`` tells a submitter that a version was accepted or returned. The Slack edge
renders them as Block Kit; the console edge as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

from core.reminders import ReminderKind

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime

    from core.model import Language, Person

#: Slack message metadata ``event_type`` values: how a sent message is found again.
REMINDER_EVENT = "focal_reminders"
DIGEST_EVENT = "focal_digest"
REVIEW_EVENT = "focal_review"


@dataclass(frozen=True, slots=True)
class Titled:
    """A code with its default title and its translations."""

    code: str
    title: str
    titles: Mapping[str, str] = field(default_factory=dict)

    def title_in(self, language: str) -> str:
        return self.titles.get(language, self.title)


@dataclass(frozen=True, slots=True)
class ReminderLine:
    """One input in a reminder message."""

    key: str  # the reminder's stable key
    kind: ReminderKind
    deadline: Titled
    meeting: Titled | None
    person: str  # who owes the input (the recipient, or someone a chair is told about)
    person_name: str
    due_at: datetime  # aware UTC

    @property
    def about_someone_else(self) -> bool:
        return self.kind is ReminderKind.ESCALATION


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    recipient: Person
    lines: tuple[ReminderLine, ...]
    now: datetime  # for "how long is left"
    covered: tuple[str, ...] = ()  # keys of earlier steps this message stands in for
    # where the recipient's last message landed (the edge's own address, e.g. a Slack DM
    # channel), so the edge need not look them up again; None: not known
    address: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(line.key for line in self.lines) + self.covered


@dataclass(frozen=True, slots=True)
class DigestLine:
    deadline: Titled
    meeting: Titled | None
    due_at: datetime
    assigned: int
    submitted: int
    not_applicable: int
    missing: tuple[str, ...]  # names of those who still owe it

    @property
    def overdue_at(self) -> datetime:
        return self.due_at


@dataclass(frozen=True, slots=True)
class Digest:
    """What needs action, as of ``now``: inputs due soon and everything overdue."""

    day: date  # the local day it is for
    timezone: str
    language: Language
    due_soon: tuple[DigestLine, ...]
    overdue: tuple[DigestLine, ...]
    now: datetime
    window_days: int = 14

    @property
    def key(self) -> str:
        return f"digest/{self.day.isoformat()}"

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,)

    @property
    def empty(self) -> bool:
        return not (self.due_soon or self.overdue)


@dataclass(frozen=True, slots=True)
class ReviewNotice:
    """A version of an input was accepted or returned: told to whoever submitted it, and to
    the person whose input it is when someone else submitted it on their behalf."""

    recipient: Person
    deadline: Titled
    person: str  # whose input it is (the focal point)
    person_name: str
    version: int
    accepted: bool
    note: str | None
    reviewer: str | None  # the reviewer's name; None: the office (the operator)
    now: datetime  # when it was reviewed, aware UTC
    meeting: Titled | None = None
    address: str | None = None  # as ``ReminderMessage.address``

    @property
    def about_someone_else(self) -> bool:
        """The recipient submitted it for someone else."""
        return self.recipient.handle != self.person

    @property
    def key(self) -> str:
        decision = "accepted" if self.accepted else "returned"
        at = self.now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return (
            f"review/{self.deadline.code}/{self.person}/v{self.version}/{decision}"
            f"/{self.recipient.handle}/{at}"
        )

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.key,)
