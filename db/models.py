"""SQLAlchemy 2 models: the tables of SPEC.md.

Every instant is ``UTCDateTime`` (aware UTC in Python, naive UTC in the database); local
wall-clock times are plain ``DateTime`` columns kept beside their IANA zone name.
Uniqueness the logic relies on is a constraint here, not a hope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.model import (
    DeadlineKind,
    Language,
    MeetingKind,
    MeetingStatus,
    ReminderState,
    Role,
    SubmissionStatus,
)
from core.runs import RunOutcome
from db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: type[Any]) -> str:
    return f"{column} IN ({', '.join(repr(str(v.value)) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


# ------------------------------------------------------------------ roster


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (CheckConstraint(_one_of("language", Language), name="language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    source: Mapped[str | None] = mapped_column(String(1000))
    # where the last message to this person landed (a Slack DM channel), and for whom: the
    # address is reused only while ``email|slack_user_id`` still reads ``reached_as``
    reached_channel: Mapped[str | None] = mapped_column(String(64))
    reached_as: Mapped[str | None] = mapped_column(String(400))
    removed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    organization: Mapped[Organization | None] = relationship(lazy="joined")


class GroupRow(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(1000))
    removed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    memberships: Mapped[list[MembershipRow]] = relationship(
        back_populates="group", cascade="all, delete-orphan", lazy="selectin"
    )


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "person_id"),
        CheckConstraint(_one_of("role", Role), name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))

    group: Mapped[GroupRow] = relationship(back_populates="memberships")
    person: Mapped[PersonRow] = relationship(lazy="joined")


class CoordinatorRow(Base):
    __tablename__ = "coordinators"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)

    person: Mapped[PersonRow] = relationship(lazy="joined")


# ---------------------------------------------------------------- calendar


class MeetingRow(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("uid", "recurrence_id"),
        CheckConstraint(_one_of("kind", MeetingKind), name="kind"),
        CheckConstraint(_one_of("status", MeetingStatus), name="status"),
        CheckConstraint("sequence >= 0", name="sequence"),
        Index("ix_meetings_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    titles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kind: Mapped[str] = mapped_column(String(32))
    all_day: Mapped[bool] = mapped_column(Boolean)
    start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    end_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue: Mapped[str | None] = mapped_column(String(500))
    host_country: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(1000))
    uid: Mapped[str] = mapped_column(String(500))
    recurrence_id: Mapped[str] = mapped_column(String(64), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    removed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    groups: Mapped[list[GroupRow]] = relationship(
        secondary="meeting_groups", lazy="selectin", order_by="GroupRow.code"
    )


class MeetingGroupRow(Base):
    __tablename__ = "meeting_groups"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DeadlineRow(Base):
    __tablename__ = "deadlines"
    __table_args__ = (
        CheckConstraint(_one_of("kind", DeadlineKind), name="kind"),
        CheckConstraint("sequence >= 0", name="sequence"),
        Index("ix_deadlines_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    titles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kind: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    due_rule: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime]
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(1000))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    removed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    meeting: Mapped[MeetingRow | None] = relationship(lazy="joined")
    targets: Mapped[list[DeadlineTargetRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class DeadlineTargetRow(Base):
    """What a deadline's ``assign:`` names: a group or a person."""

    __tablename__ = "deadline_targets"
    __table_args__ = (
        CheckConstraint("(group_id IS NULL) <> (person_id IS NULL)", name="one_target"),
        UniqueConstraint("deadline_id", "group_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)

    group: Mapped[GroupRow | None] = relationship(lazy="joined")
    person: Mapped[PersonRow | None] = relationship(lazy="joined")


# ------------------------------------------------------------ assignments


class AssignmentRow(Base):
    """One person owes one deadline. Never deleted: withdrawn when the roster moves on."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("deadline_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    not_applicable_reason: Mapped[str | None] = mapped_column(Text)
    not_applicable_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    deadline: Mapped[DeadlineRow] = relationship(lazy="joined")
    person: Mapped[PersonRow] = relationship(lazy="joined")


class SubmissionRow(Base):
    """A numbered version of one input. A new version never overwrites an older one."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(_one_of("status", SubmissionStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    links: Mapped[list[Any]] = mapped_column(default=list)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.RECEIVED.value)
    reviewer_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None]


# ------------------------------------------------------------- messaging


class ReminderRow(Base):
    """One planned message to one person; ``key`` is stable, so a reminder exists once."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(_one_of("state", ReminderState), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_reminders_state_planned_at", "state", "planned_at"),
        Index("ix_reminders_person_id_state", "person_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    # the recipient; ix_reminders_person_id_state serves look-ups by person
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(32))
    planned_at: Mapped[datetime]
    due_at: Mapped[datetime]  # the due instant it was planned for
    days_before: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state: Mapped[str] = mapped_column(String(16), default=ReminderState.PLANNED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # set while recovering a claim that may have been posted: Slack's history is searched from it
    recovered_from: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReminderPlanRow(Base):
    """How far ahead reminders are planned into the store, and whether that plan is stale.

    One row. Anything that changes who owes what, or when, marks the plan stale; the
    reminder run plans again only then, or when the horizon runs out.
    """

    __tablename__ = "reminder_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_at: Mapped[datetime | None]
    horizon_end: Mapped[datetime | None]
    stale: Mapped[bool] = mapped_column(Boolean, default=True)


class ReminderPlanDeadlineRow(Base):
    """What each deadline's reminders were last planned from: a fingerprint of its planning
    inputs (``core.replanning``). A deadline whose fingerprint is unchanged at the next plan
    needs only the planned window's move; one without (NULL, or no row) is planned in full."""

    __tablename__ = "reminder_plan_deadlines"

    deadline_id: Mapped[int] = mapped_column(
        ForeignKey("deadlines.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str | None] = mapped_column(String(64))


class DigestRow(Base):
    """One coordinators' digest: sent once per local day, like a reminder (claim, send, mark)."""

    __tablename__ = "digests"
    __table_args__ = (CheckConstraint(_one_of("state", ReminderState), name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=ReminderState.SENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class OutboxRow(Base):
    """A message that went to the console instead of Slack (no ``SLACK_BOT_TOKEN``)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[Any] | None] = mapped_column(JSON)
    message_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FeedTokenRow(Base):
    """A calendar-feed token: only its SHA-256 hash is stored; one active token a person."""

    __tablename__ = "feed_tokens"
    __table_args__ = (
        Index(
            "uq_feed_tokens_active_person",
            "person_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class FeedEventRow(Base):
    """What a feed last said about one event, and its SEQUENCE there (never lowered).

    ``scope`` is a feed (``person:<id>``, ``group:<id>``); ``fingerprint`` sums up the event's
    time and status as last served. A different fingerprint raises ``sequence`` by one.
    """

    __tablename__ = "feed_events"
    __table_args__ = (
        UniqueConstraint("scope", "uid"),
        CheckConstraint("sequence >= 0", name="sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(80))
    uid: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime]


class FeedStampRow(Base):
    """A feed's stamp (DTSTAMP, Last-Modified): it rises whenever the feed's content changes."""

    __tablename__ = "feed_stamps"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)  # feed scope and language
    digest: Mapped[str] = mapped_column(String(64))
    stamp: Mapped[datetime]


class DataVersionRow(Base):
    """One row counting the committed changes to what feeds show (kept by database triggers)."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class AuditRow(Base):
    """Who changed what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class FlowRunRow(Base):
    """One run of a flow (``sync-calendar``, ``send-reminders``, ``send-digest``), however it ran.

    Kept for ``RUNS_KEPT`` days (``db.flow_runs``); read by ``/healthz`` and ``focal status``.
    """

    __tablename__ = "flow_runs"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", RunOutcome), name="outcome"),
        # the latest run, the latest success: one backward index scan each, ties broken by id
        Index("ix_flow_runs_flow_started_at", "flow", "started_at", "id"),
        Index("ix_flow_runs_flow_outcome_finished_at", "flow", "outcome", "finished_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    runner: Mapped[str | None] = mapped_column(String(200))  # host|pid|run of the process
    prefect_run_id: Mapped[str | None] = mapped_column(String(64))  # when Prefect ran it
