"""The pure parts of status, export and review: states, who sees what, review decisions, and
the Markdown and CSV documents."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    RelativeDue,
    Role,
    Roster,
    SubmissionStatus,
)
from core.permissions import Refusal
from core.status import (
    EVERYONE,
    Entry,
    EntryState,
    ReviewProblem,
    Version,
    count_entries,
    describe_duration,
    export_order,
    plan_review,
    status_view,
)
from db.repositories import DeadlineRecord, MeetingRecord
from services.export import (
    CSV_COLUMNS,
    Consolidation,
    ExportedInput,
    InputState,
    render_csv,
    render_markdown,
)

DUE = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # 17:00 in Ho Chi Minh City
ZONE = "Asia/Ho_Chi_Minh"


def version(
    number: int = 1,
    *,
    at: datetime = DUE - timedelta(days=2),
    status: SubmissionStatus = SubmissionStatus.RECEIVED,
    by: str = "minh",
    note: str | None = None,
    text: str = "Kế hoạch",
    links: tuple[str, ...] = (),
) -> Version:
    return Version(
        number=number,
        submitted_at=at,
        late=at > DUE,
        submitted_by=by,
        submitted_by_name=by.title(),
        on_behalf=by != "minh",
        status=status,
        reviewer_note=note,
        text=text,
        links=links,
    )


def entry(
    *versions: Version,
    person: str = "minh",
    active: bool = True,
    reason: str | None = None,
    organization: str | None = "Department of Environment",
    name: str = "Dang Quang Minh",
) -> Entry:
    return Entry(
        person=person,
        name=name,
        organization=organization,
        active=active,
        not_applicable_reason=reason,
        versions=versions,
    )


# ------------------------------------------------------------------ states


def test_a_submission_settles_an_input_before_an_excuse() -> None:
    assert entry(version(), reason="not hosting").state is EntryState.SUBMITTED
    assert entry(reason="not hosting").state is EntryState.NOT_APPLICABLE
    assert entry().state is EntryState.MISSING
    assert entry(version(), active=False).state is EntryState.WITHDRAWN


def test_the_usable_version_is_the_latest_not_returned() -> None:
    first, second = version(1), version(2, status=SubmissionStatus.RETURNED)
    assert entry(first, second).latest == second
    assert entry(first, second).usable == first
    accepted = version(3, status=SubmissionStatus.ACCEPTED)
    assert entry(first, second, accepted).usable == accepted
    assert entry(replace(first, status=SubmissionStatus.RETURNED)).usable is None


def test_counts_leave_withdrawn_assignments_out_of_the_assigned() -> None:
    late = version(at=DUE + timedelta(hours=5), status=SubmissionStatus.RETURNED)
    counts = count_entries(
        [
            entry(late),
            entry(version(status=SubmissionStatus.ACCEPTED), person="hoa"),
            entry(person="aye"),
            entry(person="ngoc", reason="no parks"),
            entry(version(), person="old", active=False),
        ]
    )
    assert (counts.assigned, counts.submitted, counts.missing) == (4, 2, 1)
    assert (counts.not_applicable, counts.withdrawn) == (1, 1)
    assert (counts.late, counts.accepted, counts.returned) == (1, 1, 1)


def test_late_by_is_measured_from_the_due_instant() -> None:
    assert version(at=DUE + timedelta(hours=26)).late_by(DUE) == timedelta(hours=26)
    assert version(at=DUE - timedelta(hours=1)).late_by(DUE) is None


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(days=3, hours=4, minutes=5), "3 days 4 hours"),
        (timedelta(days=1, minutes=5), "1 day"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute"),
        (timedelta(minutes=12), "12 minutes"),
        (timedelta(seconds=20), "less than a minute"),
    ],
)
def test_durations_read_naturally(span: timedelta, words: str) -> None:
    assert describe_duration(span) == words


def test_the_export_order_is_by_organization_then_name_with_no_organization_last() -> None:
    people = [
        entry(person="z", name="Zed", organization=None),
        entry(person="b", name="binh", organization="Ministry"),
        entry(person="a", name="An", organization="ministry"),
        entry(person="c", name="Cuong", organization="Department"),
    ]
    assert [e.person for e in sorted(people, key=export_order)] == ["c", "a", "b", "z"]


# ------------------------------------------------------------------ who sees


def _person(handle: str) -> Person:
    return Person(handle, handle.title(), f"{handle}@example.org", ZONE, Language.EN, "VN")


ROSTER = Roster(
    people={h: _person(h) for h in ("lan", "cuong", "minh", "hoa", "mai", "aye", "tuan")},
    groups={
        "AWGESC": Group(
            "AWGESC",
            "Cities",
            (
                Membership("cuong", Role.CHAIR),
                Membership("minh", Role.FOCAL),
                Membership("hoa", Role.ALTERNATE),
            ),
        ),
        "AWGEE": Group(
            "AWGEE", "Education", (Membership("mai", Role.CHAIR), Membership("aye", Role.FOCAL))
        ),
        "JPN-VN": Group("JPN-VN", "Dialogue", (Membership("tuan", Role.CHAIR),)),
    },
    coordinators=("lan",),
)
WORKPLANS = Deadline(
    "ASOEN37-WORKPLANS",
    "Work plans",
    DeadlineKind.WORKPLAN,
    RelativeDue(-21),
    meeting="ASOEN-37",
    assign=("AWGESC", "AWGEE", "lan"),
)


def test_the_operator_and_coordinators_see_everyone() -> None:
    assert status_view(None, WORKPLANS, ROSTER) == EVERYONE
    assert status_view("lan", WORKPLANS, ROSTER) == EVERYONE


def test_a_chair_sees_the_people_of_the_groups_they_chair() -> None:
    view = status_view("cuong", WORKPLANS, ROSTER)
    assert not isinstance(view, Refusal)
    assert not view.everyone
    assert view.shows("minh")
    assert not view.shows("aye")
    assert not view.shows("lan")  # assigned by handle, not through the chair's group


@pytest.mark.parametrize(
    ("actor", "refusal"),
    [
        ("tuan", Refusal.NOT_A_CHAIR),  # chairs another group
        ("minh", Refusal.NOT_A_CHAIR),  # a focal point
        ("hoa", Refusal.NOT_A_CHAIR),  # an alternate
        ("nobody", Refusal.UNKNOWN_PERSON),
    ],
)
def test_anyone_else_is_refused(actor: str, refusal: Refusal) -> None:
    assert status_view(actor, WORKPLANS, ROSTER) is refusal


# ------------------------------------------------------------------ review


def test_a_review_takes_the_latest_version_unless_told() -> None:
    two = entry(version(1), version(2))
    change = plan_review(two, accept=True, note=" fine ")
    assert not isinstance(change, ReviewProblem)
    assert (change.version.number, change.status, change.note) == (
        2,
        SubmissionStatus.ACCEPTED,
        "fine",
    )
    older = plan_review(two, accept=False, note=None, version=1)
    assert not isinstance(older, ReviewProblem)
    assert (older.version.number, older.status, older.changed) == (
        1,
        SubmissionStatus.RETURNED,
        True,
    )


def test_a_review_of_nothing_or_of_a_missing_version_is_a_problem() -> None:
    assert plan_review(entry(), accept=True, note=None) is ReviewProblem.NO_SUBMISSION
    assert (
        plan_review(entry(version(1)), accept=True, note=None, version=3)
        is ReviewProblem.NO_SUCH_VERSION
    )


def test_deciding_the_same_again_is_a_no_op_unless_the_note_is_new() -> None:
    returned = entry(version(1, status=SubmissionStatus.RETURNED, note="add the budget"))
    for note in (None, "", "add the budget"):
        change = plan_review(returned, accept=False, note=note)
        assert not isinstance(change, ReviewProblem)
        assert not change.changed
        assert change.note == "add the budget"
    renoted = plan_review(returned, accept=False, note="and the targets")
    assert not isinstance(renoted, ReviewProblem)
    assert (renoted.changed, renoted.note) == (True, "and the targets")


def test_a_new_decision_without_a_note_drops_the_old_note() -> None:
    returned = entry(version(1, status=SubmissionStatus.RETURNED, note="add the budget"))
    change = plan_review(returned, accept=True, note=None)
    assert not isinstance(change, ReviewProblem)
    assert (change.changed, change.status, change.note) == (True, SubmissionStatus.ACCEPTED, None)


# ------------------------------------------------------------------ export

MEETING = MeetingRecord(
    Meeting(
        "ASOEN-37",
        "37th ASEAN Senior Officials on the Environment Meeting",
        MeetingKind.SENIOR_OFFICIALS,
        datetime(2026, 9, 22, 9),
        datetime(2026, 9, 24, 17),
        "Asia/Manila",
        venue="Manila, Philippines",
    ),
    uid="asoen-37",
    sequence=0,
    starts_at=datetime(2026, 9, 22, 1, tzinfo=UTC),
    ends_at=datetime(2026, 9, 24, 9, tzinfo=UTC),
)


def consolidation(*entries: Entry) -> Consolidation:
    deadline = replace(WORKPLANS, due=AbsoluteDue(datetime(2026, 9, 1, 17)))
    inputs = tuple(ExportedInput(e, e.usable) for e in sorted(entries, key=export_order))
    return Consolidation(DeadlineRecord(deadline, DUE, 0), MEETING, inputs)


WORLD_TEXT = 'Kế hoạch 2027 🌏 中文 "quoted", with commas\r\nand a second line\n'


def example() -> Consolidation:
    late = version(
        2,
        at=DUE + timedelta(days=1, hours=3),
        by="hoa",
        status=SubmissionStatus.ACCEPTED,
        note="thanks",
        text=WORLD_TEXT,
        links=("https://example.org/plan.pdf", "https://example.org/annex"),
    )
    returned = version(3, status=SubmissionStatus.RETURNED, text="not this one")
    return consolidation(
        entry(version(1, text="first"), late, returned),
        entry(person="aye", name="Aye Aye", organization="Myanmar"),
        entry(person="ngoc", name="Ngo Bich Ngoc", organization="Parks", reason="no parks"),
        entry(
            version(1, status=SubmissionStatus.RETURNED),
            person="hoa",
            name="Bui Thi Hoa",
            organization="Department of Environment",
        ),
    )


def test_the_markdown_document_has_one_section_per_person_with_the_usable_version() -> None:
    document = render_markdown(example(), timezone=ZONE)
    lines = document.splitlines()
    assert lines[0] == "# ASOEN37-WORKPLANS — Work plans"
    assert "- Meeting: ASOEN-37 — 37th ASEAN Senior Officials on the Environment Meeting" in (
        document
    )
    assert "- Due: Tue 2026-09-01 17:00 (Asia/Ho_Chi_Minh)" in lines
    assert "- Inputs: 1 received, 2 missing, 1 not applicable" in lines
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [
        "## Department of Environment — Bui Thi Hoa (hoa)",
        "## Department of Environment — Dang Quang Minh (minh)",
        "## Myanmar — Aye Aye (aye)",
        "## Parks — Ngo Bich Ngoc (ngoc)",
    ]
    assert (
        "Version 2 · submitted Wed 2026-09-02 20:00 (Asia/Ho_Chi_Minh) · late by 1 day 3 hours"
        " · accepted · by Hoa on behalf of Dang Quang Minh · note: thanks · later returned: v3"
    ) in lines
    assert 'Kế hoạch 2027 🌏 中文 "quoted", with commas\nand a second line' in document
    assert "- https://example.org/plan.pdf" in lines
    assert "not this one" not in document
    assert "first" not in document
    assert "_Returned: v1._" in lines
    assert "_No input received._" in lines
    assert "_Not applicable: no parks_" in lines
    assert render_markdown(example(), timezone=ZONE) == document


def test_the_csv_has_a_header_and_one_row_per_input_that_parse_back() -> None:
    document = render_csv(example(), timezone=ZONE)
    assert document.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(document, newline="")))
    assert [r["person"] for r in rows] == ["hoa", "minh", "aye", "ngoc"]
    minh = rows[1]
    assert minh["text"] == WORLD_TEXT
    assert minh["state"] == InputState.SUBMITTED
    assert (minh["version"], minh["late"], minh["late_by"]) == ("2", "yes", "1 day 3 hours")
    assert (minh["submitted_at"], minh["due"]) == (
        "2026-09-02T20:00+07:00",
        "2026-09-01T17:00+07:00",
    )
    assert (minh["submitted_by"], minh["on_behalf"], minh["review"]) == ("hoa", "yes", "accepted")
    assert minh["links"].splitlines() == [
        "https://example.org/plan.pdf",
        "https://example.org/annex",
    ]
    assert [r["state"] for r in rows] == ["missing", "submitted", "missing", "not-applicable"]
    assert rows[3]["not_applicable_reason"] == "no parks"
    assert rows[0]["version"] == ""  # only a returned version: nothing to consolidate


def test_a_forty_thousand_character_input_is_exported_whole() -> None:
    text = "Đầu vào " + "ý🌏" * 19_996
    doc = consolidation(entry(version(1, text=text)))
    [row] = list(csv.DictReader(io.StringIO(render_csv(doc, timezone=ZONE), newline="")))
    assert row["text"] == text
    assert text in render_markdown(doc, timezone=ZONE)


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_any_text_survives_the_csv(text: str) -> None:
    doc = consolidation(entry(version(1, text=text)))
    encoded = render_csv(doc, timezone=ZONE).encode("utf-8")
    [row] = list(csv.DictReader(io.StringIO(encoded.decode("utf-8"), newline="")))
    formula = text.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert row["text"] == (f"'{text}" if formula else text), "as typed, or made text"


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("-3 days", "'-3 days"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Kế hoạch = 3", "Kế hoạch = 3"),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_made_text(typed: str, cell: str) -> None:
    doc = consolidation(entry(version(1, text=typed)))
    [row] = list(csv.DictReader(io.StringIO(render_csv(doc, timezone=ZONE), newline="")))
    assert row["text"] == cell
