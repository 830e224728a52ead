"""Submissions and "not applicable" through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from db.models import AuditRow, SubmissionRow
from services.submissions import (
    Problem,
    Submission,
    SubmissionRefusedError,
    declare_not_applicable,
    record_submission,
)
from tests.integration.test_loading import CALENDAR, ROSTER, load

LOADED = datetime(2026, 7, 1, tzinfo=UTC)
NOW = datetime(2026, 8, 20, 3, tzinfo=UTC)  # before ASOEN37-WORKPLANS is due (1 September)
CODE = "ASOEN37-WORKPLANS"


@pytest.fixture
def office(make_uow):
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    return make_uow


def submit(make_uow, actor: str, text: str = "Kế hoạch 2027", *, person=None, code=CODE, at=NOW):
    return record_submission(
        Submission(deadline=code, text=text, actor=actor, person=person), uow=make_uow(), now=at
    )


def count(engine, table=SubmissionRow) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))


def refused(make_uow, actor: str, **kwargs) -> SubmissionRefusedError:
    with pytest.raises(SubmissionRefusedError) as caught:
        submit(make_uow, actor, **kwargs)
    return caught.value


def test_each_submission_is_a_new_version_with_a_receipt(office, engine) -> None:
    first = submit(office, "minh")
    second = submit(office, "minh", "v2 🌏 中文", at=NOW + timedelta(hours=1))
    assert (first.version, first.late, first.on_behalf) == (1, False, False)
    assert (second.version, second.person) == (2, "minh")
    with office() as uow:
        stored = uow.submissions.versions(CODE, "minh")
    assert [s.version for s in stored] == [1, 2]
    with engine.connect() as connection:
        texts = connection.scalars(select(SubmissionRow.text).order_by(SubmissionRow.version))
        assert list(texts) == ["Kế hoạch 2027", "v2 🌏 中文"]
    assert count(engine, AuditRow) > 0


def test_late_is_recorded_with_how_late(office) -> None:
    receipt = submit(office, "aye", at=datetime(2026, 9, 3, 3, tzinfo=UTC))
    assert receipt.late
    assert receipt.late_by is not None
    assert receipt.late_by > timedelta(days=1)


def test_an_alternate_submits_on_behalf_and_it_is_recorded(office) -> None:
    receipt = submit(office, "hoa", person="minh")
    assert (receipt.person, receipt.submitted_by, receipt.on_behalf) == ("minh", "hoa", True)
    with office() as uow:
        (stored,) = uow.submissions.versions(CODE, "minh")
    assert (stored.submitted_by, stored.on_behalf) == ("hoa", True)


def test_a_coordinator_may_submit_for_anyone(office) -> None:
    assert submit(office, "lan", person="aye").on_behalf


@pytest.mark.parametrize(
    ("actor", "kwargs", "problem"),
    [
        ("hoa", {"person": "aye"}, Problem.NOT_YOURS),  # alternate of another group
        ("minh", {"person": "aye"}, Problem.NOT_YOURS),
        ("cuong", {}, Problem.NOT_ASSIGNED),  # the chair owes nothing himself
        ("nobody", {}, Problem.UNKNOWN_PERSON),
        ("minh", {"code": "ASOEN37-WORKPLAN"}, Problem.UNKNOWN_DEADLINE),
        ("minh", {"text": "   "}, Problem.EMPTY),
        ("minh", {"text": "x" * 40_001}, Problem.TOO_LONG),
    ],
)
def test_each_refusal_writes_nothing(office, engine, actor, kwargs, problem) -> None:
    audit = count(engine, AuditRow)
    error = refused(office, actor, **kwargs)
    assert error.problem is problem
    assert count(engine) == 0
    assert count(engine, AuditRow) == audit


def test_an_unknown_code_gets_a_suggestion(office) -> None:
    error = refused(office, "minh", code="ASOEN37-WORKPLAN")
    assert "did you mean ASOEN37-WORKPLANS?" in error.detail


def test_codes_are_matched_without_regard_to_case(office) -> None:
    assert submit(office, "minh", code=CODE.lower()).deadline == CODE


def test_forty_thousand_characters_are_kept_whole(office, engine) -> None:
    text = "Đầu vào " + "ý" * 39_990
    submit(office, "minh", text)
    with engine.connect() as connection:
        assert connection.scalar(select(SubmissionRow.text)) == text


def test_a_cancelled_meeting_takes_no_inputs(make_uow, engine) -> None:
    cancelled = CALENDAR.replace(
        "    groups: [AWGESC, AWGEE]\n", "    groups: [AWGESC, AWGEE]\n    status: cancelled\n", 1
    )
    load(make_uow, now=LOADED, roster=ROSTER, calendar=cancelled)
    assert refused(make_uow, "minh").problem is Problem.CANCELLED
    assert count(engine) == 0


def test_fifty_at_once_get_consecutive_versions_and_none_is_lost(office, engine) -> None:
    errors: list[BaseException] = []

    def one(number: int) -> None:
        try:
            submit(office, "minh", f"attempt {number}")
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        rows = connection.execute(select(SubmissionRow.version, SubmissionRow.text)).all()
    assert sorted(v for v, _ in rows) == list(range(1, 51))
    assert {t for _, t in rows} == {f"attempt {n}" for n in range(50)}


def test_not_applicable_is_recorded_with_its_reason(office) -> None:
    code = declare_not_applicable(
        CODE.lower(), actor="aye", reason="Myanmar does not host", uow=office(), now=NOW
    )
    assert code == CODE
    with office() as uow:
        status = {s.handle: s for s in uow.assignments.status(CODE)}
    assert status["aye"].not_applicable_reason == "Myanmar does not host"
    with pytest.raises(SubmissionRefusedError) as caught:
        declare_not_applicable(CODE, actor="aye", reason=" ", uow=office(), now=NOW)
    assert caught.value.problem is Problem.EMPTY
