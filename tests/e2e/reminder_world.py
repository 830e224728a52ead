"""A small world of focal points for the reminder end-to-end tests, and what they check.

The world is loaded through the same service as ``focal load``; reminders go through the real
``slack_sdk`` client to the local Slack stand-in. Expectations are worked out here from the
rules of SPEC.md ("Reminders") with the ``holidays`` package, independently of the planner.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import aliased

from bots.slack.notifier import SlackNotifier, build_web_clients
from config.yaml_source import parse_yaml
from core.notices import REMINDER_EVENT
from core.reminders import ReminderPolicy
from core.workdays import WorkingCalendar
from db.models import AssignmentRow, DeadlineRow, PersonRow, ReminderRow
from services.delivery import Worker, send_due
from services.loading import LoadOptions, load_configuration
from services.reminders import refresh_plan

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from db.uow import SqlAlchemyUnitOfWork
    from tests.slack_standin import Message, SlackStandIn

    MakeUow = Callable[[], SqlAlchemyUnitOfWork]

TOKEN = "xoxb-focal-test"  # noqa: S105 - the stand-in accepts any xoxb- token
COORDINATOR_ZONE = "Asia/Ho_Chi_Minh"
POLICY = ReminderPolicy()
OPTIONS = LoadOptions(
    default_timezone=COORDINATOR_ZONE, country="VN", workdays=WorkingCalendar("VN")
)
#: When the roster and calendar are loaded: before every reminder of February 2026.
LOADED = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)
#: Tết 2026 in Viet Nam (public holidays Monday 16 to Friday 20 February).
TET = frozenset(date(2026, 2, d) for d in range(16, 21))

# --------------------------------------------------------------------- the month

ROSTER = """\
coordinators: [lan]
people:
  - {handle: lan, name: Nguyen Thi Lan, email: lan@example.gov.vn,
     timezone: Asia/Ho_Chi_Minh, country: VN, language: vi}
  - {handle: minh, name: Le Van Minh, email: minh@example.gov.vn,
     timezone: Asia/Ho_Chi_Minh, country: VN}
  - {handle: maria, name: Maria Santos, email: maria@example.gov.ph,
     timezone: Asia/Manila, country: PH}
  - {handle: kenji, name: Sato Kenji, email: kenji@example.go.jp,
     timezone: Asia/Tokyo, country: JP}
  - {handle: aye, name: Aye Aye Khaing, email: aye@example.gov.mm,
     timezone: Asia/Yangon, country: MM}
  - {handle: rosa, name: Rosa Dela Cruz, email: rosa@example.gov.ph,
     timezone: Asia/Manila, country: PH}
groups:
  - code: AWGESC
    name: ASEAN Working Group on Environmentally Sustainable Cities
    members:
      - {person: rosa, role: chair}
      - {person: minh, role: focal}
      - {person: maria, role: focal}
      - {person: kenji, role: focal}
      - {person: aye, role: focal}
  - code: AWGCC
    name: ASEAN Working Group on Climate Change
    members:
      - {person: maria, role: focal}
      - {person: aye, role: focal}
"""

MEETING_START = "start: 2026-03-26T09:00"
MEETING_END = "end: 2026-03-27T17:00"

CALENDAR = f"""\
meetings:
  - code: AWGESC-20
    title: 20th Meeting of the ASEAN Working Group on Environmentally Sustainable Cities
    kind: working-group
    {MEETING_START}
    {MEETING_END}
    timezone: Asia/Manila
    groups: [AWGESC]
deadlines:
  - code: ESC-REPORTS
    title: Country reports, due the Monday after Tết
    kind: report
    due: 2026-02-23
    assign: [AWGESC]
  - code: CC-NOTE
    title: Climate note, due on a Saturday
    kind: briefing
    due: 2026-02-28T12:00
    assign: [AWGCC]
  - code: MM-PLAN
    title: Work plan input, due in Yangon time
    kind: workplan
    due: 2026-02-26T17:00
    timezone: Asia/Yangon
    assign: [aye, kenji]
  - code: ESC20-WORKPLANS
    title: Work plans for the 20th AWGESC meeting
    kind: workplan
    meeting: AWGESC-20
    due: -21d
    assign: [AWGESC]
"""

#: The meeting postponed by a week: ESC20-WORKPLANS (-21d) moves from 5 to 12 March.
POSTPONED = CALENDAR.replace(MEETING_START, "start: 2026-04-02T09:00").replace(
    MEETING_END, "end: 2026-04-03T17:00"
)


def crowd_roster(count: int) -> str:
    """``count`` focal points of one group, in Hanoi, Manila and Tokyo, and a coordinator."""
    zones = (("Asia/Ho_Chi_Minh", "VN"), ("Asia/Manila", "PH"), ("Asia/Tokyo", "JP"))
    people = ["  - {handle: lan, name: Lan, email: lan@example.gov.vn, timezone: Asia/Ho_Chi_Minh}"]
    members = []
    for n in range(count):
        zone, country = zones[n % len(zones)]
        people.append(
            f"  - {{handle: fp{n:02d}, name: Focal Point {n:02d}, email: fp{n:02d}@example.org, "
            f"timezone: {zone}, country: {country}}}"
        )
        members.append(f"      - {{person: fp{n:02d}, role: focal}}")
    return "\n".join(
        [
            "coordinators: [lan]",
            "people:",
            *people,
            "groups:",
            "  - code: CROWD",
            "    name: A crowded working group",
            "    members:",
            *members,
            "",
        ]
    )


#: One deadline for the crowd; its 14-days-before reminder is due at 09:00 on 9 February 2026
#: in Hanoi (and earlier that morning in Manila and Tokyo), the same moment for everyone.
CROWD_CALENDAR = """\
deadlines:
  - code: CROWD-REPORTS
    title: Country reports of the crowd
    kind: report
    due: 2026-02-23
    assign: [CROWD]
"""
CROWD_DUE = datetime(2026, 2, 9, 2, 0, tzinfo=UTC)  # 09:00 in Hanoi


# ------------------------------------------------------------------- loading


def load(make_uow: MakeUow, *, now: datetime, roster: str, calendar: str) -> None:
    documents = [
        ("/office/roster.yaml", parse_yaml(textwrap.dedent(roster), "/office/roster.yaml")),
        ("/office/calendar.yaml", parse_yaml(textwrap.dedent(calendar), "/office/calendar.yaml")),
    ]
    load_configuration(documents, uow=make_uow(), options=OPTIONS, actor="test", now=now)


@dataclass(frozen=True)
class Someone:
    handle: str
    email: str
    timezone: str
    country: str
    user_id: str


def register_people(slack: SlackStandIn, roster: str) -> dict[str, Someone]:
    """Everyone of the roster as a Slack user of the stand-in (found by e-mail)."""
    people = {}
    for p in yaml.safe_load(roster)["people"]:
        user = slack.add_user(name=p["handle"], email=p["email"], tz=p["timezone"])
        people[p["handle"]] = Someone(
            p["handle"], p["email"], p["timezone"], p.get("country", "VN"), user
        )
    return people


def slack_notifier(slack: SlackStandIn, **options: Any) -> SlackNotifier:
    """The notifier ``focal`` builds, pointed at the stand-in; no back-off waits."""
    clients = build_web_clients(token=TOKEN, base_url=slack.url)
    return SlackNotifier(clients, digest_channel=None, sleep=lambda _s: None, **options)


# ---------------------------------------------------------------- simulation


@dataclass
class Simulation:
    """Runs ``refresh_plan`` + ``send_due`` at simulated times; remembers when each message
    appeared in the stand-in (the run it appeared during)."""

    make_uow: MakeUow
    slack: SlackStandIn
    notifier: SlackNotifier
    worker: Worker = field(default_factory=lambda: Worker("simulation"))
    posted_at: dict[str, datetime] = field(default_factory=dict)  # message ts -> run's now

    def run(self, now: datetime) -> list[Message]:
        before = len(self.slack.messages())
        refresh_plan(uow=self.make_uow(), policy=POLICY, now=now)
        send_due(
            uow_factory=self.make_uow,
            notifier=self.notifier,
            now=now,
            worker=self.worker,
            concurrency=4,
        )
        new = self.slack.messages()[before:]
        channels = Counter(m.channel for m in new)
        assert max(channels.values(), default=0) <= 1, f"two messages to one person at {now}"
        for message in new:
            self.posted_at[message.ts] = now
        return new

    def run_between(self, start: datetime, end: datetime) -> None:
        for now in cadence(start, end):
            self.run(now)


def times(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    now = start
    while now < end:
        yield now
        now += step


def cadence(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every half hour through the mornings of Asia (23:30-03:00 UTC), every six hours
    otherwise: a message planned at a wrong time goes out at a run that is not 09:00 local.

    09:00 in Tokyo, Manila, Hanoi and Yangon is 00:00, 01:00, 02:00 and 02:30 UTC.
    """
    for now in times(start, end, timedelta(minutes=30)):
        morning = now.time() >= clock_time(23, 30) or now.time() <= clock_time(3, 0)
        if morning or now.time() in {clock_time(6), clock_time(12), clock_time(18)}:
            yield now


# ---------------------------------------------------------------- what was sent


def keys_of(message: Message) -> list[str]:
    metadata = message.metadata or {}
    assert metadata.get("event_type") == REMINDER_EVENT, metadata
    keys = (metadata.get("event_payload") or {}).get("keys")
    assert isinstance(keys, list), metadata
    assert keys, "a reminder message names its reminders"
    return [str(k) for k in keys]


def block_text(message: Message) -> str:
    return json.dumps(message.blocks or [], ensure_ascii=False)


@dataclass(frozen=True)
class StoredReminder:
    key: str
    state: str
    kind: str
    deadline: str
    owes: str
    recipient: str
    days_before: int
    planned_at: datetime
    due_at: datetime
    slack_channel: str | None
    slack_ts: str | None


def stored_reminders(engine: Engine) -> dict[str, StoredReminder]:
    owes, recipient = aliased(PersonRow), aliased(PersonRow)
    query = (
        select(
            ReminderRow.key,
            ReminderRow.state,
            ReminderRow.kind,
            DeadlineRow.code,
            owes.handle,
            recipient.handle,
            ReminderRow.days_before,
            ReminderRow.planned_at,
            ReminderRow.due_at,
            ReminderRow.slack_channel,
            ReminderRow.slack_ts,
        )
        .join(AssignmentRow, ReminderRow.assignment_id == AssignmentRow.id)
        .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
        .join(owes, AssignmentRow.person_id == owes.id)
        .join(recipient, ReminderRow.person_id == recipient.id)
    )
    with engine.connect() as connection:
        return {row[0]: StoredReminder(*row) for row in connection.execute(query)}


def assert_exactly_once(
    engine: Engine, slack: SlackStandIn, *, now: datetime
) -> dict[str, StoredReminder]:
    """Every reminder due by ``now`` is sent, in exactly one Slack message, and recorded there.

    Returns the stored reminders by key.
    """
    stored = stored_reminders(engine)
    messages = slack.messages()
    where: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        for key in keys_of(message):
            where[key].append(message)
    twice = {k: [m.ts for m in ms] for k, ms in where.items() if len(ms) > 1}
    assert twice == {}, f"reminders posted more than once: {twice}"
    assert set(where) <= set(stored), f"posted but unknown: {set(where) - set(stored)}"
    states = Counter(r.state for r in stored.values())
    assert states["sending"] == 0, f"left claimed: {states}"
    assert states["failed"] == 0, f"given up: {states}"
    due = {k for k, r in stored.items() if r.planned_at <= now}
    lost = {k for k in due if stored[k].state not in {"sent", "skipped"}}
    assert lost == set(), f"due but never sent: {sorted(lost)}"
    sent = {k for k, r in stored.items() if r.state == "sent"}
    assert sent == set(where), (
        f"sent but not in Slack: {sorted(sent - set(where))}; "
        f"in Slack but not marked sent: {sorted(set(where) - sent)}"
    )
    for key in sent:
        (message,) = where[key]
        assert (stored[key].slack_channel, stored[key].slack_ts) == (message.channel, message.ts)
    return stored


# --------------------------------------------------------------- expectations


def expected_days(
    due_at: datetime,
    zone: str,
    country: str,
    steps: Iterable[int] = POLICY.days_before,
    hour: int = POLICY.hour,
) -> dict[date, int]:
    """The local days a recipient is reminded on, and the step each day stands for.

    SPEC.md: days counted in the recipient's zone; on a working day of their country at the
    reminder hour; on or before the due date a reminder moves earlier, after it later; never
    after the due instant; two on one day become one (the nearer to the due date).
    """
    tz = ZoneInfo(zone)
    country_holidays = holidays.country_holidays(country)

    def working(day: date) -> bool:
        return bool(country_holidays.is_working_day(day))

    due_day = due_at.astimezone(tz).date()
    days: dict[date, int] = {}
    for step in steps:
        day = due_day - timedelta(days=step)
        move = timedelta(days=-1 if step >= 0 else 1)
        while not working(day):
            day += move
        while step >= 0 and datetime.combine(day, clock_time(hour), tz) > due_at:
            day -= timedelta(days=1)
            while not working(day):
                day -= timedelta(days=1)
        if day not in days or abs(step) < abs(days[day]):
            days[day] = step
    return days


def is_working_day(day: date, country: str) -> bool:
    return bool(holidays.country_holidays(country).is_working_day(day))


# ------------------------------------------------------------ the focal command

#: A small fork server: imports what ``focal remind`` needs once, then forks one fresh process
#: per run, which sets its environment and calls the ``focal`` console script's ``main``.
#: Each run is its own OS process (own pid, own database connections and Slack clients), so a
#: SIGKILL hits it exactly as it would hit ``focal remind`` started from a shell, while the
#: tests do not pay Python's and Prefect's start-up for every run.
_FORK_SERVER = r"""
import json, os, select, sys, traceback
import flows.reminders
from bots.cli.main import main


def report(**event):
    os.write(1, (json.dumps(event) + "\n").encode())


def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        report(exit=pid, code=os.waitstatus_to_exitcode(status))


def run(go):
    log = os.open(go["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ.update(go["env"])
    sys.argv = ["focal", *go["args"]]
    code = 0
    try:
        main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


pending = b""
while True:
    readable, _, _ = select.select([0], [], [], 0.005)
    reap()
    if not readable:
        continue
    chunk = os.read(0, 65536)
    if not chunk:
        break
    pending += chunk
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        go = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run(go)
        report(start=pid)
"""


def _clean_environment(prefect_home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FOCAL_", "SLACK_", "PREFECT_"))
    }
    return env | {"PREFECT_HOME": str(prefect_home)}  # no Prefect server: runs in-process


@dataclass
class FocalRun:
    """One ``focal`` process."""

    command: FocalCommand
    pid: int
    log: Path

    def poll(self) -> int | None:
        """Its exit code (negative: the signal that ended it), None while it runs."""
        with self.command.events:
            return self.command.exits.get(self.pid)

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float = 60) -> int:
        """Its exit code; a run that hangs is killed, and the test fails."""
        with self.command.events:
            ended = self.command.events.wait_for(lambda: self.pid in self.command.exits, timeout)
        if not ended:
            self.kill()
            pytest.fail(f"focal (pid {self.pid}) still running after {timeout} s")
        code = self.poll()
        assert code is not None
        return code

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


class FocalCommand:
    """Runs ``focal ARGS`` in fresh processes, each with its own settings (environment)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.events = threading.Condition()
        self.exits: dict[int, int] = {}
        self._started: list[int] = []
        with (directory / "fork-server.log").open("wb") as errors:
            self._server = subprocess.Popen(
                [sys.executable, "-c", _FORK_SERVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=directory,
                env=_clean_environment(directory / "prefect"),
            )
        self._reader = threading.Thread(target=self._read, name="focal-events", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._server.stdout is not None
        for line in self._server.stdout:
            event = json.loads(line)
            with self.events:
                if "start" in event:
                    self._started.append(event["start"])
                else:
                    self.exits[event["exit"]] = event["code"]
                self.events.notify_all()

    def start(self, *args: str, env: dict[str, str]) -> FocalRun:
        """``focal ARGS`` with these settings, running from now on."""
        assert self._server.stdin is not None
        log = self.directory / f"focal-{len(self._started) + 1}.log"
        with self.events:
            count = len(self._started)
            go = {"env": env, "args": list(args), "log": str(log)}
            self._server.stdin.write(json.dumps(go).encode() + b"\n")
            self._server.stdin.flush()
            started = self.events.wait_for(lambda: len(self._started) > count, timeout=60)
            assert started, "the focal fork server did not start a run"
            return FocalRun(self, self._started[count], log)

    def run(self, *args: str, env: dict[str, str]) -> FocalRun:
        process = self.start(*args, env=env)
        process.wait()
        return process

    def close(self) -> None:
        """Stop every run still going, then the fork server itself."""
        for pid in self._started:
            FocalRun(self, pid, self.directory).kill()
        self._server.kill()
        self._server.wait()
        self._reader.join(10)
        for stream in (self._server.stdin, self._server.stdout):
            if stream is not None:
                stream.close()


def wait_for(condition: Callable[[], bool], *, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.002)
