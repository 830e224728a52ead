"""A month of reminders through the real Slack client: who hears what, when, and only once.

Time is simulated: the reminder run (plan, then send) is called every half hour through the
mornings of Asia and every few hours otherwise, from February to March 2026, which holds Tết
(Viet Nam's holidays, 16 to 20 February), Japan's Emperor's Birthday (23 February) and
Myanmar's Union Day (12 February) and Peasants' Day (2 March). Each Slack message is dated by
the run it appeared during, and each reminder's planned instant is checked to the minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.models import AssignmentRow, DeadlineRow, PersonRow, SubmissionRow
from tests.e2e.reminder_world import (
    CALENDAR,
    LOADED,
    POSTPONED,
    ROSTER,
    TET,
    Simulation,
    Someone,
    StoredReminder,
    assert_exactly_once,
    block_text,
    expected_days,
    is_working_day,
    keys_of,
    load,
    register_people,
    slack_notifier,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Engine

    from tests.e2e.reminder_world import MakeUow
    from tests.slack_standin import SlackStandIn

START = datetime(2026, 2, 8, tzinfo=UTC)  # nothing is due earlier
END = datetime(2026, 3, 10, 12, tzinfo=UTC)
COORDINATORS = ("lan",)


class Due:
    """Due instants of the calendar (17:00 in Hanoi unless the deadline says otherwise)."""

    REPORTS = datetime(2026, 2, 23, 10, 0, tzinfo=UTC)  # Monday after Tết
    NOTE = datetime(2026, 2, 28, 5, 0, tzinfo=UTC)  # Saturday noon in Hanoi
    PLAN = datetime(2026, 2, 26, 10, 30, tzinfo=UTC)  # 17:00 in Yangon
    WORKPLANS = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # 21 days before 26 March (Thursday)
    WORKPLANS_POSTPONED = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)  # meeting moved to 2 April


# deadline -> (due, who owes it, the chairs of the groups it was assigned through)
ASSIGNMENTS: dict[str, tuple[datetime, tuple[str, ...], tuple[str, ...]]] = {
    "ESC-REPORTS": (Due.REPORTS, ("minh", "maria", "kenji", "aye"), ("rosa",)),
    "CC-NOTE": (Due.NOTE, ("maria", "aye"), ()),
    "MM-PLAN": (Due.PLAN, ("aye", "kenji"), ()),
    "ESC20-WORKPLANS": (Due.WORKPLANS, ("minh", "maria", "kenji", "aye"), ("rosa",)),
}

#: (recipient, deadline, who owes it, local day, days before due, kind)
Told = tuple[str, str, str, date, int, str]


def _kind(step: int) -> str:
    return "before" if step > 0 else "due" if step == 0 else "overdue"


def expected(
    people: dict[str, Someone],
    assignments: dict[str, tuple[datetime, tuple[str, ...], tuple[str, ...]]] = ASSIGNMENTS,
) -> list[Told]:
    """What SPEC.md's rules call for, worked out with the ``holidays`` package."""
    told: list[Told] = []
    for code, (due, owing, chairs) in assignments.items():
        for handle in owing:
            p = people[handle]
            for day, step in expected_days(due, p.timezone, p.country).items():
                told.append((handle, code, handle, day, step, _kind(step)))
            for boss in sorted({*chairs, *COORDINATORS} - {handle}):
                b = people[boss]
                for day, step in expected_days(due, b.timezone, b.country, steps=(-3,)).items():
                    told.append((boss, code, handle, day, step, "escalation"))
    return sorted(told)


def delivered(
    sim: Simulation,
    slack: SlackStandIn,
    stored: dict[str, StoredReminder],
    people: dict[str, Someone],
    *,
    since: datetime | None = None,
) -> list[Told]:
    """What the stand-in received, each line dated by the run it appeared during."""
    told: list[Told] = []
    for message in slack.messages():
        posted = sim.posted_at[message.ts]
        if since is not None and posted < since:
            continue
        for key in keys_of(message):
            r = stored[key]
            person = people[r.recipient]
            assert message.channel == slack.dm_channel(person.user_id), (key, message.channel)
            day = posted.astimezone(ZoneInfo(person.timezone)).date()
            told.append((r.recipient, r.deadline, r.owes, day, r.days_before, r.kind))
    return sorted(told)


def days_of(told: Iterable[Told], recipient: str, deadline: str) -> dict[date, int]:
    return {
        day: step for to, code, _owes, day, step, _ in told if (to, code) == (recipient, deadline)
    }


def feb(day: int) -> date:
    return date(2026, 2, day)


def mar(day: int) -> date:
    return date(2026, 3, day)


def start_world(make_uow: MakeUow, slack: SlackStandIn) -> tuple[Simulation, dict[str, Someone]]:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    people = register_people(slack, ROSTER)
    return Simulation(make_uow, slack, slack_notifier(slack)), people


@pytest.mark.slow
def test_a_month_of_reminders_at_nine_on_working_days_each_once(
    make_uow: MakeUow, engine: Engine, slack: SlackStandIn
) -> None:
    sim, people = start_world(make_uow, slack)
    sim.run_between(START, END)

    assert slack.violations == []
    stored = assert_exactly_once(engine, slack, now=END)
    messages = slack.messages()
    assert len(messages) > 50

    # every message at 09:00 sharp in the recipient's zone, on a working day of their country
    who = {p.user_id: p for p in people.values()}
    for message in messages:
        (user,) = {u for u, p in who.items() if slack.dm_channel(u) == message.channel}
        person = who[user]
        local = sim.posted_at[message.ts].astimezone(ZoneInfo(person.timezone))
        assert local.time() == time(9, 0), (person.handle, local)
        assert local.weekday() < 5, (person.handle, local)
        assert is_working_day(local.date(), person.country), (person.handle, local)
        if person.country == "VN":
            assert local.date() not in TET, (person.handle, local)
        for key in keys_of(message):  # each line's own plan says the same
            planned = stored[key].planned_at.astimezone(ZoneInfo(person.timezone))
            assert (planned.date(), planned.time()) == (local.date(), time(9, 0)), key

    # every step, for every person, and every escalation: as the rules say, and nothing else
    told = delivered(sim, slack, stored, people)
    assert told == expected(people)

    # the same, spelled out for a few cases (SPEC.md's rules applied by hand)
    # Hanoi, due Monday 23 Feb after Tết: the 7, 3 and 1 days before all fall in or next to
    # Tết and become one reminder on Friday 13 Feb
    assert days_of(told, "minh", "ESC-REPORTS") == {
        feb(9): 14,
        feb(13): 1,
        feb(23): 0,
        feb(24): -1,
        feb(26): -3,
    }
    # Tokyo: 23 Feb is the Emperor's Birthday, so "due today" comes on Friday 20 Feb
    assert days_of(told, "kenji", "ESC-REPORTS") == {
        feb(9): 14,
        feb(16): 7,
        feb(20): 0,
        feb(24): -1,
        feb(26): -3,
    }
    # Yangon, due Saturday 28 Feb: due-day reminder on Friday; the day after and three days
    # after move past the weekend and Peasants' Day (2 Mar) to Tuesday 3 Mar, and become one
    assert days_of(told, "aye", "CC-NOTE") == {
        feb(13): 14,
        feb(20): 7,
        feb(25): 3,
        feb(27): 0,
        mar(3): -1,
    }
    # a Thursday deadline in Hanoi: 14 days before is in Tết, so Friday 13 Feb
    assert days_of(told, "minh", "ESC20-WORKPLANS") == {
        feb(13): 14,
        feb(26): 7,
        mar(2): 3,
        mar(4): 1,
        mar(5): 0,
        mar(6): -1,
        mar(9): -3,
    }
    # the chair (Manila) and the coordinator (Hanoi) hear of each missing input at 3 days
    # overdue; the coordinator is written to in Vietnamese
    assert days_of(told, "rosa", "ESC20-WORKPLANS") == {mar(9): -3}
    escalations = [t for t in told if t[0] == "lan" and t[1] == "ESC-REPORTS"]
    assert {(t[2], t[3]) for t in escalations} == {
        (h, feb(26)) for h in ("minh", "maria", "kenji", "aye")
    }
    lan = slack.sent_to(people["lan"].user_id)
    assert any("chưa nộp" in block_text(m) for m in lan)

    # several inputs due the same morning come in one message, each with its line
    (together,) = [
        m
        for m in slack.sent_to(people["minh"].user_id)
        if sim.posted_at[m.ts] == datetime(2026, 2, 13, 2, 0, tzinfo=UTC)
    ]
    assert sorted(stored[k].deadline for k in keys_of(together)) == [
        "ESC-REPORTS",
        "ESC20-WORKPLANS",
    ]
    assert "ESC-REPORTS" in block_text(together)
    assert "ESC20-WORKPLANS" in block_text(together)


def _submit(make_uow: MakeUow, *, deadline: str, handle: str, at: datetime) -> None:
    """A submission as the Slack command records it: version 1, and the plan marked stale."""
    with make_uow() as uow:
        assignment = uow.session.scalar(
            select(AssignmentRow)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .where(DeadlineRow.code == deadline, PersonRow.handle == handle)
        )
        assert assignment is not None
        uow.session.add(
            SubmissionRow(
                assignment_id=assignment.id,
                version=1,
                text="Country report attached.",
                submitted_by_id=assignment.person_id,
                submitted_at=at,
                late=False,
                status="received",
            )
        )
        uow.reminders.mark_stale()
        uow.commit()


@pytest.mark.slow
def test_no_reminder_after_a_submission_and_no_escalation_about_it(
    make_uow: MakeUow, engine: Engine, slack: SlackStandIn
) -> None:
    sim, people = start_world(make_uow, slack)
    submitted = datetime(2026, 2, 12, 16, 0, tzinfo=UTC)  # Thursday 23:00 in Hanoi
    end = datetime(2026, 2, 27, 12, tzinfo=UTC)  # after the escalations of 26 Feb
    sim.run_between(datetime(2026, 2, 8, 12, tzinfo=UTC), submitted)
    # the next one (Friday 13 Feb, 09:00) is already planned in the store
    stored = assert_exactly_once(engine, slack, now=submitted)
    assert any(
        (r.deadline, r.owes, r.state) == ("ESC-REPORTS", "minh", "planned") for r in stored.values()
    )
    _submit(make_uow, deadline="ESC-REPORTS", handle="minh", at=submitted)
    sim.run_between(submitted, end)

    assert slack.violations == []
    stored = assert_exactly_once(engine, slack, now=end)
    told = delivered(sim, slack, stored, people)
    about_minh = [t for t in told if t[1:3] == ("ESC-REPORTS", "minh")]
    assert about_minh == [("minh", "ESC-REPORTS", "minh", date(2026, 2, 9), 14, "before")]
    assert not [
        r
        for r in stored.values()
        if (r.deadline, r.owes) == ("ESC-REPORTS", "minh") and r.state not in {"sent", "skipped"}
    ]
    # everyone else's reminders and escalations about that input go on
    later = [t for t in told if t[3] > date(2026, 2, 12)]
    reports = [t for t in expected(people) if t[1] == "ESC-REPORTS"]
    assert sorted(t for t in later if t[1] == "ESC-REPORTS") == [
        t for t in reports if t[2] != "minh" and date(2026, 2, 12) < t[3] <= date(2026, 2, 28)
    ]
    assert ("rosa", "ESC-REPORTS", "maria", date(2026, 2, 26), -3, "escalation") in later
    # and minh still hears of what he has not submitted
    assert days_of(told, "minh", "ESC20-WORKPLANS") == {date(2026, 2, 13): 14, date(2026, 2, 26): 7}


@pytest.mark.slow
def next_nine(after: datetime, someone: Someone) -> datetime:
    """09:00 local on the first working day of their country at or after ``after``."""
    zone = ZoneInfo(someone.timezone)
    day = after.astimezone(zone).date()
    while True:
        at = datetime.combine(day, time(9), zone)
        if is_working_day(day, someone.country) and at >= after:
            return at.astimezone(UTC)
        day += timedelta(days=1)


def test_a_postponed_meeting_moves_the_reminders_and_tells_who_was_reminded_once(
    make_uow: MakeUow, engine: Engine, slack: SlackStandIn
) -> None:
    sim, people = start_world(make_uow, slack)
    reloaded = datetime(2026, 2, 24, 3, 0, tzinfo=UTC)  # Tuesday 10:00 in Hanoi
    end = datetime(2026, 3, 17, 12, tzinfo=UTC)
    sim.run_between(datetime(2026, 2, 12, 12, tzinfo=UTC), reloaded)
    before = delivered(sim, slack, assert_exactly_once(engine, slack, now=reloaded), people)
    reminded = {t[0] for t in before if t[1] == "ESC20-WORKPLANS"}
    assert reminded == {"minh", "maria", "kenji", "aye"}  # the 14-days-before reminder

    load(make_uow, now=reloaded, roster=ROSTER, calendar=POSTPONED)
    sim.run_between(reloaded, end)

    assert slack.violations == []
    stored = assert_exactly_once(engine, slack, now=end)
    after = delivered(sim, slack, stored, people, since=reloaded)
    workplans = [t for t in after if t[1] == "ESC20-WORKPLANS"]

    # one "deadline changed" line each, for those reminded of the old date, at their next
    # reminder time: 09:00 local on their next working day (10:00 in Hanoi had passed)
    changed = [t for t in workplans if t[5] == "changed"]
    slot = {h: next_nine(reloaded, people[h]) for h in reminded}
    assert sorted((t[0], t[3]) for t in changed) == sorted(
        (h, slot[h].astimezone(ZoneInfo(people[h].timezone)).date()) for h in reminded
    )
    for handle in reminded:
        notices = [
            m
            for m in slack.sent_to(people[handle].user_id)
            if any(stored[k].kind == "changed" for k in keys_of(m))
        ]
        assert len(notices) == 1
        posted = sim.posted_at[notices[0].ts]
        assert slot[handle] <= posted < slot[handle] + timedelta(hours=1)
        text = block_text(notices[0])
        assert "The deadline changed: now due" in text
        assert "12 Mar 2026" in text

    # then the new date's reminders only, as the rules say; nothing more for the old date
    new_plan = {"ESC20-WORKPLANS": (Due.WORKPLANS_POSTPONED, *ASSIGNMENTS["ESC20-WORKPLANS"][1:])}
    assert sorted(t for t in workplans if t[5] != "changed") == expected(people, new_plan)
    sent_after = [
        stored[k]
        for m in slack.messages()
        if sim.posted_at[m.ts] >= reloaded
        for k in keys_of(m)
        if stored[k].deadline == "ESC20-WORKPLANS"
    ]
    assert {r.due_at for r in sent_after} == {Due.WORKPLANS_POSTPONED}
    old = [
        r for r in stored.values() if r.deadline == "ESC20-WORKPLANS" and r.due_at == Due.WORKPLANS
    ]
    assert {r.state for r in old if r.planned_at > reloaded} <= {"skipped"}
    assert sorted((r.recipient, r.days_before) for r in old if r.state == "sent") == sorted(
        (h, 14) for h in reminded
    )
    # Hanoi: the 14 days before the new date is the 7 days before the old one (26 Feb):
    # the old step was dropped, the new one sent
    assert days_of(after, "minh", "ESC20-WORKPLANS") == {
        feb(25): 0,  # the notice
        feb(26): 14,
        mar(5): 7,
        mar(9): 3,
        mar(11): 1,
        mar(12): 0,
        mar(13): -1,
        mar(16): -3,
    }
    assert ("minh", "ESC20-WORKPLANS", "minh", feb(26), 7, "before") not in after
