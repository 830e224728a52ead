"""The office ``bench/serve.py`` runs ``focal serve`` against: a month of its reminders, planned
by Focal's own planner, compressed into the bench's minutes; feed tokens for every person.

1,000 focal points in 20 working groups of 50 (each group's chair is a focal point of the
next); each group owes three inputs due through the month and a little after, so that every day
of the month has reminders to send (14, 7, 3 and 1 days before, on the day, 1 and 3 days
after, at 09:00 in each person's zone, on their country's working days). The month lies two
months ahead of the bench's day: the planner run by ``focal serve`` as of the real clock finds
nothing of it due, and leaves the compressed reminders where the bench put them (they are
stored as requested reminders, the kind the planner keeps while its deadline stands).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, select, update

from bench.reminders import HOME_ZONE, ZONES, Workload, load_bulk, set_slack_ids
from core.model import (
    AbsoluteDue,
    Deadline,
    DeadlineKind,
    Group,
    Language,
    Meeting,
    MeetingKind,
    Membership,
    Person,
    Role,
)
from core.reminders import ReminderKind, ReminderPolicy
from db.engine import build_session_factory
from db.models import FeedTokenRow, PersonRow, ReminderPlanRow, ReminderRow
from db.uow import SqlAlchemyUnitOfWork
from services.feed_access import token_hash
from services.reminders import HORIZON, refresh_plan

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

GROUP_SIZE, INPUTS = 50, 3
MONTH = timedelta(days=30)
#: How far ahead of the bench's day the month begins.
AHEAD = timedelta(days=60)
#: The steps kept from the month's plan: the ones a person gets about their own inputs.
KEPT = frozenset({ReminderKind.BEFORE, ReminderKind.DUE, ReminderKind.OVERDUE})


def month_start(now: datetime) -> datetime:
    """Midnight UTC, ``AHEAD`` after ``now``."""
    day = (now + AHEAD).date()
    return datetime.combine(day, clock_time(0), UTC)


def build_office(people: int, start: datetime) -> Workload:
    """``people`` focal points in groups of 50; each group's inputs due across the month."""
    groups_n = max(1, people // GROUP_SIZE)
    persons = tuple(
        Person(
            handle=f"p{i:05d}",
            name=f"Focal Point {i:05d}",
            email=f"p{i:05d}@example.gov.vn",
            timezone=ZONES[i % len(ZONES)][0],
            language=Language.VI if i % 10 < 7 else Language.EN,  # noqa: PLR2004
            country=ZONES[i % len(ZONES)][1],
        )
        for i in range(people)
    )
    members: list[list[Membership]] = [[] for _ in range(groups_n)]
    for i, person in enumerate(persons):
        members[i * groups_n // people].append(Membership(person.handle, Role.FOCAL))
    if groups_n > 1:
        for g in range(groups_n):
            members[g].append(Membership(members[(g + 1) % groups_n][0].person, Role.CHAIR))
    groups = tuple(
        Group(f"WG{g:03d}", f"Working group {g}", tuple(sorted(ms, key=lambda m: m.person)))
        for g, ms in enumerate(members)
    )
    first = start.astimezone(ZoneInfo(HOME_ZONE)).date()
    return Workload(
        people=persons,
        groups=groups,
        meetings=tuple(_meeting(g, first) for g in range(groups_n)),
        deadlines=tuple(
            _deadline(g, j, first, groups_n) for g in range(groups_n) for j in range(INPUTS)
        ),
        coordinators=(persons[0].handle,),
        loaded_at=start - timedelta(days=90),
        user_ids={p.handle: f"U{i:08d}" for i, p in enumerate(persons)},
    )


def _meeting(g: int, first: date) -> Meeting:
    day = first + timedelta(days=40 + g % 7)
    return Meeting(
        code=f"WG{g:03d}-MTG",
        title=f"Meeting of working group {g}",
        kind=MeetingKind.WORKING_GROUP,
        start=datetime.combine(day, clock_time(9)),
        end=datetime.combine(day, clock_time(17)),
        timezone="Asia/Jakarta",
        titles={"vi": f"Cuộc họp nhóm công tác {g}"},
        venue="Jakarta, Indonesia",
        host_country="ID",
        groups=(f"WG{g:03d}",),
    )


def _deadline(g: int, j: int, first: date, groups_n: int) -> Deadline:
    """Due from 3 days before the month to 14 days after it, groups staggered."""
    offset = -3 + (j * 47 + g * 47 // groups_n) // INPUTS % 47
    due = datetime.combine(first + timedelta(days=offset), clock_time(12 + g % 5))
    return Deadline(
        code=f"WG{g:03d}-IN{j:02d}",
        title=f"Input {j + 1} of working group {g}",
        kind=DeadlineKind.REPORT,
        due=AbsoluteDue(at=due),
        meeting=f"WG{g:03d}-MTG",
        assign=(f"WG{g:03d}",),
        titles={"vi": f"Đầu vào {j + 1} của nhóm công tác {g}"},
    )


def load_office(engine: Engine, w: Workload) -> None:
    load_bulk(engine, w)
    set_slack_ids(engine, w, known=True)


@dataclass(frozen=True)
class Compressed:
    """The month's reminders, one bench minute standing for ``MONTH / minutes``."""

    at: datetime  # the bench minute the first reminders are planned for (moved later)
    minutes: int
    planned: int  # reminders kept
    per_minute: list[int]


def plan_month(engine: Engine, start: datetime, *, minutes: int, at: datetime) -> Compressed:
    """Plan the month with Focal's planner, then move each reminder to the bench minute its
    instant falls in (``at`` + n minutes); drop what lies outside the month, and any
    escalation or notice. Returns what was kept."""
    factory = build_session_factory(engine)
    policy = ReminderPolicy()
    refresh_plan(
        uow=SqlAlchemyUnitOfWork(factory), policy=policy, now=start, horizon=MONTH, force=True
    )
    slot = MONTH / minutes
    per_minute = [0] * minutes
    with engine.begin() as c:
        rows = c.execute(
            select(
                ReminderRow.id,
                ReminderRow.key,
                ReminderRow.kind,
                ReminderRow.planned_at,
                ReminderRow.days_before,
            )
        ).all()
        moved, dropped = [], []
        for rid, key, kind, planned_at, days_before in rows:
            if ReminderKind(kind) not in KEPT or not start <= planned_at < start + MONTH:
                dropped.append(rid)
                continue
            n = math.floor((planned_at - start) / slot)
            per_minute[n] += 1
            deadline, person = key.split("/")[:2]
            new = at + timedelta(minutes=n)
            moved.append(
                {
                    "rid": rid,
                    "new_key": f"{deadline}/{person}/requested/{new:%Y%m%dT%H%M}/{days_before}",
                    "at": new,
                }
            )
        if dropped:
            c.execute(delete(ReminderRow).where(ReminderRow.id.in_(dropped)))
        c.execute(
            update(ReminderRow)
            .where(ReminderRow.id == bindparam("rid"))
            .values(
                key=bindparam("new_key"),
                planned_at=bindparam("at"),
                kind=ReminderKind.REQUESTED.value,
            ),
            moved,
        )
    return Compressed(at, minutes, len(moved), per_minute)


def move_to(engine: Engine, compressed: Compressed, at: datetime, *, now: datetime) -> Compressed:
    """Move every planned reminder so the first bench minute is ``at``; the stored plan is
    marked fresh as of ``now`` (the runs of ``focal serve`` need not plan again)."""
    shift = at - compressed.at
    with engine.begin() as c:
        rows = c.execute(select(ReminderRow.id, ReminderRow.planned_at)).all()
        c.execute(
            update(ReminderRow)
            .where(ReminderRow.id == bindparam("rid"))
            .values(planned_at=bindparam("at")),
            [{"rid": rid, "at": planned_at + shift} for rid, planned_at in rows],
        )
        c.execute(
            update(ReminderPlanRow).values(planned_at=now, horizon_end=now + HORIZON, stale=False)
        )
    return Compressed(at, compressed.minutes, compressed.planned, compressed.per_minute)


def planned_times(engine: Engine) -> dict[str, tuple[datetime, str]]:
    """Reminder key -> (planned instant, state)."""
    with engine.connect() as c:
        rows = c.execute(select(ReminderRow.key, ReminderRow.planned_at, ReminderRow.state))
        return {key: (at, state) for key, at, state in rows}


def issue_tokens(engine: Engine, w: Workload, *, now: datetime) -> dict[str, str]:
    """A feed token for every person (as ``/focal calendar`` issues them); handle -> token."""
    tokens = {p.handle: f"bench-feed-token-{p.handle}-0123456789abcdef" for p in w.people}
    with engine.begin() as c:
        ids = dict(c.execute(select(PersonRow.handle, PersonRow.id)).tuples().all())
        c.execute(
            insert(FeedTokenRow),
            [
                {"person_id": ids[h], "token_hash": token_hash(t), "created_at": now}
                for h, t in tokens.items()
            ],
        )
    return tokens
