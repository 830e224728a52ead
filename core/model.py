"""The vocabulary of SPEC.md as frozen dataclasses.

Local wall-clock times are naive ``datetime`` values kept beside the IANA zone name
they belong to; every instant is an aware UTC ``datetime``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class MeetingKind(enum.StrEnum):
    SUMMIT = "summit"
    MINISTERIAL = "ministerial"
    SENIOR_OFFICIALS = "senior-officials"
    WORKING_GROUP = "working-group"
    DIALOGUE = "dialogue"
    CONSULTATION = "consultation"
    WORKSHOP = "workshop"
    OTHER = "other"


class MeetingStatus(enum.StrEnum):
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"


class DeadlineKind(enum.StrEnum):
    SUMMIT_INPUT = "summit-input"
    WORKPLAN = "workplan"
    REPORT = "report"
    BRIEFING = "briefing"
    OTHER = "other"


class Role(enum.StrEnum):
    CHAIR = "chair"
    FOCAL = "focal"
    ALTERNATE = "alternate"
    MEMBER = "member"


class Language(enum.StrEnum):
    EN = "en"
    VI = "vi"


class SubmissionStatus(enum.StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    RETURNED = "returned"


class ReminderState(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


# ------------------------------------------------------------------ roster


@dataclass(frozen=True, slots=True)
class Person:
    handle: str
    name: str
    email: str
    timezone: str
    language: Language
    country: str
    organization: str | None = None
    slack_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    person: str
    role: Role


@dataclass(frozen=True, slots=True)
class Group:
    code: str
    name: str
    members: tuple[Membership, ...] = ()

    def handles_with_role(self, role: Role) -> tuple[str, ...]:
        return tuple(m.person for m in self.members if m.role is role)


@dataclass(frozen=True, slots=True)
class Roster:
    people: Mapping[str, Person]
    groups: Mapping[str, Group]
    coordinators: tuple[str, ...] = ()


# ---------------------------------------------------------------- calendar


@dataclass(frozen=True, slots=True)
class Meeting:
    """A meeting as the office describes it.

    ``start`` and ``end`` are naive local wall-clock times in ``timezone``. For an
    all-day meeting they are midnights and ``end`` is the *last* day (inclusive).
    """

    code: str
    title: str
    kind: MeetingKind
    start: datetime
    end: datetime
    timezone: str
    all_day: bool = False
    titles: Mapping[str, str] = field(default_factory=dict)
    venue: str | None = None
    host_country: str | None = None
    groups: tuple[str, ...] = ()
    status: MeetingStatus = MeetingStatus.CONFIRMED
    notes: str | None = None

    @property
    def start_date(self) -> date:
        return self.start.date()

    @property
    def end_date(self) -> date:
        return self.end.date()

    def end_exclusive_date(self) -> date:
        """The day after the last day: the form RFC 5545 all-day events use."""
        return self.end.date() + timedelta(days=1)

    def title_in(self, language: str) -> str:
        return self.titles.get(language, self.title)


@dataclass(frozen=True, slots=True)
class AbsoluteDue:
    """A fixed local due time. ``date_only`` keeps how it was written (a bare date means 17:00)."""

    at: datetime
    date_only: bool = False

    def __str__(self) -> str:
        if self.date_only:
            return self.at.date().isoformat()
        return self.at.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True, slots=True)
class RelativeDue:
    """``days`` before the meeting's start date (negative), counted in calendar or working days."""

    days: int
    working_days: bool = False

    def __str__(self) -> str:
        return f"{self.days:+d}{'wd' if self.working_days else 'd'}".replace("+0", "0")


DueRule = AbsoluteDue | RelativeDue


@dataclass(frozen=True, slots=True)
class Deadline:
    code: str
    title: str
    kind: DeadlineKind
    due: DueRule
    meeting: str | None = None
    timezone: str | None = None
    assign: tuple[str, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)
    notes: str | None = None

    def title_in(self, language: str) -> str:
        return self.titles.get(language, self.title)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One person owes one deadline; ``via`` names the groups it came through (empty: by handle)."""

    deadline: str
    person: str
    via: tuple[str, ...] = ()
