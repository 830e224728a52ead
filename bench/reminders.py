"""Reminders at scale: plan and send for 5,000 people and 100,000 assignments, and print figures.

Run from the repository root (see bench/README.md)::

    .venv/bin/python -m bench.reminders --quick
    .venv/bin/python -m bench.reminders --database sqlite \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/test

Targets (the issue): planning <= 3 s, peak memory <= 400 MB, sending at least as fast as a bare
sequential loop of ``WebClient.chat_postMessage`` over the same messages in the same run, and
an idle run (nothing due; it runs every minute) <= 0.2 s.

How it measures:

* The workload is 100 working groups of 50 focal points; each group owes 20 inputs, due around
  the bench day (2026-09-15, 10:30 in Hanoi) so that everyone has reminders due now and most
  assignments have another step within the 36 h horizon. Chairs and the two coordinators get
  escalations. It is written with SQLAlchemy Core (``--load yaml``: through ``focal load``'s
  service instead; far slower at this size).
* Planning runs in a fresh process per measurement (as a flow run would): its time, its max
  RSS, and in a separate run its ``tracemalloc`` peak.
* The Slack stand-in (tests/slack_standin.py) runs in a process of its own, one fresh per
  measurement, with O(1) look-ups by e-mail and by members: real Slack answers those from an
  index, and the stand-in's linear scans are not Focal's cost. It speaks HTTP/1.1 and keeps
  connections open, as Slack does; a client that asks to close them (urllib does) gets one
  call per connection.
* Sending: the baseline is a plain ``WebClient(base_url=...)`` (slack_sdk's default urllib
  transport) posting the same messages, rendered beforehand, to DMs opened beforehand, one after
  another; Focal is ``send_due`` with the notifier's own clients (``KeepAliveWebClient``),
  rendering, claiming and recording included. Both run twice or more, alternating, against a
  fresh stand-in each; the table gives each run's rate, the ratio to the baselines' mean, and
  the CPU each process spent per message. ``--only sending`` measures just this.
"""

from __future__ import annotations

import cProfile
import hashlib
import io
import multiprocessing
import os
import platform
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Self
from zoneinfo import ZoneInfo

import sqlalchemy
import typer
import yaml
from rich.console import Console
from rich.table import Table
from slack_sdk import WebClient
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.engine import make_url

from bots.slack.messages import clear_render_cache, render_reminder
from bots.slack.notifier import SlackNotifier, build_web_clients
from config.settings import Settings
from config.wiring import App, build_app
from config.yaml_source import parse_yaml
from core.deadlines import resolve_due
from core.meetings import meeting_instants, meeting_uid
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
    ReminderState,
    Role,
)
from core.workdays import WorkingCalendar
from db.engine import build_engine
from db.migrate import upgrade
from db.models import (
    AssignmentRow,
    CoordinatorRow,
    DeadlineRow,
    DeadlineTargetRow,
    GroupRow,
    MeetingGroupRow,
    MeetingRow,
    MembershipRow,
    PersonRow,
    ReminderPlanDeadlineRow,
    ReminderPlanRow,
    ReminderRow,
)
from services.delivery import Worker, send_due
from services.loading import load_configuration
from services.reminders import HORIZON, preview_due, refresh_plan
from tests.slack_standin import SlackStandIn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from multiprocessing.connection import Connection

    from sqlalchemy.engine import Engine

    from core.notices import ReminderMessage
    from services.delivery import DeliveryReport
    from services.reminders import PlanReport

TOKEN = "xoxb-focal-bench"  # noqa: S105 - the stand-in's, not a secret
HOME_ZONE, HOME_COUNTRY = "Asia/Ho_Chi_Minh", "VN"
#: Tuesday 15 September 2026, 10:30 in Hanoi: after the 09:00 reminder hour in every zone below.
BENCH_NOW = datetime(2026, 9, 15, 3, 30, tzinfo=UTC)
GROUP_SIZE = 50
#: Where focal points sit: mostly Viet Nam, the rest across ASEAN (zone, holiday country).
ZONES = (
    *[(HOME_ZONE, HOME_COUNTRY)] * 6,
    ("Asia/Bangkok", "TH"),
    ("Asia/Jakarta", "ID"),
    ("Asia/Manila", "PH"),
    ("Asia/Kuala_Lumpur", "MY"),
    ("Asia/Singapore", "SG"),
    ("Asia/Yangon", "MM"),
)
#: Due dates of a group's inputs, in days from the bench day. 15, 8, 4, 2, 1, 0 and -2 each put
#: a step (14, 7, 3, 1, 0 days before, 1 after, 3 after) on the next morning, inside the horizon;
#: everything due within 14 days also has a step already due. 30 and 45: nothing yet.
OFFSETS = (15, 8, 4, 2, 1, 0, -2, 15, 8, 4, 2, 1, 0, -2, 8, 4, 2, 1, 30, 45)
#: One group in this many has an input 4 days overdue: chairs and coordinators are told now.
ESCALATING_EVERY = 20
TARGET_PLAN_S, TARGET_MEMORY_MB, TARGET_IDLE_S = 3.0, 400.0, 0.2
#: Planning's time before the work on its speed (empty store, plan stored), on a quiet machine,
#: at the default size and time.
BASELINE_CODE = "3af9da5"
BASELINE_PLAN_S = {"sqlite": (6.6, 6.1), "postgresql": (8.9, 6.2)}
MEASURES = frozenset({"planning", "sending", "idle"})
#: Tries at starting a child process: others may be editing the code it imports.
ATTEMPTS = 3
ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("core", "db", "services", "config", "bots", "flows")

console = Console(width=None if Console().is_terminal else 150)
progress = Console(stderr=True)


def _say(text_: str) -> None:
    progress.log(text_)


# ----------------------------------------------------------------- workload


@dataclass(frozen=True)
class Workload:
    people: tuple[Person, ...]
    groups: tuple[Group, ...]
    meetings: tuple[Meeting, ...]
    deadlines: tuple[Deadline, ...]
    coordinators: tuple[str, ...]
    loaded_at: datetime
    user_ids: dict[str, str] = field(default_factory=dict)  # handle -> Slack user id

    @property
    def assignments(self) -> int:
        focal = {g.code: len(g.handles_with_role(Role.FOCAL)) for g in self.groups}
        return sum(focal[code] for d in self.deadlines for code in d.assign)

    def slack_users(self) -> list[tuple[str, str, str, str]]:
        return [(p.handle, p.email, p.timezone, self.user_ids[p.handle]) for p in self.people]


def build_workload(people: int, assignments: int, now: datetime) -> Workload:
    groups_n = max(1, people // GROUP_SIZE)
    per_person = max(1, round(assignments / people))
    today = now.astimezone(ZoneInfo(HOME_ZONE)).date()
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
    if groups_n > 1:  # each group's chair is a focal point of the next group
        chairs = [members[(g + 1) % groups_n][0].person for g in range(groups_n)]
        for g, chair in enumerate(chairs):
            members[g].append(Membership(chair, Role.CHAIR))
    groups = tuple(
        Group(f"WG{g:03d}", f"Working group {g}", tuple(sorted(ms, key=lambda m: m.person)))
        for g, ms in enumerate(members)
    )
    meetings = tuple(_meeting(g, today) for g in range(groups_n))
    deadlines = tuple(
        _deadline(g, j, today, escalating=g % ESCALATING_EVERY == 0 and j == per_person - 1)
        for g in range(groups_n)
        for j in range(per_person)
    )
    return Workload(
        people=persons,
        groups=groups,
        meetings=meetings,
        deadlines=deadlines,
        coordinators=tuple(p.handle for p in persons[:2]),
        loaded_at=now - timedelta(days=60),
        user_ids={p.handle: f"U{i:08d}" for i, p in enumerate(persons)},
    )


def _meeting(g: int, today: date) -> Meeting:
    day = today + timedelta(days=50 + g % 30)
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


def _deadline(g: int, j: int, today: date, *, escalating: bool) -> Deadline:
    offset = -4 if escalating else OFFSETS[j % len(OFFSETS)]
    due = datetime.combine(today + timedelta(days=offset), clock_time(12 + g % 6))
    return Deadline(
        code=f"WG{g:03d}-IN{j:02d}",
        title=f"Input {j + 1} of working group {g} to the meeting",
        kind=DeadlineKind.REPORT,
        due=AbsoluteDue(at=due),
        meeting=f"WG{g:03d}-MTG",
        assign=(f"WG{g:03d}",),
        titles={"vi": f"Đầu vào {j + 1} của nhóm công tác {g} cho cuộc họp"},
    )


# ---------------------------------------------------------------- loading

ROSTER_FILE, CALENDAR_FILE = "bench/roster.yaml", "bench/calendar.yaml"


def roster_yaml(w: Workload) -> str:
    data = {
        "coordinators": list(w.coordinators),
        "people": [
            {
                "handle": p.handle,
                "name": p.name,
                "email": p.email,
                "timezone": p.timezone,
                "language": p.language.value,
                "country": p.country,
            }
            for p in w.people
        ],
        "groups": [
            {
                "code": g.code,
                "name": g.name,
                "members": [{"person": m.person, "role": m.role.value} for m in g.members],
            }
            for g in w.groups
        ],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def calendar_yaml(w: Workload) -> str:
    data = {
        "meetings": [
            {
                "code": m.code,
                "title": m.title,
                "titles": dict(m.titles),
                "kind": m.kind.value,
                "start": f"{m.start:%Y-%m-%dT%H:%M}",
                "end": f"{m.end:%Y-%m-%dT%H:%M}",
                "timezone": m.timezone,
                "venue": m.venue,
                "host_country": m.host_country,
                "groups": list(m.groups),
            }
            for m in w.meetings
        ],
        "deadlines": [
            {
                "code": d.code,
                "title": d.title,
                "titles": dict(d.titles),
                "kind": d.kind.value,
                "meeting": d.meeting,
                "due": str(d.due),
                "assign": list(d.assign),
            }
            for d in w.deadlines
        ],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def load_yaml(app: App, w: Workload) -> None:
    """Through the loading service, as ``focal load`` does."""
    documents = [
        (ROSTER_FILE, parse_yaml(roster_yaml(w), ROSTER_FILE)),
        (CALENDAR_FILE, parse_yaml(calendar_yaml(w), CALENDAR_FILE)),
    ]
    load_configuration(
        documents, uow=app.uow(), options=app.load_options(), actor="bench", now=w.loaded_at
    )


def load_bulk(engine: Engine, w: Workload) -> None:
    """The rows ``load_yaml`` writes (less the audit log), with SQLAlchemy Core."""
    at = w.loaded_at
    stamps: dict[str, Any] = {
        "source": ROSTER_FILE,
        "removed_at": None,
        "created_at": at,
        "updated_at": at,
    }
    with engine.begin() as c:
        c.execute(
            insert(PersonRow),
            [
                {
                    "handle": p.handle,
                    "name": p.name,
                    "email": p.email,
                    "slack_user_id": None,
                    "timezone": p.timezone,
                    "language": p.language.value,
                    "country": p.country,
                    "organization_id": None,
                }
                | stamps
                for p in w.people
            ],
        )
        c.execute(insert(GroupRow), [{"code": g.code, "name": g.name} | stamps for g in w.groups])
        people = dict(c.execute(select(PersonRow.handle, PersonRow.id)).tuples().all())
        groups = dict(c.execute(select(GroupRow.code, GroupRow.id)).tuples().all())
        c.execute(
            insert(MembershipRow),
            [
                {"group_id": groups[g.code], "person_id": people[m.person], "role": m.role.value}
                for g in w.groups
                for m in g.members
            ],
        )
        c.execute(insert(CoordinatorRow), [{"person_id": people[h]} for h in w.coordinators])
        _load_calendar(c, w, groups=groups, people=people)
        c.execute(insert(ReminderPlanRow), [{"id": 1, "stale": True}])


def _load_calendar(
    c: sqlalchemy.Connection, w: Workload, *, groups: dict[str, int], people: dict[str, int]
) -> None:
    at = w.loaded_at
    stamps: dict[str, Any] = {
        "source": CALENDAR_FILE,
        "removed_at": None,
        "created_at": at,
        "updated_at": at,
    }
    meeting_rows = []
    for m in w.meetings:
        starts_at, ends_at = meeting_instants(m)
        meeting_rows.append(
            {
                "code": m.code,
                "title": m.title,
                "titles": dict(m.titles),
                "kind": m.kind.value,
                "all_day": m.all_day,
                "start_local": m.start,
                "end_local": m.end,
                "timezone": m.timezone,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "venue": m.venue,
                "host_country": m.host_country,
                "status": m.status.value,
                "notes": m.notes,
                "uid": meeting_uid(m.code),
                "recurrence_id": "",
                "sequence": 0,
            }
            | stamps
        )
    c.execute(insert(MeetingRow), meeting_rows)
    meetings = dict(c.execute(select(MeetingRow.code, MeetingRow.id)).tuples().all())
    c.execute(
        insert(MeetingGroupRow),
        [
            {"meeting_id": meetings[m.code], "group_id": groups[code]}
            for m in w.meetings
            for code in m.groups
        ],
    )
    by_code = {m.code: m for m in w.meetings}
    workdays = WorkingCalendar(HOME_COUNTRY)
    c.execute(
        insert(DeadlineRow),
        [
            {
                "code": d.code,
                "title": d.title,
                "titles": dict(d.titles),
                "kind": d.kind.value,
                "meeting_id": meetings[d.meeting] if d.meeting else None,
                "due_rule": str(d.due),
                "timezone": d.timezone,
                "due_at": resolve_due(
                    d,
                    by_code.get(d.meeting or ""),
                    default_timezone=HOME_ZONE,
                    workdays=workdays,
                ),
                "notes": d.notes,
                "sequence": 0,
            }
            | stamps
            for d in w.deadlines
        ],
    )
    deadlines = dict(c.execute(select(DeadlineRow.code, DeadlineRow.id)).tuples().all())
    c.execute(
        insert(DeadlineTargetRow),
        [
            {"deadline_id": deadlines[d.code], "group_id": groups[code], "person_id": None}
            for d in w.deadlines
            for code in d.assign
        ],
    )
    roster = {g.code: g for g in w.groups}
    c.execute(
        insert(AssignmentRow),
        [
            {
                "deadline_id": deadlines[d.code],
                "person_id": people[handle],
                "active": True,
                "not_applicable_reason": None,
                "not_applicable_at": None,
                "created_at": at,
                "withdrawn_at": None,
            }
            for d in w.deadlines
            for code in d.assign
            for handle in roster[code].handles_with_role(Role.FOCAL)
        ],
    )


# --------------------------------------------------------------- databases


def _settings(url: str, **more: Any) -> Settings:  # noqa: ANN401
    return Settings(database_url=url, timezone=HOME_ZONE, country=HOME_COUNTRY, **more)


@contextmanager
def fresh_database(spec: str) -> Iterator[str]:
    """``sqlite``: a file in a temporary directory. A PostgreSQL URL: a new database on that
    server, dropped at the end. A ``sqlite:///`` URL: that file, which must not exist yet."""
    if spec == "sqlite":
        with tempfile.TemporaryDirectory(prefix="focal-bench-") as folder:
            yield f"sqlite:///{folder}/focal.sqlite"
        return
    url = make_url(spec)
    if url.get_backend_name() == "sqlite":
        if url.database and Path(url.database).exists():
            raise typer.BadParameter(f"{url.database} exists; the bench needs a new file")
        yield spec
        return
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"focal_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _maintain(engine: Engine) -> None:
    """PostgreSQL: what autovacuum would have done between two runs (statistics, dead rows)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def clear_reminders(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(ReminderRow))
        connection.execute(delete(ReminderPlanDeadlineRow))
        connection.execute(delete(ReminderPlanRow))
    _maintain(engine)


def reset_due(engine: Engine, now: datetime) -> None:
    """Every reminder due by ``now`` back to planned, as before the first send."""
    with engine.begin() as connection:
        connection.execute(
            update(ReminderRow)
            .where(ReminderRow.planned_at <= now)
            .values(
                state=ReminderState.PLANNED.value,
                attempts=0,
                claimed_at=None,
                claimed_by=None,
                recovered_from=None,
                sent_at=None,
                slack_channel=None,
                slack_ts=None,
                last_error=None,
            )
        )
    _maintain(engine)


def set_slack_ids(engine: Engine, w: Workload, *, known: bool) -> None:
    with engine.begin() as connection:
        if known:
            connection.execute(
                update(PersonRow)
                .where(PersonRow.handle == sqlalchemy.bindparam("h"))
                .values(slack_user_id=sqlalchemy.bindparam("uid")),
                [{"h": h, "uid": uid} for h, uid in w.user_ids.items()],
            )
        else:
            connection.execute(update(PersonRow).values(slack_user_id=None))


def forget_addresses(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(PersonRow).values(reached_channel=None, reached_as=None))


def count_rows(engine: Engine, *where: Any) -> int:  # noqa: ANN401
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(ReminderRow).where(*where)))


# ----------------------------------------------------------------- Slack


def _serve_standin(users: list[tuple[str, str, str, str]], conn: Connection) -> None:
    with SlackStandIn() as slack:
        for handle, email, tz, user_id in users:
            slack.add_user(name=handle, email=email, tz=tz, user_id=user_id)
        for *_, user_id in users:  # one workspace: the same DM ids in every stand-in
            slack.open_dm(user_id)
        conn.send(slack.url)
        while (command := conn.recv()) != "stop":
            if isinstance(command, tuple) and command[0] == "latency":
                slack.slow("*", seconds=command[1], times=sys.maxsize)
                conn.send("ok")
            elif command == "cpu":
                conn.send(time.process_time())
            elif command == "summary":
                messages = slack.messages()
                conn.send(
                    {
                        "calls": dict(Counter(c.method for c in slack.calls())),
                        "connections": slack.connections(),
                        "messages": len(messages),
                        "channels": len({m.channel for m in messages}),
                        "violations": list(slack.violations[:3]),
                        "violation_count": len(slack.violations),
                    }
                )


class StandInProcess:
    """A fresh Slack stand-in in a process of its own (so it takes no CPU from this one's GIL)."""

    def __init__(self, users: list[tuple[str, str, str, str]]) -> None:
        self.users = users
        self.url = ""

    def __enter__(self) -> Self:
        context = multiprocessing.get_context("spawn")
        for attempt in range(1, ATTEMPTS + 1):
            self._conn, child = context.Pipe()
            self._process = context.Process(
                target=_serve_standin, args=(self.users, child), daemon=True
            )
            self._process.start()
            child.close()
            try:
                self.url = self._receive()
            except ChildProcessError:
                if attempt == ATTEMPTS:
                    raise
                _say("the stand-in process did not start (code being edited?); once more")
                time.sleep(5)
            else:
                break
        return self

    def _receive(self) -> Any:  # noqa: ANN401 - whatever the child sends
        # a child that dies before it unpickles its end of the pipe leaves it open: poll
        while not self._conn.poll(0.2):
            if not self._process.is_alive():
                raise ChildProcessError(f"the stand-in ended ({self._process.exitcode})")
        return self._conn.recv()

    def set_latency(self, seconds: float) -> None:
        """From now on every answer waits ``seconds`` first, like a network's round trip."""
        if seconds > 0:
            self._conn.send(("latency", seconds))
            self._receive()

    def cpu(self) -> float:
        """The stand-in process's CPU seconds so far (all its threads)."""
        self._conn.send("cpu")
        seconds: float = self._receive()
        return seconds

    def summary(self) -> dict[str, Any]:
        self._conn.send("summary")
        answer: dict[str, Any] = self._receive()
        return answer

    def __exit__(self, *_exc: object) -> None:
        self._conn.send("stop")
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()  # our own child, by its handle
            self._process.join()


# ---------------------------------------------------------------- planning


class Stopwatch:
    """Seconds per step: wall clock, this process's CPU and the database server's (when it can
    be read), and this process's resident memory after each."""

    def __init__(self, server: Callable[[], float] = lambda: 0.0) -> None:
        self.laps: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.server_cpu: dict[str, float] = {}
        self.rss: dict[str, float] = {}
        self._server = server
        self._last = (time.perf_counter(), time.process_time(), server())

    def lap(self, name: str) -> None:
        now = (time.perf_counter(), time.process_time(), self._server())
        for into, value, last in zip(
            (self.laps, self.cpu, self.server_cpu), now, self._last, strict=True
        ):
            into[name] = into.get(name, 0) + value - last
        self.rss[name] = _rss_now_mb()
        self._last = now


def _backend_pid(engine: Engine) -> int | None:
    """The PostgreSQL backend serving ``engine``'s pooled connection (planning, in a new
    engine, gets this same connection back); None on another backend."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _server_cpu(pid: int | None) -> Callable[[], float] | None:
    """The CPU seconds used so far by the PostgreSQL backend ``pid``, when the server runs on
    this machine and its /proc can be read; else None.

    Planning's inserts are mostly the server's work: on a busy machine its CPU time says more
    than the wall clock does.
    """
    if pid is None:
        return None
    stat = Path(f"/proc/{pid}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    try:
        read()
    except (OSError, IndexError, ValueError):
        return None
    return read


def _rss_now_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _peak_rss_mb() -> float:
    """This process image's own peak RSS (VmHWM). In a spawned child, getrusage's ru_maxrss
    also counts the parent's RSS at the fork before exec (Linux keeps it across execve)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return _max_rss_mb()


def _profile_text(profile: cProfile.Profile, lines: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def plan_in_child(url: str, now: datetime, mode: str) -> dict[str, Any]:
    """One planning measurement in this (fresh) process. ``mode``: timed, traced, profile."""
    app = build_app(_settings(url))
    try:
        result: dict[str, Any] = {"rss_before_mb": _rss_now_mb()}
        profile = cProfile.Profile() if mode == "profile" else None
        if mode == "traced":
            tracemalloc.start()
        if profile:
            profile.enable()
        pid = _backend_pid(app.engine)
        server = _server_cpu(pid)
        watch = Stopwatch(server or (lambda: 0.0))
        start, cpu = time.perf_counter(), time.process_time()
        report = refresh_plan(
            uow=app.uow(), policy=app.policy(), now=now, force=True, lap=watch.lap
        )
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = time.process_time() - cpu
        if server is not None and _backend_pid(app.engine) == pid:  # the same connection
            result["server_cpu_seconds"] = sum(watch.server_cpu.values())
        if profile:
            profile.disable()
            result["profile"] = _profile_text(profile, 25)
        if mode == "traced":
            result["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result |= {
            "report": report,
            "peak_rss_mb": _peak_rss_mb(),
            "max_rss_mb": _max_rss_mb(),
            "laps": watch.laps,
            "cpu": watch.cpu,
            "server_cpu": watch.server_cpu,
            "rss": watch.rss,
            "load": os.getloadavg(),
        }
        return result
    finally:
        app.close()


def in_fresh_process(url: str, now: datetime, mode: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                return pool.submit(plan_in_child, url, now, mode).result()
        except BrokenProcessPool:
            if attempt == ATTEMPTS:
                raise
            _say("the planning process died (code being edited?); once more")
            time.sleep(5)
    raise AssertionError  # pragma: no cover - the loop returns or raises


@dataclass
class Planning:
    cold: dict[str, Any]  # into an empty store
    warm: dict[str, Any]  # again at the same time, the plan stored
    later: dict[str, Any]  # the plan stored, half the horizon later (the routine re-plan)
    traced: dict[str, Any]
    traced_warm: dict[str, Any]
    profile: str | None = None
    baseline: tuple[float, float] | None = None  # the figures before, for the full size only


def measure_planning(engine: Engine, url: str, now: datetime, *, profile: bool) -> Planning:
    clear_reminders(engine)
    _say("planning: under tracemalloc, into an empty store")
    traced = in_fresh_process(url, now, "traced")
    clear_reminders(engine)
    _say("planning: timed, into an empty store")
    cold = in_fresh_process(url, now, "timed")
    _maintain(engine)
    _say("planning: timed again, forced, nothing changed")
    warm = in_fresh_process(url, now, "timed")
    _say("planning: under tracemalloc, plan stored")
    traced_warm = in_fresh_process(url, now, "traced")
    _say("planning: timed, the plan stored, half the horizon later")
    later = in_fresh_process(url, now + HORIZON / 2, "timed")
    clear_reminders(engine)  # the plan as of ``now`` again, for the sending measurements
    _say("planning: " + ("under cProfile, " if profile else "") + "into an empty store again")
    again = in_fresh_process(url, now, "profile" if profile else "timed")
    _maintain(engine)
    return Planning(cold, warm, later, traced, traced_warm, again.get("profile"))


# ----------------------------------------------------------------- sending


@dataclass
class Send:
    name: str
    concurrency: int | None
    seconds: float
    messages: int
    reminders: int
    summary: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds of the sending process (every thread)
    standin_cpu: float = 0.0  # CPU seconds of the stand-in's process

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else float("nan")


def render_all(
    w: Workload, messages: Sequence[ReminderMessage]
) -> tuple[float, list[tuple[str, str, list[dict[str, Any]]]]]:
    """The baseline's payloads, rendered beforehand: (seconds it took, payloads)."""
    start = time.perf_counter()
    rendered = [render_reminder(m) for m in messages]
    payloads = [
        (w.user_ids[m.recipient.handle], r.text, r.blocks_json())
        for m, r in zip(messages, rendered, strict=True)
    ]
    return time.perf_counter() - start, payloads


def baseline(
    w: Workload, payloads: Sequence[tuple[str, str, list[dict[str, Any]]]], *, latency: float
) -> Send:
    """A bare sequential loop of chat.postMessage: the same rendered messages, the same DMs."""
    with StandInProcess(w.slack_users()) as slack:
        client = WebClient(token=TOKEN, base_url=slack.url)
        channels = {  # opened beforehand, not timed
            uid: str(client.conversations_open(users=uid)["channel"]["id"])
            for uid in sorted({uid for uid, _, _ in payloads})
        }
        slack.set_latency(latency)
        standin_cpu, cpu = slack.cpu(), time.process_time()
        start = time.perf_counter()
        for uid, text_, blocks in payloads:
            client.chat_postMessage(channel=channels[uid], text=text_, blocks=blocks)
        seconds = time.perf_counter() - start
        cpu, standin_cpu = time.process_time() - cpu, slack.cpu() - standin_cpu
        summary = slack.summary()
    return Send(
        "bare chat_postMessage loop",
        None,
        seconds,
        len(payloads),
        0,
        summary,
        cpu=cpu,
        standin_cpu=standin_cpu,
    )


def focal_send(
    app: App,
    w: Workload,
    now: datetime,
    *,
    name: str,
    concurrency: int,
    latency: float = 0,
    profile: cProfile.Profile | None = None,
) -> Send:
    with StandInProcess(w.slack_users()) as slack:
        notifier = SlackNotifier(
            build_web_clients(token=TOKEN, base_url=slack.url), digest_channel=None
        )
        slack.set_latency(latency)
        clear_render_cache()  # the baseline's rendering beforehand must not warm Focal's
        if profile:
            profile.enable()
        standin_cpu, cpu = slack.cpu(), time.process_time()
        start = time.perf_counter()
        report = send_due(
            uow_factory=app.uow,
            notifier=notifier,
            now=now,
            worker=Worker(f"bench-{os.getpid()}-{time.monotonic_ns()}"),
            concurrency=concurrency,
        )
        seconds = time.perf_counter() - start
        cpu, standin_cpu = time.process_time() - cpu, slack.cpu() - standin_cpu
        if profile:
            profile.disable()
        summary = slack.summary()
        notifier.close()
    return Send(
        name,
        concurrency,
        seconds,
        report.messages,
        report.reminders,
        summary,
        report.errors,
        cpu=cpu,
        standin_cpu=standin_cpu,
    )


@dataclass
class Sending:
    due: int
    messages: int
    lines: int
    render_seconds: float  # render_reminder + blocks_json of every message, once
    latency: float
    runs: list[Send]
    profile: str | None = None


def measure_sending(
    engine: Engine,
    app: App,
    w: Workload,
    now: datetime,
    *,
    concurrency: Sequence[int],
    latency: float,
    profile: bool,
) -> Sending:
    due = count_rows(engine, ReminderRow.state == "planned", ReminderRow.planned_at <= now)
    messages = preview_due(uow=app.uow(), policy=app.policy(), now=now)
    lines = sum(len(m.lines) for m in messages)
    render_seconds, payloads = render_all(w, messages)
    runs: list[Send] = []
    _say(f"sending: the baseline ({len(messages)} messages)")
    runs.append(baseline(w, payloads, latency=latency))
    # the first run ever looks everyone up (users.lookupByEmail, conversations.open); later
    # runs reuse the conversations the first one remembered, like every run after it
    plan: list[tuple[str, int]] = [("Focal, first run (look-ups)", concurrency[0])]
    plan += [("Focal, later runs", c) for c in concurrency]
    forget_addresses(engine)
    set_slack_ids(engine, w, known=False)
    for name, c in plan:
        reset_due(engine, now)
        _say(f"sending: {name}, concurrency {c}")
        runs.append(focal_send(app, w, now, name=name, concurrency=c, latency=latency))
    _say("sending: the baseline again")
    runs.append(baseline(w, payloads, latency=latency))
    text_ = None
    if profile:
        reset_due(engine, now)
        _say("sending: under cProfile (concurrency 1: every call on this thread)")
        prof = cProfile.Profile()
        focal_send(app, w, now, name="profiled", concurrency=1, profile=prof)
        text_ = _profile_text(prof, 30)
    return Sending(due, len(messages), lines, render_seconds, latency, runs, text_)


# -------------------------------------------------------------------- idle


@dataclass
class Idle:
    service: list[float]
    flow: list[float]
    reports: tuple[PlanReport, DeliveryReport] | None = None
    profile: str | None = None


def _timed_runs(count: int, run: Callable[[datetime], object], now: datetime) -> list[float]:
    seconds = []
    for minute in range(1, count + 1):
        start = time.perf_counter()
        run(now + timedelta(minutes=minute))
        seconds.append(time.perf_counter() - start)
    return seconds


def measure_idle(app: App, w: Workload, now: datetime, *, runs: int, profile: bool) -> Idle:
    from flows.reminders import build_runtime, run_send_reminders  # noqa: PLC0415 - Prefect: slow

    with StandInProcess(w.slack_users()) as slack:
        notifier = SlackNotifier(
            build_web_clients(token=TOKEN, base_url=slack.url), digest_channel=None
        )
        last: list[tuple[PlanReport, DeliveryReport]] = []

        def service_run(at: datetime) -> None:
            planned = refresh_plan(uow=app.uow(), policy=app.policy(), now=at)
            sent = send_due(uow_factory=app.uow, notifier=notifier, now=at, worker=Worker("idle"))
            last[:] = [(planned, sent)]

        _say(f"idle: {runs} runs of refresh_plan + send_due, a minute apart")
        service = _timed_runs(runs, service_run, now)
        text_ = None
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            _timed_runs(runs, service_run, now)
            prof.disable()
            text_ = _profile_text(prof, 20)
        settings = _settings(
            str(app.engine.url.render_as_string(hide_password=False)),
            slack_bot_token=TOKEN,
            slack_api_url=slack.url,
        )
        runtime = build_runtime(settings, echo=lambda _line: None)
        try:
            _say(f"idle: {runs} runs of flows.reminders.run_send_reminders")
            flow = _timed_runs(runs, lambda at: run_send_reminders(runtime, at), now)
        finally:
            runtime.close()
    return Idle(service, flow, last[0] if last else None, text_)


# ----------------------------------------------------------------- report


@dataclass
class Result:
    backend: str
    load_seconds: float
    load_mode: str
    sizes: dict[str, int]
    planning: Planning | None
    sending: Sending | None
    idle: Idle | None


def _ok(passed: bool) -> str:
    return "[green]yes[/]" if passed else "[red]NO[/]"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def print_result(r: Result) -> None:
    sizes = _table(f"{r.backend}: sizes", "what", "count")
    for what, n in r.sizes.items():
        sizes.add_row(what, f"{n:,}")
    sizes.add_row(f"load ({r.load_mode}), s", f"{r.load_seconds:.1f}")
    console.print(sizes)
    if r.planning is not None:
        _print_planning(r.backend, r.planning)
    if r.sending is not None:
        _print_sending(r.backend, r.sending)
    if r.idle is not None:
        _print_idle(r.backend, r.idle)


def _print_planning(backend: str, p: Planning) -> None:
    runs = {"empty store": p.cold, "plan stored": p.warm, "stored, 18 h later": p.later}
    table = _table(
        f"{backend}: refresh_plan(force=True), a fresh process each",
        "measure",
        *runs,
        "target",
        "ok",
    )

    def row(what: str, values: Sequence[float], target: float | None = None) -> None:
        ok = "" if target is None else _ok(max(values) <= target)
        limit = "" if target is None else f"<= {target:g}"
        digits = 2 if what.endswith(", s") or what.startswith("  ratio") else 0
        table.add_row(what, *(f"{v:.{digits}f}" for v in values), limit, ok)

    row("time, s", [r["seconds"] for r in runs.values()], TARGET_PLAN_S)
    row("  CPU time of the process, s", [r["cpu_seconds"] for r in runs.values()])
    if all("server_cpu_seconds" in r for r in runs.values()):
        row(
            "  CPU time of the PostgreSQL backend, s",
            [r["server_cpu_seconds"] for r in runs.values()],
        )
        row(
            "  CPU of both (about the time, on a quiet machine), s",
            [r["cpu_seconds"] + r["server_cpu_seconds"] for r in runs.values()],
            TARGET_PLAN_S,
        )
    before = p.baseline
    if before is not None:
        table.add_row(
            f"  before ({BASELINE_CODE}, quiet machine), s", *(f"{b:.2f}" for b in before), ""
        )
        table.add_row(
            "  ratio (before / now)",
            *(f"{b / r['seconds']:.2f}" for b, r in zip(before, runs.values(), strict=False)),
        )
    table.add_row("  load average at the end", *(f"{r['load'][0]:.2f}" for r in runs.values()))
    row("  time under tracemalloc, s", [p.traced["seconds"], p.traced_warm["seconds"]])
    row("tracemalloc peak, MB", [p.traced["peak_mb"], p.traced_warm["peak_mb"]], TARGET_MEMORY_MB)
    row(
        "peak RSS of the process (VmHWM), MB",
        [r["peak_rss_mb"] for r in runs.values()],
        TARGET_MEMORY_MB,
    )
    row(
        "  getrusage ru_maxrss, MB (counts the parent's RSS at spawn)",
        [r["max_rss_mb"] for r in runs.values()],
    )
    row("  RSS before planning (imports, engine), MB", [r["rss_before_mb"] for r in runs.values()])
    table.add_row(
        "assignments / reminders added",
        *(f"{r['report'].assignments:,} / {r['report'].added:,}" for r in runs.values()),
    )
    table.add_row(
        "  retimed / skipped / notices",
        *(
            f"{r['report'].retimed:,} / {r['report'].skipped:,} / {r['report'].notices:,}"
            for r in runs.values()
        ),
    )
    console.print(table)
    server = all("server_cpu_seconds" in r for r in runs.values())
    steps = _table(
        f"{backend}: refresh_plan step by step (the timed runs above), s: wall (CPU of this "
        f"process{' + of the PostgreSQL backend' if server else ''}); RSS after",
        "step",
        *runs,
    )

    def step(r: dict[str, Any], name: str) -> str:
        if name not in r["laps"]:
            return ""
        cpu = f"{r['cpu'][name]:.3f}"
        if server:
            cpu += f" + {r['server_cpu'][name]:.3f}"
        return f"{r['laps'][name]:.3f} ({cpu}); {r['rss'][name]:.0f} MB"

    names = list(dict.fromkeys(name for r in runs.values() for name in r["laps"]))
    for name in names:
        steps.add_row(name, *(step(r, name) for r in runs.values()))
    steps.add_row("[bold]sum[/]", *(f"{sum(r['laps'].values()):.3f}" for r in runs.values()))
    console.print(steps)
    if p.profile:
        console.print(f"[bold]{backend}: cProfile of refresh_plan (empty store)[/]")
        console.print(p.profile, markup=False, highlight=False)


def _print_sending(backend: str, s: Sending) -> None:
    console.print(
        f"[bold]{backend}: sending[/] {s.due:,} due reminders -> {s.messages:,} messages "
        f"({s.lines:,} lines); stand-in latency {s.latency * 1000:g} ms per call"
    )
    base = statistics.mean(r.rate for r in s.runs if r.concurrency is None)
    table = _table(
        f"{backend}: sending through the Slack stand-in",
        "run",
        "threads",
        "messages",
        "s",
        "msg/s",
        "ratio",
        "calls (lookup/open/post)",
        "connections",
        "CPU ms/msg: sender",
        "stand-in",
        "ok",
    )
    for r in s.runs:
        calls = r.summary["calls"]
        counts = "/".join(
            str(calls.get(m, 0))
            for m in ("users.lookupByEmail", "conversations.open", "chat.postMessage")
        )
        ratio = r.rate / base
        fine = (
            r.summary["messages"] == r.messages == s.messages
            and not r.summary["violation_count"]
            and not r.errors
        )
        table.add_row(
            r.name,
            "1" if r.concurrency is None else str(r.concurrency),
            f"{r.messages:,}",
            f"{r.seconds:.2f}",
            f"{r.rate:,.0f}",
            "" if r.concurrency is None else f"{ratio:.2f} " + _ok(ratio >= 1),
            counts,
            f"{r.summary.get('connections', 0):,}",
            f"{r.cpu / max(1, r.messages) * 1000:.2f}",
            f"{r.standin_cpu / max(1, r.messages) * 1000:.2f}",
            _ok(fine),
        )
    console.print(table)
    console.print(
        "ratio = Focal msg/s / baseline msg/s (mean of the two baseline runs).\n"
        "Baseline: a plain slack_sdk WebClient(base_url=...) with its default transport "
        "(urllib: a new connection for every call) posting the messages one after another "
        "with chat_postMessage; its DMs opened beforehand and its messages rendered "
        f"beforehand, both untimed (render_reminder + blocks_json of all {s.messages:,} took "
        f"{s.render_seconds:.2f} s, {s.render_seconds / max(1, s.messages) * 1000:.1f} ms "
        "each).\n"
        "Focal: services.reminders.send_due as the flow runs it (claim, render, post, record "
        "sent; the next batch claimed and the last recorded while one is posted) through "
        "bots.slack.notifier's clients: KeepAliveWebClient, slack_sdk's WebClient over kept-"
        "alive http.client connections, with its retry handlers; the first run looks everyone "
        "up by e-mail, later runs post to the channels kept from the first.\n"
        "CPU ms/msg: CPU seconds of the sending process (every thread; Focal's includes "
        "SQLite, not a PostgreSQL server) and of the stand-in's process, per message."
    )
    for r in s.runs:
        if r.summary["violation_count"] or r.errors:
            console.print(f"  {r.name}: {r.summary['violations']} {r.errors[:3]}", markup=False)
    if s.profile:
        console.print(f"[bold]{backend}: cProfile of send_due (a later run, concurrency 1)[/]")
        console.print(s.profile, markup=False, highlight=False)


def _print_idle(backend: str, idle: Idle) -> None:
    table = _table(f"{backend}: idle run (nothing due)", "run", "median s", "max s", "target", "ok")
    for name, seconds in (
        ("refresh_plan + send_due", idle.service),
        ("flows.reminders.run_send_reminders", idle.flow),
    ):
        median = statistics.median(seconds)
        table.add_row(
            f"{name} (x{len(seconds)})",
            f"{median:.4f}",
            f"{max(seconds):.4f}",
            f"<= {TARGET_IDLE_S:g}",
            _ok(median <= TARGET_IDLE_S),
        )
    console.print(table)
    if idle.reports:
        planned, sent = idle.reports
        console.print(f"  last idle run: planned={planned.planned}, messages={sent.messages}")
    if idle.profile:
        console.print(f"[bold]{backend}: cProfile of the idle runs[/]")
        console.print(idle.profile, markup=False, highlight=False)


def source_state() -> str:
    """HEAD, and a digest of the uncommitted changes to the production code if any."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip()
        diff = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "diff", "HEAD", "--", *PRODUCTION],  # noqa: S607
            capture_output=True,
            check=True,
            cwd=ROOT,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    if not diff:
        return head
    return f"{head} + uncommitted changes (digest {hashlib.sha256(diff).hexdigest()[:10]})"


def print_machine(urls: Sequence[str], source: str) -> None:
    table = _table("machine", "fact", "value")
    table.add_row("code", source)
    table.add_row("CPUs", str(os.cpu_count()))
    table.add_row("Python", f"{platform.python_version()} ({platform.python_implementation()})")
    table.add_row("platform", platform.platform())
    table.add_row("SQLAlchemy", sqlalchemy.__version__)
    table.add_row("SQLite", sqlite3.sqlite_version)
    for url in urls:
        if url != "sqlite" and make_url(url).get_backend_name() == "postgresql":
            engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
            with engine.connect() as connection:
                table.add_row("PostgreSQL", str(connection.scalar(text("SHOW server_version"))))
            engine.dispose()
    console.print(table)


# -------------------------------------------------------------------- main


def run_backend(spec: str, options: Options) -> Result:
    with fresh_database(spec) as url:
        engine = build_engine(url)
        app = build_app(_settings(url))
        try:
            backend = engine.dialect.name
            _say(f"{backend}: migrating")
            upgrade(engine)
            w = build_workload(options.people, options.assignments, options.now)
            _say(f"{backend}: loading {len(w.people):,} people, {w.assignments:,} assignments")
            start = time.perf_counter()
            if options.load == "yaml":
                load_yaml(app, w)
            else:
                load_bulk(engine, w)
            load_seconds = time.perf_counter() - start
            _maintain(engine)
            planning = None
            if "planning" in options.only:
                planning = measure_planning(engine, url, options.now, profile=options.profile)
                if (options.people, options.assignments, options.now) == (
                    5_000,
                    100_000,
                    BENCH_NOW,
                ):
                    planning.baseline = BASELINE_PLAN_S.get(backend)
            else:
                _say(f"{backend}: planning once (not measured)")
                refresh_plan(uow=app.uow(), policy=app.policy(), now=options.now, force=True)
                _maintain(engine)
            stored = count_rows(engine)
            sending = None
            if "sending" in options.only:
                sending = measure_sending(
                    engine,
                    app,
                    w,
                    options.now,
                    concurrency=options.concurrency,
                    latency=options.latency,
                    profile=options.profile,
                )
            idle = None
            if "idle" in options.only:
                idle = measure_idle(
                    app, w, options.now, runs=options.idle_runs, profile=options.profile
                )
            with engine.connect() as connection:
                assignments = connection.scalar(select(func.count()).select_from(AssignmentRow))
            sizes = {
                "people": len(w.people),
                "groups": len(w.groups),
                "deadlines": len(w.deadlines),
                "assignments": int(assignments or 0),
                "reminders stored (36 h window)": stored,
            }
            if sending is not None:
                sizes["reminders due at the bench time"] = sending.due
                sizes["messages per send"] = sending.messages
                sizes["messages sent (all runs)"] = sum(r.messages for r in sending.runs)
            return Result(backend, load_seconds, options.load, sizes, planning, sending, idle)
        finally:
            app.close()
            engine.dispose()


@dataclass(frozen=True)
class Options:
    people: int
    assignments: int
    now: datetime
    load: str
    concurrency: tuple[int, ...]
    idle_runs: int
    profile: bool
    latency: float = 0
    only: frozenset[str] = MEASURES


def _databases(given: list[str] | None) -> list[str]:
    if given:
        return given
    from_env = os.environ.get("FOCAL_BENCH_DATABASE_URL")
    if from_env:
        return [part.strip() for part in from_env.split(",") if part.strip()]
    postgres = os.environ.get("FOCAL_TEST_DATABASE_URL")
    return ["sqlite", *([postgres] if postgres else [])]


def main(  # noqa: PLR0917 - typer passes the options by name
    people: Annotated[int, typer.Option(help="People in the roster.")] = 5_000,
    assignments: Annotated[int, typer.Option(help="Active assignments (about).")] = 100_000,
    quick: Annotated[bool, typer.Option("--quick", help="Ten times smaller.")] = False,
    database: Annotated[
        list[str] | None,
        typer.Option(
            help="'sqlite' (a temporary file), a sqlite:/// URL of a new file, or a PostgreSQL "
            "URL (a database is created there and dropped). Repeatable. Default: "
            "$FOCAL_BENCH_DATABASE_URL (comma-separated), else SQLite and "
            "$FOCAL_TEST_DATABASE_URL when set.",
            show_default=False,
        ),
    ] = None,
    now: Annotated[str, typer.Option(help="The bench time (ISO, with offset).")] = (
        BENCH_NOW.isoformat()
    ),
    load: Annotated[str, typer.Option(help="bulk (SQLAlchemy Core) or yaml (focal load).")] = (
        "bulk"
    ),
    concurrency: Annotated[
        list[int] | None, typer.Option(help="send_due concurrency; repeatable. Default: 8, 16.")
    ] = None,
    idle_runs: Annotated[int, typer.Option(help="Idle runs to take the median of.")] = 20,
    latency: Annotated[
        float, typer.Option(help="Milliseconds the stand-in waits before each answer.")
    ] = 0,
    profile: Annotated[bool, typer.Option("--profile", help="Print cProfile top entries.")] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Measure only this: planning, sending or idle; repeatable. Default: all. "
            "Without planning the plan is made once, unmeasured.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Plan and send reminders at scale on SQLite and PostgreSQL; print the figures."""
    if load not in {"bulk", "yaml"}:
        raise typer.BadParameter("--load is bulk or yaml")
    if unknown := set(only or ()) - MEASURES:
        raise typer.BadParameter(f"--only takes {', '.join(sorted(MEASURES))}, not {unknown}")
    at = datetime.fromisoformat(now)
    if at.tzinfo is None:
        raise typer.BadParameter("--now needs an offset, e.g. 2026-09-15T10:30+07:00")
    options = Options(
        people=people // 10 if quick else people,
        assignments=assignments // 10 if quick else assignments,
        now=at.astimezone(UTC),
        load=load,
        concurrency=tuple(concurrency or (8, 16)),
        idle_runs=idle_runs,
        profile=profile,
        latency=latency / 1000,
        only=frozenset(only or MEASURES),
    )
    specs = _databases(database)
    source = source_state()
    print_machine(specs, source)
    console.print(f"bench time {options.now:%Y-%m-%d %H:%M} UTC; horizon {HORIZON}")
    for spec in specs:
        print_result(run_backend(spec, options))
    if source_state() != source:
        console.print(
            f"[red]The production code changed during the run[/] ({source} -> "
            f"{source_state()}): the figures may mix versions."
        )


if __name__ == "__main__":
    typer.run(main)
