"""Validation of the calendar and roster files (SPEC.md, "Configuration files").

A file may hold any of the top-level keys ``meetings``, ``deadlines`` (a calendar),
``coordinators``, ``people``, ``groups`` (a roster). Every problem in every file is
collected; references between files (and to what the store already has) are checked by
``check_references`` once all files are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Generic, TypeVar

from core.deadlines import DueRuleError, parse_due_rule
from core.model import (
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
from core.source import LoadError, MapNode, Reader, Scalar, suggest
from core.workdays import is_supported_country

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from core.source import Node

T = TypeVar("T")

CODE = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
HANDLE = r"[a-z0-9][a-z0-9._-]{0,63}"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
SLACK_ID = r"[UW][A-Z0-9]{6,20}"
COUNTRY = r"[A-Z]{2}"
LOCAL_DATE = r"\d{4}-\d{2}-\d{2}"
LOCAL_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?"

TOP_KEYS = ("meetings", "deadlines", "coordinators", "people", "groups")
MEETING_KEYS = (
    "code",
    "title",
    "titles",
    "kind",
    "start",
    "end",
    "timezone",
    "venue",
    "host_country",
    "groups",
    "status",
    "notes",
)
DEADLINE_KEYS = ("code", "title", "titles", "kind", "meeting", "due", "timezone", "assign", "notes")
PERSON_KEYS = (
    "handle",
    "name",
    "email",
    "slack",
    "timezone",
    "language",
    "country",
    "organization",
)
GROUP_KEYS = ("code", "name", "members")
MEMBER_KEYS = ("person", "role")


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    """A value read from a file, with where it came from."""

    value: T
    file: str
    line: int
    lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass
class FileContents:
    meetings: list[Entry[Meeting]] = field(default_factory=list)
    deadlines: list[Entry[Deadline]] = field(default_factory=list)
    people: list[Entry[Person]] = field(default_factory=list)
    groups: list[Entry[Group]] = field(default_factory=list)
    coordinators: list[Entry[str]] | None = None

    def extend(self, other: FileContents) -> None:
        self.meetings += other.meetings
        self.deadlines += other.deadlines
        self.people += other.people
        self.groups += other.groups
        if other.coordinators is not None:
            self.coordinators = (self.coordinators or []) + other.coordinators


def _lines(m: MapNode) -> dict[str, int]:
    return {key: node.line for key, node in m.entries.items()}


def _item_lines(key: str, items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``{"key:ITEM": line}`` for each item of a list, keeping the first line of a repeated one."""
    out: dict[str, int] = {}
    for item, line in items:
        out.setdefault(f"{key}:{item}", line)
    return out


def parse_file(
    root: Node, file: str, *, default_timezone: str, default_country: str
) -> tuple[FileContents, list[LoadError]]:
    """Read one file's tree. Returns what was valid and every error found."""
    reader = Reader(file)
    contents = FileContents()
    if isinstance(root, Scalar) and root.value is None:
        reader.error(root.line, "file", "is empty")
        return contents, reader.errors
    top = reader.mapping(root, "file", TOP_KEYS)
    if top is None:
        return contents, reader.errors
    for item in reader.sequence(top.entries.get("meetings"), "meetings"):
        _append(contents.meetings, _meeting(reader, item, default_timezone))
    for item in reader.sequence(top.entries.get("deadlines"), "deadlines"):
        _append(contents.deadlines, _deadline(reader, item))
    for item in reader.sequence(top.entries.get("people"), "people"):
        _append(contents.people, _person(reader, item, default_country))
    for item in reader.sequence(top.entries.get("groups"), "groups"):
        _append(contents.groups, _group(reader, item))
    if "coordinators" in top.entries:
        contents.coordinators = [
            Entry(handle, file, line) for handle, line in reader.codes(top, "coordinators")
        ]
    return contents, reader.errors


def _append(entries: list[Entry[T]], entry: Entry[T] | None) -> None:
    if entry is not None:
        entries.append(entry)


def _local_time(reader: Reader, m: MapNode, key: str) -> tuple[datetime, bool] | None:
    """``YYYY-MM-DD`` (all-day) or ``YYYY-MM-DDTHH:MM`` (wall-clock): (naive time, all_day)."""
    value = reader.text(m, key)
    if value is None:
        return None
    try:
        if re.fullmatch(LOCAL_DATE, value, re.ASCII):
            return datetime.combine(date.fromisoformat(value), time()), True
        if not re.fullmatch(LOCAL_TIME + r"(Z|[+-]\d{2}:?\d{2})?", value, re.ASCII):
            raise ValueError(value)  # noqa: TRY301 - one message for every malformed value
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        reader.error(
            reader.line(m, key),
            key,
            f"{value!r} is not a date (2026-09-22) or a local time (2026-09-22T09:00)",
        )
        return None
    if parsed.tzinfo is not None:
        reader.error(
            reader.line(m, key),
            key,
            "write the local wall-clock time without an offset and give timezone:",
        )
        return None
    return parsed.replace(second=0, microsecond=0), False


def _meeting(reader: Reader, node: Node, default_timezone: str) -> Entry[Meeting] | None:
    m = reader.mapping(node, "meetings", MEETING_KEYS)
    if m is None:
        return None
    before = len(reader.errors)
    code = reader.text(m, "code", pattern=CODE, hint=" (letters, digits, '.', '-', '_')")
    title = reader.text(m, "title")
    titles = reader.translations(m, "titles")
    kind = reader.choice(m, "kind", MeetingKind, default=MeetingKind.OTHER)
    status = reader.choice(m, "status", MeetingStatus, default=MeetingStatus.CONFIRMED)
    start = _local_time(reader, m, "start")
    end = _local_time(reader, m, "end")
    zone = reader.timezone(m, "timezone", required=False) or default_timezone
    venue = reader.text(m, "venue", required=False)
    host = reader.text(
        m, "host_country", required=False, pattern=COUNTRY, hint=" (an ISO 3166 code such as PH)"
    )
    notes = reader.text(m, "notes", required=False, max_length=4000)
    group_lines = _item_lines("groups", reader.codes(m, "groups"))
    groups = tuple(sorted({key.removeprefix("groups:") for key in group_lines}))
    if start and end:
        if start[1] != end[1]:
            reader.error(
                reader.line(m, "end"),
                "end",
                "start and end must both be dates (all-day) or both local times",
            )
        elif start[1] and end[0] < start[0]:
            reader.error(reader.line(m, "end"), "end", "the last day is before the first day")
        elif not start[1] and end[0] <= start[0]:
            reader.error(reader.line(m, "end"), "end", "must be after the start")
    if len(reader.errors) > before or not (code and title and kind and status and start and end):
        return None
    meeting = Meeting(
        code=code,
        title=title,
        kind=kind,
        start=start[0],
        end=end[0],
        timezone=zone,
        all_day=start[1],
        titles=titles,
        venue=venue,
        host_country=host,
        groups=groups,
        status=status,
        notes=notes,
    )
    return Entry(meeting, reader.file, m.line, _lines(m) | group_lines)


def _deadline(reader: Reader, node: Node) -> Entry[Deadline] | None:
    m = reader.mapping(node, "deadlines", DEADLINE_KEYS)
    if m is None:
        return None
    before = len(reader.errors)
    code = reader.text(m, "code", pattern=CODE, hint=" (letters, digits, '.', '-', '_')")
    title = reader.text(m, "title")
    titles = reader.translations(m, "titles")
    kind = reader.choice(m, "kind", DeadlineKind, default=DeadlineKind.OTHER)
    meeting = reader.text(m, "meeting", required=False)
    zone = reader.timezone(m, "timezone", required=False)
    notes = reader.text(m, "notes", required=False, max_length=4000)
    assign_lines = _item_lines("assign", reader.codes(m, "assign"))
    assign = tuple(sorted({key.removeprefix("assign:") for key in assign_lines}))
    due_text = reader.text(m, "due")
    due = None
    if due_text is not None:
        try:
            due = parse_due_rule(due_text)
        except DueRuleError as exc:
            reader.error(reader.line(m, "due"), "due", str(exc))
        else:
            if isinstance(due, RelativeDue) and meeting is None:
                reader.error(
                    reader.line(m, "due"),
                    "due",
                    f"{due_text} counts from a meeting's start: add meeting: CODE, "
                    "or give a date such as 2026-08-28",
                )
    if len(reader.errors) > before or not (code and title and kind and due):
        return None
    deadline = Deadline(
        code=code,
        title=title,
        kind=kind,
        due=due,
        meeting=meeting,
        timezone=zone,
        assign=assign,
        titles=titles,
        notes=notes,
    )
    return Entry(deadline, reader.file, m.line, _lines(m) | assign_lines)


def _person(reader: Reader, node: Node, default_country: str) -> Entry[Person] | None:
    m = reader.mapping(node, "people", PERSON_KEYS)
    if m is None:
        return None
    before = len(reader.errors)
    handle = reader.text(
        m, "handle", pattern=HANDLE, hint=" (lowercase letters, digits, '.', '-', '_')"
    )
    name = reader.text(m, "name")
    email = reader.text(m, "email", pattern=EMAIL, hint=" (an e-mail address)")
    slack = reader.text(
        m, "slack", required=False, pattern=SLACK_ID, hint=" (a Slack user id such as U0123ABCD)"
    )
    zone = reader.timezone(m, "timezone")
    language = reader.choice(m, "language", Language, default=Language.EN)
    country = (
        reader.text(
            m, "country", required=False, pattern=COUNTRY, hint=" (an ISO 3166 code such as VN)"
        )
        or default_country
    )
    if "country" in m.entries and not is_supported_country(country):
        reader.error(
            reader.line(m, "country"), "country", f"no public-holiday calendar for {country!r}"
        )
    organization = reader.text(m, "organization", required=False)
    if len(reader.errors) > before or not (handle and name and email and zone and language):
        return None
    person = Person(
        handle=handle,
        name=name,
        email=email.lower(),
        timezone=zone,
        language=language,
        country=country,
        organization=organization,
        slack_user_id=slack,
    )
    return Entry(person, reader.file, m.line, _lines(m))


def _group(reader: Reader, node: Node) -> Entry[Group] | None:
    m = reader.mapping(node, "groups", GROUP_KEYS)
    if m is None:
        return None
    before = len(reader.errors)
    code = reader.text(m, "code", pattern=CODE, hint=" (letters, digits, '.', '-', '_')")
    name = reader.text(m, "name")
    members: dict[str, Membership] = {}
    lines: dict[str, int] = _lines(m)
    for item in reader.sequence(m.entries.get("members"), "members"):
        mm = reader.mapping(item, "members", MEMBER_KEYS)
        if mm is None:
            continue
        person = reader.text(mm, "person", pattern=HANDLE, hint=" (a person's handle)")
        role = reader.choice(mm, "role", Role, default=Role.MEMBER)
        if person is None or role is None:
            continue
        if person in members:
            reader.error(mm.line, "members", f"{person} is listed twice in this group")
            continue
        members[person] = Membership(person, role)
        lines[f"member:{person}"] = mm.line
    if len(reader.errors) > before or not (code and name):
        return None
    group = Group(
        code=code, name=name, members=tuple(sorted(members.values(), key=lambda x: x.person))
    )
    return Entry(group, reader.file, m.line, lines)


# ------------------------------------------------------------- the whole load


@dataclass(frozen=True, slots=True)
class Known:
    """Codes the store already has, for references to things not in the files being loaded."""

    meetings: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()


def _duplicates(
    entity: str, entries: Iterable[Entry[T]], key: str, code: Mapping[int, str]
) -> list[LoadError]:
    seen: dict[str, Entry[T]] = {}
    errors: list[LoadError] = []
    for entry in entries:
        value = code[id(entry)]
        first = seen.setdefault(value.casefold(), entry)
        if first is not entry:
            errors.append(
                LoadError(
                    entry.file,
                    entry.line_of(key),
                    key,
                    f"duplicate {entity} {value} (first at {first.file}:{first.line_of(key)})",
                )
            )
    return errors


def check_contents(contents: FileContents, known: Known) -> list[LoadError]:
    """Duplicates and references across every file of one load."""
    errors: list[LoadError] = []
    errors += _duplicates(
        "meeting code", contents.meetings, "code", {id(e): e.value.code for e in contents.meetings}
    )
    errors += _duplicates(
        "deadline code",
        contents.deadlines,
        "code",
        {id(e): e.value.code for e in contents.deadlines},
    )
    errors += _duplicates(
        "person handle", contents.people, "handle", {id(e): e.value.handle for e in contents.people}
    )
    errors += _duplicates(
        "group code", contents.groups, "code", {id(e): e.value.code for e in contents.groups}
    )

    meetings = known.meetings | {e.value.code for e in contents.meetings}
    groups = known.groups | {e.value.code for e in contents.groups}
    people = known.people | {e.value.handle for e in contents.people}
    for clash in sorted(groups & people):
        group = next((e for e in contents.groups if e.value.code == clash), None)
        person = next((e for e in contents.people if e.value.handle == clash), None)
        if group is not None:
            errors.append(
                LoadError(
                    group.file,
                    group.line_of("code"),
                    "code",
                    f"{clash} is both a group code and a person's handle",
                )
            )
        elif person is not None:
            errors.append(
                LoadError(
                    person.file,
                    person.line_of("handle"),
                    "handle",
                    f"{clash} is both a group code and a person's handle",
                )
            )

    for m in contents.meetings:
        errors += [
            LoadError(
                m.file, m.line_of(f"groups:{g}"), "groups", f"unknown group {g}{_hint(g, groups)}"
            )
            for g in m.value.groups
            if g not in groups
        ]
    for d in contents.deadlines:
        if d.value.meeting is not None and d.value.meeting not in meetings:
            errors.append(
                LoadError(
                    d.file,
                    d.line_of("meeting"),
                    "meeting",
                    f"unknown meeting {d.value.meeting}{_hint(d.value.meeting, meetings)}",
                )
            )
        errors += [
            LoadError(
                d.file,
                d.line_of(f"assign:{t}"),
                "assign",
                f"{t} is neither a group code nor a person's handle{_hint(t, groups | people)}",
            )
            for t in d.value.assign
            if t not in groups and t not in people
        ]
    for g in contents.groups:
        errors += [
            LoadError(
                g.file,
                g.lines.get(f"member:{mm.person}", g.line),
                "members.person",
                f"unknown person {mm.person}{_hint(mm.person, people)}",
            )
            for mm in g.value.members
            if mm.person not in people
        ]
    for c in contents.coordinators or []:
        if c.value not in people:
            errors.append(
                LoadError(
                    c.file,
                    c.line,
                    "coordinators",
                    f"unknown person {c.value}{_hint(c.value, people)}",
                )
            )
    return errors


def _hint(value: str, choices: Iterable[str]) -> str:
    return suggest(value, choices)
