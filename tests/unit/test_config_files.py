"""Calendar and roster files: YAML to domain values, or every error as FILE:LINE: field: reason.

Parsed with ``parse_yaml``, read with ``parse_file``, checked together with ``check_contents``.
"""

import textwrap
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.yaml_source import YamlSourceError, parse_yaml
from core.config_files import FileContents, Known, check_contents, parse_file
from core.deadlines import resolve_due
from core.model import (
    AbsoluteDue,
    Deadline,
    DeadlineKind,
    Group,
    Language,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Membership,
    Person,
    RelativeDue,
    Role,
)
from core.source import LoadError, MapNode, Scalar
from core.workdays import WorkingCalendar

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CALENDAR = ROOT / "config" / "calendar" / "asean-environment-2026.yaml"
SAMPLE_ROSTER = ROOT / "config" / "roster.example.yaml"

# What the calendar files may refer to without defining it.
NEITHER = "is neither a group code nor a person's handle"
ROSTER_KNOWN = Known(groups=frozenset({"ASOEN", "AWGESC"}), people=frozenset({"lan", "minh"}))


def read(text: str, file: str) -> tuple[FileContents, list[LoadError]]:
    try:
        root = parse_yaml(textwrap.dedent(text), file)
    except YamlSourceError as exc:
        return FileContents(), list(exc.errors)
    return parse_file(root, file, default_timezone="Asia/Ho_Chi_Minh", default_country="VN")


def load(files: dict[str, str], known: Known | None = None) -> tuple[FileContents, list[str]]:
    """Read every file, then check them together; the errors rendered, in file and line order."""
    everything = FileContents()
    errors: list[LoadError] = []
    for file, text in files.items():
        contents, found = read(text, file)
        everything.extend(contents)
        errors += found
    errors += check_contents(everything, known or Known())
    return everything, [str(e) for e in sorted(errors)]


def load_errors(text: str, *, file: str = "cal.yaml", known: Known = ROSTER_KNOWN) -> list[str]:
    return load({file: text}, known)[1]


# ------------------------------------------------------------------ a valid load

CALENDAR = """\
    meetings:
      - code: ASOEN-37
        title: 37th ASEAN Senior Officials on the Environment Meeting
        titles: {vi: Hội nghị Quan chức cấp cao ASEAN về môi trường lần thứ 37}
        kind: senior-officials
        start: 2026-09-22T09:00
        end: 2026-09-24T17:00
        timezone: Asia/Manila
        venue: Manila, Philippines
        host_country: PH
        groups: [ASOEN]
        status: confirmed
      - code: AWGESC-2026
        title: Working group on sustainable cities
        start: 2026-07-07
        end: 2026-07-08
        groups:
          - AWGESC
          - ASOEN
    deadlines:
      - code: ASOEN37-WORKPLANS
        title: 2027 work plans of the working groups for ASOEN 37
        kind: workplan
        meeting: ASOEN-37
        due: -21d
        assign: [AWGESC, lan]        # group codes and/or person handles
      - code: BRIEF
        title: Briefing note
        kind: Briefing
        due: 2026-08-28
        timezone: Europe/Oslo
      - code: WD
        title: Working-day deadline
        meeting: AWGESC-2026
        due: -10wd
"""

ROSTER = """\
    coordinators: [lan]
    people:
      - handle: lan
        name: Nguyen Thi Lan
        email: Lan@Example.gov.vn
        slack: U0LAN0001
        timezone: Asia/Ho_Chi_Minh
        language: vi
        country: VN
        organization: ASOEN Viet Nam Office
      - handle: minh
        name: Dang Quang Minh
        email: minh@example.gov.vn
        timezone: Asia/Ho_Chi_Minh
      - handle: kari
        name: Kari Nordmann
        email: kari@example.no
        timezone: Europe/Oslo
        language: en
        country: NO
    groups:
      - code: AWGESC
        name: ASEAN Working Group on Environmentally Sustainable Cities
        members:
          - {person: minh, role: focal}
          - {person: lan, role: chair}
          - {person: kari}
      - code: ASOEN
        name: ASOEN Viet Nam
"""


def test_a_valid_calendar_and_roster() -> None:
    contents, errors = load({"cal.yaml": CALENDAR, "roster.yaml": ROSTER})
    assert errors == []
    meetings = {e.value.code: e.value for e in contents.meetings}
    assert meetings == {
        "ASOEN-37": Meeting(
            code="ASOEN-37",
            title="37th ASEAN Senior Officials on the Environment Meeting",
            titles={"vi": "Hội nghị Quan chức cấp cao ASEAN về môi trường lần thứ 37"},
            kind=MeetingKind.SENIOR_OFFICIALS,
            start=datetime(2026, 9, 22, 9, 0),
            end=datetime(2026, 9, 24, 17, 0),
            timezone="Asia/Manila",
            all_day=False,
            venue="Manila, Philippines",
            host_country="PH",
            groups=("ASOEN",),
            status=MeetingStatus.CONFIRMED,
        ),
        "AWGESC-2026": Meeting(
            code="AWGESC-2026",
            title="Working group on sustainable cities",
            kind=MeetingKind.OTHER,
            start=datetime(2026, 7, 7),
            end=datetime(2026, 7, 8),
            timezone="Asia/Ho_Chi_Minh",
            all_day=True,
            groups=("ASOEN", "AWGESC"),
        ),
    }
    assert meetings["ASOEN-37"].title_in("vi").startswith("Hội nghị")
    deadlines = {e.value.code: e.value for e in contents.deadlines}
    assert deadlines == {
        "ASOEN37-WORKPLANS": Deadline(
            code="ASOEN37-WORKPLANS",
            title="2027 work plans of the working groups for ASOEN 37",
            kind=DeadlineKind.WORKPLAN,
            due=RelativeDue(days=-21),
            meeting="ASOEN-37",
            assign=("AWGESC", "lan"),
        ),
        "BRIEF": Deadline(
            code="BRIEF",
            title="Briefing note",
            kind=DeadlineKind.BRIEFING,
            due=AbsoluteDue(at=datetime(2026, 8, 28, 17, 0), date_only=True),
            timezone="Europe/Oslo",
        ),
        "WD": Deadline(
            code="WD",
            title="Working-day deadline",
            kind=DeadlineKind.OTHER,
            due=RelativeDue(days=-10, working_days=True),
            meeting="AWGESC-2026",
        ),
    }
    people = {e.value.handle: e.value for e in contents.people}
    assert people == {
        "lan": Person(
            handle="lan",
            name="Nguyen Thi Lan",
            email="lan@example.gov.vn",
            timezone="Asia/Ho_Chi_Minh",
            language=Language.VI,
            country="VN",
            organization="ASOEN Viet Nam Office",
            slack_user_id="U0LAN0001",
        ),
        "minh": Person(
            handle="minh",
            name="Dang Quang Minh",
            email="minh@example.gov.vn",
            timezone="Asia/Ho_Chi_Minh",
            language=Language.EN,
            country="VN",
        ),
        "kari": Person(
            handle="kari",
            name="Kari Nordmann",
            email="kari@example.no",
            timezone="Europe/Oslo",
            language=Language.EN,
            country="NO",
        ),
    }
    assert people["kari"].country == "NO"  # Norway, not YAML 1.1's false
    groups = {e.value.code: e.value for e in contents.groups}
    assert groups == {
        "AWGESC": Group(
            code="AWGESC",
            name="ASEAN Working Group on Environmentally Sustainable Cities",
            members=(
                Membership("kari", Role.MEMBER),
                Membership("lan", Role.CHAIR),
                Membership("minh", Role.FOCAL),
            ),
        ),
        "ASOEN": Group(code="ASOEN", name="ASOEN Viet Nam"),
    }
    assert groups["AWGESC"].handles_with_role(Role.FOCAL) == ("minh",)
    assert [(c.value, c.file, c.line) for c in contents.coordinators or []] == [
        ("lan", "roster.yaml", 1)
    ]


def test_entries_remember_where_they_came_from() -> None:
    contents, _ = load({"cal.yaml": CALENDAR, "roster.yaml": ROSTER})
    assert [(e.file, e.line) for e in contents.meetings] == [("cal.yaml", 2), ("cal.yaml", 13)]
    assert [(e.file, e.line) for e in contents.deadlines] == [
        ("cal.yaml", 21),
        ("cal.yaml", 27),
        ("cal.yaml", 32),
    ]
    assert [(e.file, e.line) for e in contents.people] == [
        ("roster.yaml", 3),
        ("roster.yaml", 11),
        ("roster.yaml", 15),
    ]


def test_references_to_what_the_store_already_has_are_accepted() -> None:
    text = """\
        deadlines:
          - code: D1
            title: t
            meeting: OLD-MEETING
            due: -3wd
            assign: [OLDGROUP, oldperson]
    """
    known = Known(
        meetings=frozenset({"OLD-MEETING"}),
        groups=frozenset({"OLDGROUP"}),
        people=frozenset({"oldperson"}),
    )
    assert load_errors(text, known=known) == []
    assert load_errors(text, known=Known()) == [
        "cal.yaml:4: meeting: unknown meeting OLD-MEETING",
        f"cal.yaml:6: assign: OLDGROUP {NEITHER}",
        f"cal.yaml:6: assign: oldperson {NEITHER}",
    ]


# ------------------------------------------------------------------ one error at a time


def test_unknown_group_in_a_meeting_names_its_line_and_a_suggestion() -> None:
    text = """\
        meetings:
          - code: M1
            title: t
            start: 2026-09-22
            end: 2026-09-23
            groups:
              - ASOEN
              - AWGEC
    """
    assert load_errors(text) == ["cal.yaml:8: groups: unknown group AWGEC (did you mean AWGESC?)"]


def test_unknown_group_or_person_in_assign() -> None:
    text = """\
        deadlines:
          - code: D1
            title: t
            due: 2026-08-28
            assign:
              - AWGESC
              - AWGEC
              - lann
    """
    assert load_errors(text) == [
        f"cal.yaml:7: assign: AWGEC {NEITHER} (did you mean AWGESC?)",
        f"cal.yaml:8: assign: lann {NEITHER} (did you mean lan?)",
    ]


def test_unknown_person_in_a_group() -> None:
    text = """\
        people:
          - {handle: lan, name: Lan, email: lan@example.org, timezone: UTC}
        groups:
          - code: G
            name: A group
            members:
              - {person: lan, role: focal}
              - {person: bob, role: member}
    """
    assert load_errors(text, file="roster.yaml", known=Known()) == [
        "roster.yaml:8: members.person: unknown person bob"
    ]


def test_unknown_coordinator() -> None:
    text = """\
        coordinators: [lan, lna]
        people:
          - {handle: lan, name: Lan, email: lan@example.org, timezone: UTC}
    """
    assert load_errors(text, file="roster.yaml", known=Known()) == [
        "roster.yaml:1: coordinators: unknown person lna (did you mean lan?)"
    ]


def test_bad_timezone_suggests_the_right_one() -> None:
    text = """\
        meetings:
          - code: M1
            title: t
            start: 2026-09-22T09:00
            end: 2026-09-22T12:00
            timezone: Asia/Ho_Chi_Mihn
    """
    assert load_errors(text) == [
        (
            "cal.yaml:6: timezone: unknown timezone 'Asia/Ho_Chi_Mihn'"
            " (did you mean Asia/Ho_Chi_Minh?); use an IANA name such as Asia/Ho_Chi_Minh"
        )
    ]


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2026-09-22T09:00", "2026-09-22T08:00", "must be after the start"),
        ("2026-09-22T09:00", "2026-09-22T09:00", "must be after the start"),
        ("2026-09-22", "2026-09-21", "the last day is before the first day"),
        ("2026-09-22", "2026-09-22T17:00", "start and end must both be dates (all-day)"),
        ("2026-09-22T09:00", "2026-09-23", "start and end must both be dates (all-day)"),
    ],
)
def test_end_must_come_after_start_in_the_same_form(start: str, end: str, reason: str) -> None:
    text = f"""\
        meetings:
          - code: M1
            title: t
            start: {start}
            end: {end}
    """
    errors = load_errors(text)
    assert len(errors) == 1
    assert errors[0].startswith(f"cal.yaml:5: end: {reason}")


def test_a_one_day_all_day_meeting_ends_on_its_first_day() -> None:
    text = """\
        meetings:
          - {code: M1, title: t, start: 2026-09-22, end: 2026-09-22}
    """
    contents, errors = load({"cal.yaml": text})
    assert errors == []
    assert contents.meetings[0].value.all_day
    assert contents.meetings[0].value.end_exclusive_date().isoformat() == "2026-09-23"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "2026-09-31",
            "'2026-09-31' is not a date (2026-09-22) or a local time (2026-09-22T09:00)",
        ),
        ("20260922", "'20260922' is not a date (2026-09-22) or a local time (2026-09-22T09:00)"),
        ("2026-09-22T9", "'2026-09-22T9' is not a date (2026-09-22)"),
        ("next week", "'next week' is not a date (2026-09-22)"),
        ("2026-09-22T09:00+07:00", "write the local wall-clock time without an offset"),
        ("2026-09-22T09:00Z", "write the local wall-clock time without an offset"),
    ],
)
def test_start_must_be_a_local_date_or_time(value: str, reason: str) -> None:
    text = f"""\
        meetings:
          - code: M1
            title: t
            start: "{value}"
            end: 2026-09-24T17:00
    """
    errors = load_errors(text)
    assert len(errors) == 1
    assert errors[0].startswith(f"cal.yaml:4: start: {reason}")


def test_duplicate_code_in_one_file_names_the_first() -> None:
    text = """\
        meetings:
          - {code: M1, title: first, start: 2026-09-22, end: 2026-09-22}
          - {code: M2, title: other, start: 2026-09-22, end: 2026-09-22}
          - {code: M1, title: again, start: 2026-10-22, end: 2026-10-22}
    """
    assert load_errors(text) == [
        "cal.yaml:4: code: duplicate meeting code M1 (first at cal.yaml:2)"
    ]


def test_duplicate_codes_across_files_name_where_the_first_is() -> None:
    first = """\
        deadlines:
          - title: t
            code: D1
            due: 2026-08-28
    """
    second = """\
        # another calendar file
        deadlines:
          - title: t
            code: d1
            due: 2026-08-29
    """
    _, errors = load({"a.yaml": first, "b.yaml": second})
    assert errors == ["b.yaml:4: code: duplicate deadline code d1 (first at a.yaml:3)"]


def test_duplicate_people_and_groups_across_roster_files() -> None:
    first = """\
        people:
          - {handle: lan, name: Lan, email: lan@example.org, timezone: UTC}
        groups:
          - {code: G, name: A group}
    """
    second = """\
        people:
          - {handle: lan, name: Lan again, email: lan2@example.org, timezone: UTC}
        groups:
          - {code: G, name: The same group}
    """
    _, errors = load({"a.yaml": first, "b.yaml": second})
    assert errors == [
        "b.yaml:2: handle: duplicate person handle lan (first at a.yaml:2)",
        "b.yaml:4: code: duplicate group code G (first at a.yaml:4)",
    ]


@pytest.mark.parametrize(
    ("due", "reason"),
    [
        ("-3x", "'-3x' is not a due rule: use -21d (calendar days before the meeting), -10wd"),
        ("+3d", "'+3d' is after the meeting starts; write a negative offset such as -3d"),
        ("0wd", "0wd is not a working-day offset; use 0d for the start date"),
        ("2026-02-30", "'2026-02-30' is not a real date or time"),
    ],
)
def test_bad_due_rule(due: str, reason: str) -> None:
    text = f"""\
        deadlines:
          - code: D1
            title: t
            meeting: M1
            due: "{due}"
    """
    errors = load_errors(text, known=Known(meetings=frozenset({"M1"})))
    assert len(errors) == 1
    assert errors[0].startswith(f"cal.yaml:5: due: {reason}")


def test_a_relative_rule_without_a_meeting() -> None:
    text = """\
        deadlines:
          - code: D1
            title: t
            due: -21d
    """
    assert load_errors(text) == [
        (
            "cal.yaml:4: due: -21d counts from a meeting's start: add meeting: CODE,"
            " or give a date such as 2026-08-28"
        )
    ]


def test_unknown_meeting() -> None:
    text = """\
        meetings:
          - {code: ASOEN-37, title: t, start: 2026-09-22, end: 2026-09-24}
        deadlines:
          - code: D1
            title: t
            meeting: ASOEN-73
            due: -21d
    """
    assert load_errors(text) == [
        "cal.yaml:6: meeting: unknown meeting ASOEN-73 (did you mean ASOEN-37?)"
    ]


def test_unknown_field_with_a_suggestion() -> None:
    text = """\
        meetings:
          - code: M1
            title: t
            strat: 2026-09-22
            end: 2026-09-22
    """
    assert load_errors(text) == [
        "cal.yaml:2: start: is required",
        "cal.yaml:4: strat: unknown field (did you mean start?)",
    ]


def test_unknown_top_level_key() -> None:
    text = """\
        peple:
          - {handle: lan, name: Lan, email: lan@example.org, timezone: UTC}
    """
    assert load_errors(text, file="roster.yaml") == [
        "roster.yaml:1: peple: unknown field (did you mean people?)"
    ]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("{title: t, start: 2026-09-22, end: 2026-09-22}", "code"),
        ("{code: M1, start: 2026-09-22, end: 2026-09-22}", "title"),
        ("{code: M1, title: t, start: 2026-09-22}", "end"),
        ("{code: M1, title: '  ', start: 2026-09-22, end: 2026-09-22}", "title"),
        ("{code: M1, title: ~, start: 2026-09-22, end: 2026-09-22}", "title"),
    ],
)
def test_missing_required_field(entry: str, field: str) -> None:
    text = f"""\
        meetings:
          - {entry}
    """
    assert load_errors(text) == [f"cal.yaml:2: {field}: is required"]


def test_missing_required_person_fields_are_all_reported() -> None:
    text = """\
        people:
          - handle: lan
    """
    assert load_errors(text, file="roster.yaml", known=Known()) == [
        "roster.yaml:2: email: is required",
        "roster.yaml:2: name: is required",
        "roster.yaml:2: timezone: is required",
    ]


@pytest.mark.parametrize(
    ("field", "value", "suggestion"),
    [
        ("kind", "summitt", "summit"),
        ("status", "canceled", "cancelled"),
    ],
)
def test_bad_enum_value(field: str, value: str, suggestion: str) -> None:
    text = f"""\
        meetings:
          - code: M1
            title: t
            start: 2026-09-22
            end: 2026-09-22
            {field}: {value}
    """
    errors = load_errors(text)
    assert len(errors) == 1
    assert errors[0].startswith(f"cal.yaml:6: {field}: '{value}' is not one of ")
    assert errors[0].endswith(f"(did you mean {suggestion}?)")


def test_bad_role_and_language() -> None:
    text = """\
        people:
          - {handle: lan, name: Lan, email: lan@example.org, timezone: UTC, language: fr}
        groups:
          - code: G
            name: A group
            members:
              - {person: lan, role: coordinator}
    """
    assert load_errors(text, file="roster.yaml", known=Known()) == [
        "roster.yaml:2: language: 'fr' is not one of en, vi",
        "roster.yaml:7: role: 'coordinator' is not one of chair, focal, alternate, member",
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("email", "lan@example", "'lan@example' is not valid (an e-mail address)"),
        ("email", "lan example.org", "'lan example.org' is not valid (an e-mail address)"),
        ("slack", "u0lan0001", "'u0lan0001' is not valid (a Slack user id such as U0123ABCD)"),
        ("slack", "C0123ABCD", "'C0123ABCD' is not valid (a Slack user id such as U0123ABCD)"),
        ("handle", "Lan", "'Lan' is not valid (lowercase letters, digits, '.', '-', '_')"),
        ("country", "vn", "'vn' is not valid (an ISO 3166 code such as VN)"),
        ("country", "XX", "no public-holiday calendar for 'XX'"),
        ("timezone", "GMT+7", "unknown timezone 'GMT+7'"),
    ],
)
def test_bad_person_field(field: str, value: str, reason: str) -> None:
    person = {
        "handle": "lan",
        "name": "Lan",
        "email": "lan@example.org",
        "timezone": "UTC",
        field: value,
    }
    body = "\n".join(f"    {key}: {text}" for key, text in person.items())
    text = "people:\n  - " + body.lstrip() + "\n"
    line = 2 + list(person).index(field)
    errors = load_errors(text, file="roster.yaml", known=Known())
    assert len(errors) == 1
    assert errors[0].startswith(f"roster.yaml:{line}: {field}: {reason}")


def test_duplicate_yaml_key() -> None:
    text = """\
        meetings:
          - code: M1
            title: first
            title: second
    """
    assert load_errors(text) == ["cal.yaml:4: title: duplicate key (first at line 3)"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("people:\n  - handle: lan\n    name: Lan\n   email: lan@example.org\n", 4),
        ("meetings:\n  - code: M1\n\ttitle: t\n", 3),
        ("meetings: [\n  {code: M1}\n", 3),
        ("a: 1\n---\nb: 2\n", 2),
    ],
    ids=["indentation", "tab", "unclosed", "two documents"],
)
def test_yaml_syntax_error_names_its_line(text: str, line: int) -> None:
    with pytest.raises(YamlSourceError) as caught:
        parse_yaml(text, "bad.yaml")
    [error] = caught.value.errors
    assert (error.file, error.line, error.field) == ("bad.yaml", line, "yaml")
    assert str(error).startswith(f"bad.yaml:{line}: yaml: ")
    assert error.reason


def test_a_recursive_alias_is_an_error_not_a_crash() -> None:
    with pytest.raises(YamlSourceError) as caught:
        parse_yaml("groups: &g [ASOEN, *g]\n", "cal.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "cal.yaml:1: yaml: an alias (*) may not refer to its own parent"
    ]


def test_yaml_scalars_stay_text() -> None:
    root = parse_yaml("a: NO\nb: yes\nc: 2026-09-22\nd: 0800\ne: ~\nf: ''\ng:\n", "f.yaml")
    assert isinstance(root, MapNode)
    assert root.entries == {
        "a": Scalar("NO", 1),
        "b": Scalar("yes", 2),
        "c": Scalar("2026-09-22", 3),
        "d": Scalar("0800", 4),
        "e": Scalar(None, 5),
        "f": Scalar("", 6),
        "g": Scalar(None, 7),
    }


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing but a comment\n", "\ufeff", "~\n"])
def test_empty_file(text: str) -> None:
    assert load_errors(text, file="empty.yaml") == ["empty.yaml:1: file: is empty"]


@pytest.mark.parametrize("text", ["just text\n", "- a\n- b\n"])
def test_a_file_must_be_a_mapping(text: str) -> None:
    assert load_errors(text, file="odd.yaml") == ["odd.yaml:1: file: expected a mapping of fields"]


def test_a_list_where_a_list_is_expected() -> None:
    text = """\
        meetings:
          code: M1
        deadlines:
          - code: D1
            title: t
            due: 2026-08-28
            assign: {AWGESC: focal}
    """
    assert load_errors(text) == [
        "cal.yaml:2: meetings: expected a list",
        "cal.yaml:7: assign: expected a list",
    ]


def test_a_member_listed_twice() -> None:
    text = """\
        people:
          - {handle: minh, name: Minh, email: minh@example.org, timezone: UTC}
        groups:
          - code: G
            name: A group
            members:
              - {person: minh, role: focal}
              - {person: minh, role: chair}
    """
    assert load_errors(text, file="roster.yaml", known=Known()) == [
        "roster.yaml:8: members: minh is listed twice in this group"
    ]


def test_a_group_code_equal_to_a_handle() -> None:
    text = """\
        people:
          - {handle: lan, name: Lan, email: lan@example.org, timezone: UTC}
        groups:
          - {code: lan, name: A group named like a person}
    """
    assert load_errors(text, file="roster.yaml", known=Known()) == [
        "roster.yaml:4: code: lan is both a group code and a person's handle"
    ]


def test_a_new_handle_equal_to_a_known_group_code() -> None:
    text = """\
        people:
          - {handle: asoen, name: Someone, email: someone@example.org, timezone: UTC}
    """
    assert load_errors(text, file="roster.yaml", known=Known(groups=frozenset({"asoen"}))) == [
        "roster.yaml:2: handle: asoen is both a group code and a person's handle"
    ]


def test_translations_must_be_language_text_pairs() -> None:
    text = """\
        meetings:
          - code: M1
            title: t
            titles:
              vi: ''
              Vietnamese: Hội nghị
            start: 2026-09-22
            end: 2026-09-22
    """
    assert load_errors(text) == [
        "cal.yaml:5: titles.vi: expected a non-empty title",
        "cal.yaml:6: titles.Vietnamese: not a language code",
    ]


def test_every_error_in_a_file_is_reported() -> None:
    text = """\
        meetings:
          - code: M1
            title: t
            kind: summitt
            start: 2026-09-22T09:00
            end: 2026-09-22T08:00
            timezone: Asia/Ho_Chi_Mihn
          - code: M2
            title: fine
            start: 2026-09-22
            end: 2026-09-22
            groups: [NOPE]
        deadlines:
          - code: D1
            title: t
            due: -3x
          - code: D2
            title: t
            meeting: M9
            due: -3wd
            assign: [nobody]
    """
    errors = load_errors(text)
    assert [e.split(": ")[0:2] for e in errors] == [
        ["cal.yaml:4", "kind"],
        ["cal.yaml:6", "end"],
        ["cal.yaml:7", "timezone"],
        ["cal.yaml:12", "groups"],
        ["cal.yaml:16", "due"],
        ["cal.yaml:19", "meeting"],
        ["cal.yaml:21", "assign"],
    ]


def test_errors_in_several_files_are_all_reported() -> None:
    _, errors = load(
        {
            "a.yaml": "meetings:\n  - {code: M1, title: t, start: 2026-09-22, end: x}\n",
            "b.yaml": "people:\n  - {handle: lan, name: Lan, email: nope, timezone: UTC}\n",
            "c.yaml": "coordinators: [lan\n",
        }
    )
    assert [e.split(": ")[0:2] for e in errors] == [
        ["a.yaml:2", "end"],
        ["b.yaml:2", "email"],
        ["c.yaml:2", "yaml"],
    ]


# ------------------------------------------------------------------ the sample files


def test_the_sample_calendar_and_roster_load_without_errors() -> None:
    if not SAMPLE_CALENDAR.exists() or not SAMPLE_ROSTER.exists():
        pytest.skip("the sample calendar and roster are not written yet")
    contents = FileContents()
    for path in (SAMPLE_CALENDAR, SAMPLE_ROSTER):
        file = str(path.relative_to(ROOT))
        root = parse_yaml(path.read_text(encoding="utf-8"), file)
        found, errors = parse_file(
            root, file, default_timezone="Asia/Ho_Chi_Minh", default_country="VN"
        )
        assert [str(e) for e in errors] == []
        contents.extend(found)
    assert [str(e) for e in check_contents(contents, Known())] == []
    assert contents.meetings
    assert contents.deadlines
    assert contents.people
    assert contents.groups
    assert contents.coordinators
    meetings = {e.value.code: e.value for e in contents.meetings}
    workdays = WorkingCalendar("VN")
    for entry in contents.deadlines:
        rule = entry.value
        meeting = meetings.get(rule.meeting or "")
        due = resolve_due(rule, meeting, default_timezone="Asia/Ho_Chi_Minh", workdays=workdays)
        assert due.tzinfo is UTC
        local = due.astimezone(ZoneInfo(rule.timezone or "Asia/Ho_Chi_Minh"))
        assert local.time() == time(17, 0) or isinstance(rule.due, AbsoluteDue)
        if isinstance(rule.due, RelativeDue):
            assert meeting is not None
            assert local.date() <= meeting.start_date, rule.code


def test_a_single_code_counts_as_a_list_of_one() -> None:
    contents, errors = read(
        """\
        deadlines:
          - {code: D1, title: T, due: 2026-08-28, assign: AWGESC}
        """,
        "cal.yaml",
    )
    assert errors == []
    assert contents.deadlines[0].value.assign == ("AWGESC",)


def test_aliases_that_expand_without_end_are_refused() -> None:
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcde", "bcdef", strict=True):
        rows.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    with pytest.raises(YamlSourceError) as caught:
        parse_yaml("\n".join(rows), "bomb.yaml")
    assert [str(e) for e in caught.value.errors] == [
        (
            "bomb.yaml:1: yaml: more than 200000 values (aliases expanding without end?); "
            "split the file"
        )
    ]
