"""``focal load`` through the service, against migrated SQLite and PostgreSQL databases."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from config.yaml_source import parse_yaml
from core.changes import Action
from core.source import LoadErrors
from core.workdays import WorkingCalendar
from db.models import (
    AssignmentRow,
    AuditRow,
    DeadlineRow,
    MeetingRow,
    PersonRow,
    SubmissionRow,
)
from services.loading import LoadOptions, LoadReport, load_configuration

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
OPTIONS = LoadOptions(
    default_timezone="Asia/Ho_Chi_Minh", country="VN", workdays=WorkingCalendar("VN")
)
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "config/calendar/asean-environment-2026.yaml", ROOT / "config/roster.example.yaml")

ROSTER = """\
coordinators: [lan]
people:
  - {handle: lan, name: Nguyen Thi Lan, email: lan@example.gov.vn, timezone: Asia/Ho_Chi_Minh,
     language: vi}
  - {handle: cuong, name: Tran Van Cuong, email: cuong@example.gov.vn, timezone: Asia/Ho_Chi_Minh}
  - {handle: minh, name: Le Minh, email: minh@example.gov.vn, timezone: Asia/Ho_Chi_Minh}
  - {handle: hoa, name: Pham Thi Hoa, email: hoa@example.gov.vn, timezone: Asia/Manila, country: PH}
  - {handle: aye, name: Aye Aye, email: aye@example.org, timezone: Asia/Yangon, country: MM}
groups:
  - code: AWGESC
    name: ASEAN Working Group on Environmentally Sustainable Cities
    members:
      - {person: cuong, role: chair}
      - {person: minh, role: focal}
      - {person: hoa, role: alternate}
  - code: AWGEE
    name: ASEAN Working Group on Environmental Education
    members:
      - {person: aye, role: focal}
"""

CALENDAR = """\
meetings:
  - code: ASOEN-37
    title: 37th ASEAN Senior Officials on the Environment Meeting
    titles: {vi: Hội nghị Quan chức cấp cao ASEAN về môi trường lần thứ 37}
    kind: senior-officials
    start: 2026-09-22T09:00
    end: 2026-09-24T17:00
    timezone: Asia/Manila
    groups: [AWGESC, AWGEE]
  - code: AWGEE-2027
    title: AWGEE planning after Tết
    kind: working-group
    start: 2026-02-23
    end: 2026-02-24
deadlines:
  - code: ASOEN37-WORKPLANS
    title: 2027 work plans
    kind: workplan
    meeting: ASOEN-37
    due: -21d
    assign: [AWGESC, AWGEE]
  - code: ASOEN37-POSITION
    title: Position note
    kind: briefing
    meeting: ASOEN-37
    due: -15wd
    assign: [lan]
  - code: AWGEE27-DRAFT
    title: Draft plan
    meeting: AWGEE-2027
    due: -3wd
    assign: [AWGEE]
  - code: AWGEE27-NOTE
    title: Note
    meeting: AWGEE-2027
    due: -3d
    assign: [AWGEE]
  - code: ANNUAL-REPORT
    title: Annual report
    kind: report
    due: 2026-12-10
    assign: [AWGESC]
"""


def docs(**files: str) -> list[tuple[str, object]]:
    return [
        (f"/office/{name}.yaml", parse_yaml(textwrap.dedent(text), f"/office/{name}.yaml"))
        for name, text in files.items()
    ]


def load(
    make_uow, *, prune: bool = False, dry_run: bool = False, now: datetime = NOW, **files: str
) -> LoadReport:
    return load_configuration(
        docs(**files),
        uow=make_uow(),
        options=OPTIONS,
        actor="test",
        now=now,
        prune=prune,
        dry_run=dry_run,
    )


def snapshot(engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables a load writes, to prove a load wrote nothing."""
    from db.models import Base  # noqa: PLC0415

    out = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            out[table.name] = sorted(map(tuple, connection.execute(select(table))), key=repr)
    return out


def due_local(engine, code: str) -> datetime:
    with engine.connect() as connection:
        due = connection.execute(
            select(DeadlineRow.due_at).where(DeadlineRow.code == code)
        ).scalar_one()
    return due.astimezone(HANOI)


def active_assignments(engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(DeadlineRow.code, PersonRow.handle)
            .join(AssignmentRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .where(AssignmentRow.active.is_(True))
        )
        return {tuple(r) for r in rows}


# ---------------------------------------------------------------- the sample


def test_sample_loads_and_loading_it_again_changes_nothing(make_uow, engine) -> None:
    documents = [(str(p), parse_yaml(p.read_text(encoding="utf-8"), str(p))) for p in SAMPLE]
    first = load_configuration(documents, uow=make_uow(), options=OPTIONS, actor="t", now=NOW)
    assert first.count("meeting")[Action.ADDED] >= 10
    assert first.count("deadline")[Action.ADDED] >= 10
    assert first.count("person")[Action.ADDED] >= 12
    assert first.count("assignment")[Action.ADDED] > 0
    before = snapshot(engine)

    second = load_configuration(documents, uow=make_uow(), options=OPTIONS, actor="t", now=NOW)
    assert second.written == 0
    assert {c.action for c in second.changes} == {Action.UNCHANGED}
    assert snapshot(engine) == before


def test_small_load_resolves_due_times_and_assignments(make_uow, engine) -> None:
    report = load(make_uow, roster=ROSTER, calendar=CALENDAR)
    assert report.count("meeting") == {Action.ADDED: 2}
    # -21d from Tue 2026-09-22 is Tue 2026-09-01 (a holiday: warned, not moved), 17:00 Hanoi
    assert due_local(engine, "ASOEN37-WORKPLANS") == datetime(2026, 9, 1, 17, 0, tzinfo=HANOI)
    assert any("ASOEN37-WORKPLANS" in w and "National Day" in w for w in report.warnings)
    # -15wd from Tue 2026-09-22 skips 31 Aug - 2 Sep (National Day, and the day swapped off)
    assert due_local(engine, "ASOEN37-POSITION") == datetime(2026, 8, 27, 17, 0, tzinfo=HANOI)
    # -3wd from Mon 2026-02-23 crosses Tết (16-20 Feb): Wed 11 Feb
    assert due_local(engine, "AWGEE27-DRAFT") == datetime(2026, 2, 11, 17, 0, tzinfo=HANOI)
    assert due_local(engine, "AWGEE27-NOTE") == datetime(2026, 2, 20, 17, 0, tzinfo=HANOI)
    assert due_local(engine, "ANNUAL-REPORT") == datetime(2026, 12, 10, 17, 0, tzinfo=HANOI)
    assert active_assignments(engine) == {
        ("ASOEN37-WORKPLANS", "minh"),
        ("ASOEN37-WORKPLANS", "aye"),
        ("ASOEN37-POSITION", "lan"),
        ("AWGEE27-DRAFT", "aye"),
        ("AWGEE27-NOTE", "aye"),
        ("ANNUAL-REPORT", "minh"),
    }
    with make_uow() as uow:
        assert uow.roster.coordinators() == ("lan",)
        stored = uow.calendar.meetings()["ASOEN-37"]
        assert stored.value.meeting.titles["vi"].startswith("Hội nghị")
        assert stored.value.starts_at == datetime(2026, 9, 22, 1, 0, tzinfo=UTC)
        all_day = uow.calendar.meetings()["AWGEE-2027"].value
        assert all_day.meeting.all_day
        assert all_day.starts_at == datetime(2026, 2, 22, 17, 0, tzinfo=UTC)  # midnight Hanoi
        assert all_day.ends_at == datetime(2026, 2, 24, 17, 0, tzinfo=UTC)  # exclusive end


def test_loading_twice_changes_nothing_and_writes_no_audit(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    before = snapshot(engine)
    again = load(make_uow, roster=ROSTER, calendar=CALENDAR, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert again.written == 0
    assert snapshot(engine) == before


# ------------------------------------------------------------ bad input


def line(text: str, needle: str, nth: int = 1) -> int:
    """The line number of the ``nth`` line of ``text`` that contains ``needle``."""
    hits = [i for i, row in enumerate(text.splitlines(), 1) if needle in row]
    return hits[nth - 1]


C = "/office/calendar.yaml"
BROKEN = {
    "unknown group": (
        CALENDAR.replace("groups: [AWGESC, AWGEE]", "groups: [AWGESC, AWGXX]"),
        f"{C}:{line(CALENDAR, 'groups: [AWGESC')}: groups: unknown group AWGXX",
    ),
    "unknown person in assign": (
        CALENDAR.replace("assign: [lan]", "assign: [lann]"),
        (
            f"{C}:{line(CALENDAR, 'assign: [lan]')}: assign: lann is neither a group code nor a "
            "person's handle (did you mean lan?)"
        ),
    ),
    "bad timezone": (
        CALENDAR.replace("timezone: Asia/Manila", "timezone: Asia/Manilla"),
        (
            f"{C}:{line(CALENDAR, 'Asia/Manila')}: timezone: unknown timezone 'Asia/Manilla' "
            "(did you mean Asia/Manila?)"
        ),
    ),
    "end before start": (
        CALENDAR.replace("end: 2026-09-24T17:00", "end: 2026-09-21T17:00"),
        f"{C}:{line(CALENDAR, 'end: 2026-09-24')}: end: must be after the start",
    ),
    "duplicate code": (
        CALENDAR.replace("code: ASOEN37-POSITION", "code: ASOEN37-WORKPLANS"),
        (
            f"{C}:{line(CALENDAR, 'ASOEN37-POSITION')}: code: duplicate deadline code "
            f"ASOEN37-WORKPLANS (first at {C}:{line(CALENDAR, 'code: ASOEN37-WORKPLANS')})"
        ),
    ),
    "bad relative rule": (
        CALENDAR.replace("due: -15wd", "due: -10w"),
        f"{C}:{line(CALENDAR, 'due: -15wd')}: due: '-10w' is not a due rule",
    ),
    "relative rule without a meeting": (
        CALENDAR.replace("due: 2026-12-10", "due: -5d"),
        f"{C}:{line(CALENDAR, 'due: 2026-12-10')}: due: -5d counts from a meeting's start",
    ),
    "unknown meeting": (
        CALENDAR.replace(
            "meeting: AWGEE-2027\n    due: -3wd", "meeting: AWGEE-2028\n    due: -3wd"
        ),
        f"{C}:{line(CALENDAR, 'meeting: AWGEE-2027')}: meeting: unknown meeting AWGEE-2028",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_error_is_reported_and_nothing_is_written(make_uow, engine, case: str) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    before = snapshot(engine)
    calendar, expected = BROKEN[case]
    with pytest.raises(LoadErrors) as caught:
        load(make_uow, roster=ROSTER, calendar=calendar)
    messages = [str(e) for e in caught.value.errors]
    assert any(m.startswith(expected) for m in messages), messages
    assert snapshot(engine) == before


def test_unknown_person_in_roster_and_every_error_at_once(make_uow, engine) -> None:
    roster = ROSTER.replace("{person: hoa, role: alternate}", "{person: hoaa, role: alternate}")
    calendar = CALENDAR.replace("timezone: Asia/Manila", "timezone: Mars/Olympus").replace(
        "due: -21d", "due: soon"
    )
    with pytest.raises(LoadErrors) as caught:
        load(make_uow, roster=roster, calendar=calendar)
    messages = [str(e) for e in caught.value.errors]
    roster_line = line(ROSTER, "person: hoa,")
    assert any(
        m.startswith(f"/office/roster.yaml:{roster_line}: members.person: unknown person hoaa")
        for m in messages
    ), messages
    assert any(": timezone: unknown timezone 'Mars/Olympus'" in m for m in messages)
    assert any(": due: 'soon' is not a due rule" in m for m in messages)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(PersonRow)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(AuditRow)).scalar() == 0


def test_a_calendar_may_refer_to_a_roster_loaded_earlier(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER)
    report = load(make_uow, calendar=CALENDAR)
    assert report.count("deadline") == {Action.ADDED: 5}
    assert ("ASOEN37-WORKPLANS", "minh") in active_assignments(engine)


# ------------------------------------------------------ moving meetings


def test_moving_a_meeting_moves_its_relative_deadlines(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    moved = CALENDAR.replace("start: 2026-09-22T09:00", "start: 2026-09-29T09:00").replace(
        "end: 2026-09-24T17:00", "end: 2026-10-01T17:00"
    )
    report = load(make_uow, roster=ROSTER, calendar=moved)
    assert due_local(engine, "ASOEN37-WORKPLANS") == datetime(2026, 9, 8, 17, 0, tzinfo=HANOI)
    # fifteen working days before Tue 29 Sep no longer reach the holidays: Tue 8 Sep
    assert due_local(engine, "ASOEN37-POSITION") == datetime(2026, 9, 8, 17, 0, tzinfo=HANOI)
    assert due_local(engine, "ANNUAL-REPORT") == datetime(2026, 12, 10, 17, 0, tzinfo=HANOI)
    changed = {c.key: c for c in report.changes if c.action is Action.CHANGED}
    assert {"ASOEN-37", "ASOEN37-WORKPLANS", "ASOEN37-POSITION"} <= changed.keys()
    assert changed["ASOEN37-WORKPLANS"].note == "follows meeting ASOEN-37"
    with engine.connect() as connection:
        sequences = dict(connection.execute(select(DeadlineRow.code, DeadlineRow.sequence)).all())
        meeting_sequence = connection.execute(
            select(MeetingRow.sequence).where(MeetingRow.code == "ASOEN-37")
        ).scalar_one()
        audit = connection.execute(
            select(AuditRow.changes).where(
                AuditRow.entity_key == "ASOEN37-WORKPLANS", AuditRow.action == "changed"
            )
        ).scalar_one()
    assert meeting_sequence == 1
    assert sequences["ASOEN37-WORKPLANS"] == 1
    assert sequences["ANNUAL-REPORT"] == 0
    assert audit["due_at"] == ["2026-09-01T10:00:00+00:00", "2026-09-08T10:00:00+00:00"]


def test_working_day_deadline_follows_its_meeting_across_tet(make_uow, engine) -> None:
    early = CALENDAR.replace(
        "start: 2026-02-23\n    end: 2026-02-24", "start: 2026-02-12\n    end: 2026-02-13"
    )
    load(make_uow, roster=ROSTER, calendar=early)
    # 3 working days before Thu 12 Feb: 11, 10, 9 -> Mon 9 Feb
    assert due_local(engine, "AWGEE27-DRAFT").date() == date(2026, 2, 9)
    load(make_uow, roster=ROSTER, calendar=CALENDAR)  # moved to Mon 23 Feb, after Tết
    assert due_local(engine, "AWGEE27-DRAFT").date() == date(2026, 2, 11)
    assert due_local(engine, "AWGEE27-NOTE").date() == date(2026, 2, 20)


# --------------------------------------------------------- roster changes


def test_assignments_follow_the_roster_and_keep_submissions(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    with make_uow() as uow:  # minh has already submitted a version
        row = uow.session.scalars(
            select(AssignmentRow)
            .join(PersonRow)
            .where(PersonRow.handle == "minh")
            .join(DeadlineRow)
            .where(DeadlineRow.code == "ASOEN37-WORKPLANS")
        ).one()
        uow.session.add(
            SubmissionRow(
                assignment_id=row.id,
                version=1,
                text="draft",
                submitted_by_id=row.person_id,
                submitted_at=NOW,
                late=False,
            )
        )
        uow.commit()
    swapped = ROSTER.replace("{person: minh, role: focal}", "{person: minh, role: alternate}")
    swapped = swapped.replace("{person: hoa, role: alternate}", "{person: hoa, role: focal}")
    report = load(make_uow, roster=swapped)

    assignments = active_assignments(engine)
    assert ("ASOEN37-WORKPLANS", "hoa") in assignments
    assert ("ANNUAL-REPORT", "hoa") in assignments
    assert not any(handle == "minh" for _, handle in assignments)
    changes = {(c.key, c.action) for c in report.changes if c.entity == "assignment"}
    assert ("ASOEN37-WORKPLANS/minh", Action.REMOVED) in changes
    assert ("ASOEN37-WORKPLANS/hoa", Action.ADDED) in changes
    with engine.connect() as connection:
        assert connection.execute(select(SubmissionRow.text)).scalars().all() == ["draft"]
        withdrawn = connection.execute(
            select(func.count()).select_from(AssignmentRow).where(AssignmentRow.active.is_(False))
        ).scalar()
    assert withdrawn == 2

    load(make_uow, roster=ROSTER)  # and back again: the old assignment returns, not a copy
    assert ("ASOEN37-WORKPLANS", "minh") in active_assignments(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(AssignmentRow)).scalar() == 8


def test_a_slack_id_found_later_is_kept(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER)
    with make_uow() as uow:
        person = uow.session.scalars(select(PersonRow).where(PersonRow.handle == "minh")).one()
        person.slack_user_id = "U0MINH0001"
        uow.commit()
    report = load(make_uow, roster=ROSTER)
    assert report.written == 0
    with make_uow() as uow:
        assert uow.roster.people()["minh"].value.slack_user_id == "U0MINH0001"


# ----------------------------------------------------- missing and pruning


def test_missing_items_are_reported_and_removed_only_with_prune(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    without = CALENDAR[: CALENDAR.index("  - code: ANNUAL-REPORT")]
    report = load(make_uow, roster=ROSTER, calendar=without)
    assert [(c.key, c.action) for c in report.changes if c.action is Action.MISSING] == [
        ("ANNUAL-REPORT", Action.MISSING)
    ]
    assert ("ANNUAL-REPORT", "minh") in active_assignments(engine)

    pruned = load(make_uow, roster=ROSTER, calendar=without, prune=True)
    assert ("ANNUAL-REPORT", Action.REMOVED) in {(c.key, c.action) for c in pruned.changes}
    assert ("ANNUAL-REPORT", "minh") not in active_assignments(engine)
    with engine.connect() as connection:  # kept for history, marked removed
        removed_at = connection.execute(
            select(DeadlineRow.removed_at).where(DeadlineRow.code == "ANNUAL-REPORT")
        ).scalar_one()
    assert removed_at == NOW

    restored = load(make_uow, roster=ROSTER, calendar=CALENDAR)
    assert ("ANNUAL-REPORT", Action.RESTORED) in {(c.key, c.action) for c in restored.changes}
    assert ("ANNUAL-REPORT", "minh") in active_assignments(engine)


def test_prune_refuses_to_orphan_a_reference(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    before = snapshot(engine)
    no_meeting = CALENDAR.replace(
        CALENDAR[CALENDAR.index("  - code: AWGEE-2027") : CALENDAR.index("deadlines:")], ""
    )
    with pytest.raises(LoadErrors, match="unknown meeting AWGEE-2027"):
        load(make_uow, calendar=no_meeting, prune=True)
    assert snapshot(engine) == before


def test_dry_run_reports_and_writes_nothing(make_uow, engine) -> None:
    before = snapshot(engine)
    report = load(make_uow, roster=ROSTER, calendar=CALENDAR, dry_run=True)
    assert report.count("meeting") == {Action.ADDED: 2}
    assert report.written == 0
    assert snapshot(engine) == before


def test_every_change_is_in_the_audit_log(make_uow, engine) -> None:
    load(make_uow, roster=ROSTER, calendar=CALENDAR)
    renamed = CALENDAR.replace("title: Annual report", "title: Annual report 2026")
    load(make_uow, calendar=renamed, now=datetime(2026, 2, 1, tzinfo=UTC))
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditRow.actor, AuditRow.action, AuditRow.entity, AuditRow.changes, AuditRow.at)
            .where(AuditRow.entity_key == "ANNUAL-REPORT")
            .order_by(AuditRow.id)
        ).all()
        entities = set(connection.execute(select(AuditRow.entity)).scalars())
    assert [(r.action, r.entity) for r in rows] == [("added", "deadline"), ("changed", "deadline")]
    assert rows[1].actor == "test"
    assert rows[1].changes == {"title": ["Annual report", "Annual report 2026"]}
    assert rows[1].at == datetime(2026, 2, 1, tzinfo=UTC)
    assert entities == {"person", "group", "coordinators", "meeting", "deadline", "assignment"}
