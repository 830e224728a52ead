"""``focal import-ics`` through the service, on migrated SQLite and PostgreSQL: idempotent by UID
and RECURRENCE-ID, a moved instance moves its meeting and the deadlines relative to it,
a cancelled or vanished one is kept as cancelled, refusals write nothing."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from config.yaml_source import parse_yaml
from core.ics_import import CalendarRefusedError, ImportWindow, import_code
from core.model import MeetingKind
from core.workdays import WorkingCalendar
from db.models import AuditRow, DeadlineRow, MeetingRow, ReminderPlanRow
from services.importing import ImportOptions, ImportRefusedError, import_calendar
from services.loading import LoadOptions, load_configuration

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from db.uow import SqlAlchemyUnitOfWork

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
LOAD = LoadOptions(
    default_timezone="Asia/Ho_Chi_Minh", country="VN", workdays=WorkingCalendar("VN")
)
WINDOW = ImportWindow(date(2026, 1, 1), date(2026, 12, 31))
SOURCE = "https://asean.example.org/calendar.ics"
UID = "asoen-monthly@asean.example.org"


def calendar(
    *, moved: str = "20260303T100000", cancel_april: bool = False, count: int = 4
) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ASEAN Secretariat//EN",
        "X-WR-CALNAME:ASEAN environment",
        "BEGIN:VEVENT",
        f"UID:{UID}",
        "SUMMARY:ASOEN monthly coordination",
        "DTSTART;TZID=Asia/Jakarta:20260203T090000",
        "DTEND;TZID=Asia/Jakarta:20260203T110000",
        f"RRULE:FREQ=MONTHLY;COUNT={count}",
        "END:VEVENT",
        "BEGIN:VEVENT",
        f"UID:{UID}",
        "RECURRENCE-ID;TZID=Asia/Jakarta:20260303T090000",
        "SUMMARY:ASOEN monthly coordination",
        f"DTSTART;TZID=Asia/Jakarta:{moved}",
        f"DTEND;TZID=Asia/Jakarta:{moved[:9]}235900",
        "END:VEVENT",
    ]
    if cancel_april:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{UID}",
            "RECURRENCE-ID;TZID=Asia/Jakarta:20260403T090000",
            "STATUS:CANCELLED",
            "SUMMARY:ASOEN monthly coordination",
            "DTSTART;TZID=Asia/Jakarta:20260403T090000",
            "DTEND;TZID=Asia/Jakarta:20260403T110000",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


MARCH = "20260303T020000Z"  # 09:00 in Jakarta
MARCH_CODE = import_code(UID, MARCH, prefix="AWGESC")

ROSTER = """\
coordinators: [lan]
people:
  - {handle: lan, name: Nguyen Thi Lan, email: lan@example.gov.vn, timezone: Asia/Ho_Chi_Minh}
  - {handle: minh, name: Le Minh, email: minh@example.gov.vn, timezone: Asia/Ho_Chi_Minh}
groups:
  - code: AWGESC
    name: ASEAN Working Group on Environmentally Sustainable Cities
    members:
      - {person: minh, role: focal}
"""
DEADLINES = f"""\
deadlines:
  - code: MARCH-NOTE
    title: Note for the March coordination
    kind: briefing
    meeting: {MARCH_CODE}
    due: -7d
    assign: [AWGESC]
"""


def run(make_uow, data: bytes, *, group: str | None = "AWGESC", dry_run: bool = False, now=NOW):
    options = ImportOptions(
        window=WINDOW, load=LOAD, group=group, kind=MeetingKind.SENIOR_OFFICIALS
    )
    return import_calendar(
        data, source=SOURCE, uow=make_uow(), now=now, options=options, actor="test", dry_run=dry_run
    )


def load_yaml(make_uow, **files: str) -> None:
    documents = [
        (f"/office/{n}.yaml", parse_yaml(textwrap.dedent(t), f"/office/{n}.yaml"))
        for n, t in files.items()
    ]
    load_configuration(documents, uow=make_uow(), options=LOAD, actor="test", now=NOW)


def meetings(engine: Engine) -> dict[str, MeetingRow]:
    with engine.connect() as connection:
        rows = connection.execute(select(MeetingRow)).all()
    return {row.recurrence_id: row for row in rows}


def due(engine: Engine, code: str) -> datetime:
    with engine.connect() as connection:
        value = connection.scalar(select(DeadlineRow.due_at).where(DeadlineRow.code == code))
    return value.astimezone(HANOI)


def plan_is_stale(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.scalar(select(ReminderPlanRow.stale)))


def clear_stale(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(ReminderPlanRow.__table__.update().values(stale=False))


def test_import_stores_each_instance_once_and_a_second_import_writes_nothing(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    load_yaml(make_uow, roster=ROSTER)
    report = run(make_uow, calendar())
    assert report.found == 4
    assert report.calendar_name == "ASEAN environment"
    stored = meetings(engine)
    assert sorted(stored) == [
        "20260203T020000Z",
        "20260303T020000Z",
        "20260403T020000Z",
        "20260503T020000Z",
    ]
    march = stored[MARCH]
    assert (march.code, march.uid, march.source) == (MARCH_CODE, UID, SOURCE)
    assert (march.start_local, march.timezone) == (datetime(2026, 3, 3, 10), "Asia/Jakarta")
    assert (march.kind, march.status, march.sequence) == ("senior-officials", "confirmed", 0)
    with make_uow() as uow:
        assert uow.calendar.meeting(MARCH_CODE).value.meeting.groups == ("AWGESC",)
        audits = len(uow.session.scalars(select(AuditRow)).all())

    again = run(make_uow, calendar())
    assert again.written == 0
    assert {c.action.value for c in again.changes} == {"unchanged"}
    with make_uow() as uow:
        assert len(uow.session.scalars(select(AuditRow)).all()) == audits
    assert meetings(engine)[MARCH].updated_at == march.updated_at


def test_a_moved_instance_moves_its_meeting_and_its_relative_deadline(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    load_yaml(make_uow, roster=ROSTER)
    run(make_uow, calendar())
    load_yaml(make_uow, roster=ROSTER, deadlines=DEADLINES)
    assert due(engine, "MARCH-NOTE") == datetime(2026, 2, 24, 17, 0, tzinfo=HANOI)
    clear_stale(engine)

    report = run(make_uow, calendar(moved="20260310T100000"))
    march = meetings(engine)[MARCH]
    assert march.start_local == datetime(2026, 3, 10, 10)
    assert march.sequence == 1
    assert due(engine, "MARCH-NOTE") == datetime(2026, 3, 3, 17, 0, tzinfo=HANOI)
    moved = {c.key: c for c in report.changes}
    assert moved["MARCH-NOTE"].note == f"follows meeting {MARCH_CODE}"
    assert plan_is_stale(engine), "reminders are planned again"


def test_cancelled_and_vanished_instances_are_kept_as_cancelled(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    run(make_uow, calendar(), group=None)
    report = run(make_uow, calendar(cancel_april=True, count=3), group=None)
    stored = meetings(engine)
    assert len(stored) == 4, "nothing is deleted"
    assert stored["20260403T020000Z"].status == "cancelled"
    assert stored["20260503T020000Z"].status == "cancelled"
    assert stored["20260503T020000Z"].removed_at is None
    assert stored["20260503T020000Z"].sequence == 1
    assert report.cancelled == (stored["20260503T020000Z"].code,)
    assert run(make_uow, calendar(cancel_april=True, count=3), group=None).written == 0


def test_a_meeting_outside_the_window_is_not_cancelled(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    run(make_uow, calendar(), group=None)
    options = ImportOptions(window=ImportWindow(date(2026, 1, 1), date(2026, 3, 31)), load=LOAD)
    report = import_calendar(
        calendar(count=2), source=SOURCE, uow=make_uow(), now=NOW, options=options
    )
    assert report.cancelled == ()
    assert {r.status for r in meetings(engine).values()} == {"confirmed"}


def test_refusals_and_dry_runs_write_nothing(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    with pytest.raises(ImportRefusedError, match="--group NOPE: no such group"):
        run(make_uow, calendar(), group="NOPE")
    with pytest.raises(CalendarRefusedError, match="line 8: cannot read DTSTART"):
        run(make_uow, calendar().replace(b"DTSTART;TZID=Asia/Jakarta:20260203", b"DTSTART;;X"))
    dry = run(make_uow, calendar(), group=None, dry_run=True)
    assert dry.written == 0
    assert dry.count()["added"] == 4
    assert meetings(engine) == {}


def test_an_instance_moved_out_of_the_window_is_not_taken_for_cancelled(
    make_uow: Callable[[], SqlAlchemyUnitOfWork], engine: Engine
) -> None:
    run(make_uow, calendar(), group=None)
    report = run(make_uow, calendar(moved="20270310T100000"), group=None)
    assert report.cancelled == ()
    assert meetings(engine)[MARCH].status == "confirmed"
