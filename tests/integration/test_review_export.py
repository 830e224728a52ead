"""Status, export and review through the services, on SQLite and PostgreSQL; review notices
delivered through the Slack stand-in and the outbox."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bots.slack.messages import render_plain, render_review
from bots.slack.notifier import OutboxNotifier, SlackNotifier, build_web_clients
from core.model import SubmissionStatus
from core.notices import REVIEW_EVENT, ReviewNotice
from core.status import EntryState
from db.engine import build_session_factory
from db.models import AuditRow, OutboxRow, PersonRow, SubmissionRow
from services.export import InputState, consolidate_inputs, render_csv, render_markdown
from services.ports import Delivery, DeliveryFailedError
from services.review import Review, ReviewRefusal, ReviewRefusedError, review_submission
from services.status import (
    AccessProblem,
    AccessRefusedError,
    UnknownDeadlineError,
    submission_status,
)
from services.submissions import (
    Submission,
    declare_not_applicable,
    record_submission,
)
from tests.fakes import RecordingNotifier
from tests.integration.test_loading import CALENDAR, ROSTER, load

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tests.slack_standin import SlackStandIn

LOADED = datetime(2026, 7, 1, tzinfo=UTC)
CODE = "ASOEN37-WORKPLANS"  # due Tue 1 Sep 2026 17:00 Hanoi (10:00 UTC); minh and aye owe it
DUE = datetime(2026, 9, 1, 10, tzinfo=UTC)
ON_TIME = datetime(2026, 8, 20, 3, tzinfo=UTC)
LATE = DUE + timedelta(days=1, hours=2)
REVIEWED = datetime(2026, 9, 4, 2, tzinfo=UTC)
ZONE = "Asia/Ho_Chi_Minh"


@pytest.fixture
def office(make_uow):
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    return make_uow


def submit(make_uow, actor: str, text: str, *, person=None, at=ON_TIME, links=()) -> int:
    receipt = record_submission(
        Submission(deadline=CODE, text=text, actor=actor, person=person, links=links),
        uow=make_uow(),
        now=at,
    )
    return receipt.version


@pytest.fixture
def submitted(office):
    """minh v1 on time; hoa (his alternate) sends v2 for him late; aye is excused."""
    submit(office, "minh", "Kế hoạch 2027 🌏 中文", links=("https://example.org/v1",))
    submit(office, "hoa", 'Bản sửa, "quoted"\nline two', person="minh", at=LATE)
    declare_not_applicable(
        CODE, actor="aye", reason="Myanmar does not host", uow=office(), now=LATE
    )
    return office


def review(make_uow, notifier=None, **kwargs):
    values = {"deadline": CODE, "person": "minh", "accept": True, "actor": "cli:lan"} | kwargs
    return review_submission(
        Review(**values), uow=make_uow(), notifier=notifier or RecordingNotifier(), now=REVIEWED
    )


def rows(engine: Engine, table=SubmissionRow) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return sorted(map(tuple, connection.execute(select(table))), key=repr)


def count(engine: Engine, table=AuditRow) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))


# ------------------------------------------------------------------ status


def test_the_status_shows_versions_lateness_on_behalf_and_excuses(submitted) -> None:
    report = submission_status(CODE.lower(), uow=submitted())

    assert report.code == CODE
    assert report.due_at == DUE
    lines = {line.person: line for line in report.lines}
    assert [line.person for line in report.lines] == ["aye", "minh"]
    minh = lines["minh"]
    assert minh.state is EntryState.SUBMITTED
    latest = minh.latest
    assert latest is not None
    assert (latest.number, latest.submitted_at, latest.late) == (2, LATE, True)
    assert latest.late_by(report.due_at) == timedelta(days=1, hours=2)
    assert (latest.submitted_by, latest.submitted_by_name, latest.on_behalf) == (
        "hoa",
        "Pham Thi Hoa",
        True,
    )
    assert latest.status is SubmissionStatus.RECEIVED
    assert latest.text == ""  # the status reads no texts
    assert [v.number for v in minh.versions] == [1, 2]
    assert lines["aye"].state is EntryState.NOT_APPLICABLE
    assert lines["aye"].not_applicable_reason == "Myanmar does not host"
    counts = report.counts
    assert (counts.assigned, counts.submitted, counts.missing, counts.not_applicable) == (
        2,
        1,
        0,
        1,
    )
    assert counts.late == 1


def test_a_withdrawn_assignment_is_shown_apart_and_keeps_its_versions(submitted) -> None:
    moved = ROSTER.replace("      - {person: minh, role: focal}\n", "", 1)
    load(submitted, now=LOADED + timedelta(days=70), roster=moved, calendar=CALENDAR)
    report = submission_status(CODE, uow=submitted())
    assert [(line.person, line.state) for line in report.lines] == [
        ("aye", EntryState.NOT_APPLICABLE),
        ("minh", EntryState.WITHDRAWN),
    ]
    assert report.lines[1].latest is not None
    assert (report.counts.assigned, report.counts.withdrawn) == (1, 1)


def test_coordinators_see_everyone_and_a_chair_only_their_groups_people(submitted) -> None:
    assert [
        line.person for line in submission_status(CODE, uow=submitted(), actor="lan").lines
    ] == [
        "aye",
        "minh",
    ]
    chair = submission_status(CODE, uow=submitted(), actor="cuong")  # chairs AWGESC, not AWGEE
    assert [line.person for line in chair.lines] == ["minh"]
    assert not chair.everyone
    assert chair.counts.assigned == 1


@pytest.mark.parametrize(
    ("actor", "problem"),
    [
        ("minh", AccessProblem.NOT_A_CHAIR),
        ("hoa", AccessProblem.NOT_A_CHAIR),
        ("nobody", AccessProblem.UNKNOWN_PERSON),
    ],
)
def test_anyone_else_is_refused_the_status(submitted, engine, actor, problem) -> None:
    audit = count(engine)
    with pytest.raises(AccessRefusedError) as caught:
        submission_status(CODE, uow=submitted(), actor=actor)
    assert caught.value.problem is problem
    assert count(engine) == audit


def test_an_unknown_deadline_gets_a_suggestion(office) -> None:
    with pytest.raises(UnknownDeadlineError, match=r"did you mean ASOEN37-WORKPLANS\?"):
        submission_status("ASOEN37-WORKPLAN", uow=office())


# ------------------------------------------------------------------ review


@dataclass
class CheckingNotifier(RecordingNotifier):
    """Records, and notes what the store said about the version when each notice went out."""

    engine: Engine | None = None
    seen: list[str] = field(default_factory=list)

    def send(self, message):
        assert self.engine is not None
        with self.engine.connect() as connection:
            self.seen.append(
                connection.scalar(select(SubmissionRow.status).where(SubmissionRow.version == 2))
            )
        return super().send(message)


def test_a_return_is_stored_audited_committed_then_told_to_submitter_and_focal_point(
    submitted, engine
) -> None:
    notifier = CheckingNotifier(engine=engine)
    outcome = review(
        submitted, notifier, accept=False, note="Please add the budget", reviewer="lan"
    )

    assert (outcome.version, outcome.status, outcome.changed) == (
        2,
        SubmissionStatus.RETURNED,
        True,
    )
    assert outcome.told == ("hoa", "minh")
    assert notifier.seen == ["returned", "returned"]  # committed before anyone was told
    with engine.connect() as connection:
        stored = connection.execute(
            select(
                SubmissionRow.version,
                SubmissionRow.status,
                SubmissionRow.reviewer_note,
                SubmissionRow.reviewed_at,
                PersonRow.handle,
            )
            .outerjoin(PersonRow, SubmissionRow.reviewed_by_id == PersonRow.id)
            .order_by(SubmissionRow.version)
        ).all()
        audit = connection.execute(
            select(AuditRow.actor, AuditRow.action, AuditRow.entity_key, AuditRow.changes).where(
                AuditRow.entity == "submission", AuditRow.action == "returned"
            )
        ).all()
    assert [tuple(r) for r in stored] == [
        (1, "received", None, None, None),
        (2, "returned", "Please add the budget", REVIEWED, "lan"),
    ]
    assert [tuple(a) for a in audit] == [
        (
            "cli:lan",
            "returned",
            f"{CODE}/minh/v2",
            {
                "status": ["received", "returned"],
                "reviewer_note": [None, "Please add the budget"],
                "reviewer": "lan",
            },
        )
    ]
    to_hoa, to_minh = notifier.reviews()
    assert (to_hoa.recipient.handle, to_minh.recipient.handle) == ("hoa", "minh")
    assert to_hoa.about_someone_else
    assert not to_minh.about_someone_else
    assert (to_minh.version, to_minh.accepted, to_minh.note) == (2, False, "Please add the budget")
    assert (to_minh.reviewer, to_minh.now, to_minh.person_name) == (
        "Nguyen Thi Lan",
        REVIEWED,
        "Le Minh",
    )
    assert to_minh.deadline.code == CODE
    assert to_minh.meeting is not None
    assert to_minh.meeting.code == "ASOEN-37"


def test_the_operator_is_kept_as_no_reviewer_and_an_older_version_can_be_reviewed(
    submitted, engine
) -> None:
    notifier = RecordingNotifier()
    outcome = review(submitted, notifier, version=1)
    assert (outcome.version, outcome.status, outcome.told) == (
        1,
        SubmissionStatus.ACCEPTED,
        ("minh",),
    )
    with engine.connect() as connection:
        reviewed = connection.execute(
            select(SubmissionRow.status, SubmissionRow.reviewed_by_id).where(
                SubmissionRow.version == 1
            )
        ).one()
    assert tuple(reviewed) == ("accepted", None)
    [notice] = notifier.reviews()
    assert notice.reviewer is None


def test_the_same_decision_twice_is_a_no_op(submitted, engine) -> None:
    review(submitted, accept=False, note="add the budget")
    before, audit = rows(engine), count(engine)
    notifier = RecordingNotifier()

    again = review(submitted, notifier, accept=False)

    assert not again.changed
    assert again.note == "add the budget"
    assert notifier.sent == []
    assert rows(engine) == before
    assert count(engine) == audit


def test_a_changed_decision_is_stored_and_told_again(submitted, engine) -> None:
    review(submitted, accept=False, note="add the budget")
    notifier = RecordingNotifier()
    outcome = review(submitted, notifier, accept=True)
    assert (outcome.changed, outcome.status, outcome.note) == (
        True,
        SubmissionStatus.ACCEPTED,
        None,
    )
    assert [n.accepted for n in notifier.reviews()] == [True, True]
    with engine.connect() as connection:
        actions = connection.scalars(
            select(AuditRow.action).where(AuditRow.entity == "submission").order_by(AuditRow.id)
        ).all()
    assert actions[-2:] == ["returned", "accepted"]


@pytest.mark.parametrize(
    ("kwargs", "refusal"),
    [
        ({"deadline": "ASOEN37-WORKPLAN"}, (UnknownDeadlineError, None, "did you mean")),
        (
            {"person": "mihn"},
            (ReviewRefusedError, ReviewRefusal.UNKNOWN_PERSON, "did you mean minh"),
        ),
        ({"person": "cuong"}, (ReviewRefusedError, ReviewRefusal.NOT_ASSIGNED, "cuong owes no")),
        ({"person": "aye"}, (ReviewRefusedError, ReviewRefusal.NO_SUBMISSION, "submitted nothing")),
        ({"version": 7}, (ReviewRefusedError, ReviewRefusal.NO_SUCH_VERSION, "(versions: 1, 2)")),
        ({"note": "x" * 2001}, (ReviewRefusedError, ReviewRefusal.TOO_LONG, "at most 2000")),
        ({"reviewer": "minh"}, (AccessRefusedError, AccessProblem.NOT_A_COORDINATOR, "only the")),
        ({"reviewer": "nobody"}, (AccessRefusedError, AccessProblem.UNKNOWN_PERSON, "not in the")),
    ],
)
def test_each_refusal_writes_nothing_and_tells_no_one(submitted, engine, kwargs, refusal) -> None:
    error, problem, message = refusal
    before, audit = rows(engine), count(engine)
    notifier = RecordingNotifier()
    with pytest.raises(error) as caught:
        review(submitted, notifier, **kwargs)
    assert message in str(caught.value)
    if problem is not None:
        assert caught.value.problem is problem
    assert rows(engine) == before
    assert count(engine) == audit
    assert notifier.sent == []


def test_a_failed_notice_does_not_undo_the_review(submitted, engine) -> None:
    notifier = RecordingNotifier(fail_next=[DeliveryFailedError("users_not_found", permanent=True)])
    outcome = review(submitted, notifier)
    assert outcome.failed == (("hoa", "users_not_found"),)
    assert outcome.told == ("minh",)
    with engine.connect() as connection:
        assert (
            connection.scalar(select(SubmissionRow.status).where(SubmissionRow.version == 2))
            == "accepted"
        )


# ------------------------------------------------------------------ export


def test_the_export_takes_the_latest_version_not_returned(submitted) -> None:
    review(submitted, accept=False, note="add the budget")  # v2 returned: v1 is what counts
    document = consolidate_inputs(CODE, uow=submitted())

    assert [(i.entry.person, i.state) for i in document.inputs] == [
        ("aye", InputState.NOT_APPLICABLE),
        ("minh", InputState.SUBMITTED),
    ]
    minh = document.inputs[1]
    assert minh.version is not None
    assert (minh.version.number, minh.version.text) == (1, "Kế hoạch 2027 🌏 中文")
    assert minh.version.links == ("https://example.org/v1",)
    assert minh.returned == (2,)

    review(submitted, accept=False, version=1)  # nothing left to consolidate: missing
    [_, minh] = consolidate_inputs(CODE, uow=submitted()).inputs
    assert (minh.version, minh.state) == (None, InputState.MISSING)


def test_the_export_documents_carry_the_texts_whole(submitted) -> None:
    long_text = "Đầu vào " + "ý" * 39_990
    submit(submitted, "minh", long_text, at=LATE + timedelta(hours=1))
    document = consolidate_inputs(CODE, uow=submitted())

    markdown = render_markdown(document, timezone=ZONE)
    assert long_text in markdown
    assert "## Le Minh (minh)" in markdown
    assert (
        "Version 3 · submitted Wed 2026-09-02 20:00 (Asia/Ho_Chi_Minh) · late by 1 day 3 hours"
        in (markdown)
    )
    table = list(csv.DictReader(io.StringIO(render_csv(document, timezone=ZONE), newline="")))
    assert [(r["person"], r["state"], r["version"]) for r in table] == [
        ("aye", "not-applicable", ""),
        ("minh", "submitted", "3"),
    ]
    assert table[1]["text"] == long_text
    again = consolidate_inputs(CODE, uow=submitted())
    assert render_csv(again, timezone=ZONE) == render_csv(document, timezone=ZONE)


def test_only_coordinators_may_export(submitted) -> None:
    assert consolidate_inputs(CODE, uow=submitted(), actor="lan").inputs
    with pytest.raises(AccessRefusedError) as caught:
        consolidate_inputs(CODE, uow=submitted(), actor="cuong")
    assert caught.value.problem is AccessProblem.NOT_A_COORDINATOR


# ------------------------------------------------------------------ delivery


@dataclass
class Tee:
    """Keeps each notice in ``recorder`` and delivers it through ``notifier``."""

    recorder: RecordingNotifier
    notifier: SlackNotifier | OutboxNotifier

    def send(self, message: ReviewNotice) -> Delivery:
        self.recorder.send(message)
        return self.notifier.send(message)


def test_the_notices_reach_slack_as_direct_messages(submitted, slack: SlackStandIn) -> None:
    minh = slack.add_user(name="minh", email="minh@example.gov.vn")
    hoa = slack.add_user(name="hoa", email="HOA@example.gov.vn")
    recorder = RecordingNotifier()
    clients = build_web_clients(token="xoxb-focal-test", base_url=slack.url)  # noqa: S106
    notifier = SlackNotifier(clients, digest_channel=None, sleep=lambda _: None)

    outcome = review(
        submitted, Tee(recorder, notifier), accept=False, note="add <the> budget & targets"
    )

    assert outcome.told == ("hoa", "minh")
    to_hoa, to_minh = recorder.reviews()
    [kept] = slack.sent_to(minh)
    assert kept.channel == slack.dm_channel(minh)
    assert kept.metadata == {"event_type": REVIEW_EVENT, "event_payload": {"keys": [to_minh.key]}}
    rendered = render_review(to_minh)
    assert (kept.text, kept.blocks) == (rendered.text, rendered.blocks_json())
    [for_hoa] = slack.sent_to(hoa)
    assert for_hoa.blocks == render_review(to_hoa).blocks_json()
    assert slack.violations == []
    found = notifier.find_sent(to_minh, since=REVIEWED - timedelta(days=3650))
    assert found == {to_minh.key: Delivery(kept.channel, kept.ts)}


def test_without_slack_the_notices_go_to_the_outbox_and_the_console(submitted, engine) -> None:
    factory = build_session_factory(engine)
    echoed: list[str] = []
    notifier = OutboxNotifier(factory, clock=lambda: REVIEWED, echo=echoed.append)
    recorder = RecordingNotifier()

    review(submitted, Tee(recorder, notifier), note="good")

    with factory() as session:
        kept = session.execute(
            select(OutboxRow, PersonRow.handle)
            .join(PersonRow, OutboxRow.person_id == PersonRow.id)
            .order_by(OutboxRow.id)
        ).all()
    assert [(row.kind, row.channel, handle) for row, handle in kept] == [
        ("review", "console", "hoa"),
        ("review", "console", "minh"),
    ]
    to_hoa, to_minh = recorder.reviews()
    row = kept[1][0]
    assert row.text == render_plain(to_minh)
    assert row.blocks == render_review(to_minh).blocks_json()
    assert row.message_metadata == {
        "event_type": REVIEW_EVENT,
        "event_payload": {"keys": [to_minh.key]},
    }
    assert echoed[1] == f"To Le Minh (@minh):\n{render_plain(to_minh)}"
    assert "Note: good" in echoed[0]
    found = notifier.find_sent(to_hoa, since=REVIEWED - timedelta(minutes=1))
    assert found == {to_hoa.key: Delivery("outbox", str(kept[0][0].id))}
