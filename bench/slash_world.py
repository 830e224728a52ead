"""What ``bench/slash.py`` runs against: a roster and calendar due in the weeks ahead, stored
submissions by the hundred thousand, and the Slack stand-in in a process of its own (the HTTP
app's process is ``bench/slash_app.py``), so that neither takes CPU from the clients' GIL, nor
the clients from theirs.

The roster is 500 focal points in 25 working groups; 200 deadlines fall due 10 to 120 days
from now by the real clock (the app reads the system clock), eight per group, before each
group's meeting. Everyone's Slack id is stored, as after their first command.
"""

from __future__ import annotations

import http.client
import itertools
import multiprocessing
import random
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bench.reminders import HOME_ZONE, ZONES, Workload, load_bulk, set_slack_ids
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
    Role,
)
from db.models import AssignmentRow, DeadlineRow, PersonRow, SubmissionRow
from tests.slack_standin import SlackStandIn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from multiprocessing.connection import Connection

    from sqlalchemy.engine import Engine

PEOPLE, GROUPS, DEADLINES = 500, 25, 200
SECRET = "focal-bench-signing-secret"  # noqa: S105 - the bench's own, not a secret
CHUNK = 5_000
#: Tries at starting a child process: others may be editing the code it imports.
ATTEMPTS = 3

# ------------------------------------------------------------------- world


def build_world(now: datetime) -> Workload:
    """500 focal points in 25 groups; 200 deadlines due 10 to 120 days after ``now``."""
    today = now.astimezone(ZoneInfo(HOME_ZONE)).date()
    people = tuple(
        Person(
            handle=f"p{i:04d}",
            name=f"Focal Point {i:04d}",
            email=f"p{i:04d}@example.gov.vn",
            timezone=ZONES[i % len(ZONES)][0],
            language=Language.VI if i % 10 < 7 else Language.EN,  # noqa: PLR2004
            country=ZONES[i % len(ZONES)][1],
        )
        for i in range(PEOPLE)
    )
    groups = tuple(
        Group(
            f"WG{g:02d}",
            f"Working group {g}",
            tuple(Membership(p.handle, Role.FOCAL) for p in people[g::GROUPS]),
        )
        for g in range(GROUPS)
    )
    meetings = tuple(_meeting(g, today) for g in range(GROUPS))
    deadlines = tuple(_deadline(k, today) for k in range(DEADLINES))
    return Workload(
        people=people,
        groups=groups,
        meetings=meetings,
        deadlines=deadlines,
        coordinators=(people[0].handle,),
        loaded_at=now - timedelta(days=30),
        user_ids={p.handle: f"U{i:08d}" for i, p in enumerate(people)},
    )


def _meeting(g: int, today: date) -> Meeting:
    day = today + timedelta(days=130 + g % 10)
    return Meeting(
        code=f"WG{g:02d}-MTG",
        title=f"Meeting of working group {g}",
        kind=MeetingKind.WORKING_GROUP,
        start=datetime.combine(day, clock_time(9)),
        end=datetime.combine(day, clock_time(17)),
        timezone="Asia/Jakarta",
        titles={"vi": f"Cuộc họp nhóm công tác {g}"},
        venue="Jakarta, Indonesia",
        host_country="ID",
        groups=(f"WG{g:02d}",),
    )


def _deadline(k: int, today: date) -> Deadline:
    g, j = k % GROUPS, k // GROUPS
    due = datetime.combine(today + timedelta(days=10 + k * 110 // DEADLINES), clock_time(17))
    return Deadline(
        code=f"WG{g:02d}-IN{j:02d}",
        title=f"Input {j + 1} of working group {g}",
        kind=DeadlineKind.REPORT,
        due=AbsoluteDue(at=due),
        meeting=f"WG{g:02d}-MTG",
        assign=(f"WG{g:02d}",),
        titles={"vi": f"Đầu vào {j + 1} của nhóm công tác {g}"},
    )


def load_world(engine: Engine, w: Workload) -> None:
    load_bulk(engine, w)
    set_slack_ids(engine, w, known=True)


def owed(w: Workload, handle: str) -> list[str]:
    """The deadline codes ``handle`` owes (through their group)."""
    mine = {g.code for g in w.groups if handle in g.handles_with_role(Role.FOCAL)}
    return [d.code for d in w.deadlines if set(d.assign) & mine]


# ------------------------------------------------------------ submissions

_VI = (
    "Việt Nam ủng hộ đề xuất tăng cường hợp tác khu vực về thương mại điện tử.",
    "Bộ Công Thương đã hoàn thành dự thảo báo cáo tiến độ thực hiện kế hoạch hành động.",
    "Đề nghị Ban Thư ký cập nhật số liệu năm 2025 trước cuộc họp nhóm công tác.",
    "Các cơ quan liên quan đang rà soát điều khoản tham chiếu và sẽ gửi ý kiến bằng văn bản.",
    "Chúng tôi đề xuất bổ sung một mục về phát triển nguồn nhân lực và chuyển đổi số.",
)
_EN = (
    "Viet Nam supports the proposal to strengthen regional cooperation on digital trade.",
    "The ministry has completed the draft progress report on the action plan.",
    "We ask the Secretariat to update the 2025 figures before the working group meets.",
    "Line agencies are reviewing the terms of reference and will comment in writing.",
    "We propose an additional section on human resource development and digital change.",
)


def submission_texts(count: int, rng: random.Random) -> list[str]:
    """``count`` texts of 200 to 2,000 characters, mostly Vietnamese, some English."""
    texts = []
    for i in range(count):
        size = rng.randint(200, 2_000)
        pool = _VI if i % 4 else _EN
        words: list[str] = []
        while sum(len(s) + 1 for s in words) < size:
            words.append(rng.choice(pool))
        texts.append(" ".join(words)[:size].rstrip())
    return texts


def store_submissions(engine: Engine, count: int, *, now: datetime, seed: int = 15) -> int:
    """``count`` submissions, versions 1..n of assignments chosen at random; Core executemany."""
    rng = random.Random(seed)
    texts = submission_texts(256, rng)
    since = now - timedelta(days=29)
    with engine.begin() as c:
        assignments = c.execute(select(AssignmentRow.id, AssignmentRow.person_id)).tuples().all()
        per = Counter(rng.choices(range(len(assignments)), k=count))
        rows = (
            {
                "assignment_id": assignments[a][0],
                "version": v,
                "text": texts[(a * 31 + v) % len(texts)],
                "links": ["https://docs.example.gov.vn/input"] if v % 5 == 0 else [],
                "submitted_by_id": assignments[a][1],
                "on_behalf": False,
                "submitted_at": since + timedelta(minutes=17 * v + a % 600),
                "late": False,
                "status": "received",
                "reviewer_note": None,
                "reviewed_by_id": None,
                "reviewed_at": None,
            }
            for a, n in sorted(per.items())
            for v in range(1, n + 1)
        )
        while chunk := list(itertools.islice(rows, CHUNK)):
            c.execute(insert(SubmissionRow), chunk)
    return count


def versions(engine: Engine, handles: Iterable[str]) -> dict[tuple[str, str], list[int]]:
    """(deadline code, handle) -> the stored version numbers, ascending."""
    query = (
        select(DeadlineRow.code, PersonRow.handle, SubmissionRow.version)
        .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
        .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
        .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
        .where(PersonRow.handle.in_(list(handles)))
        .order_by(DeadlineRow.code, PersonRow.handle, SubmissionRow.version)
    )
    found: dict[tuple[str, str], list[int]] = {}
    with engine.connect() as c:
        for code, handle, version in c.execute(query).tuples():
            found.setdefault((code, handle), []).append(version)
    return found


def count_submissions(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


# --------------------------------------------------------------- processes


class Child:
    """``target(*args, conn)`` in a spawned process; it sends one greeting, then answers
    ``(command, argument)`` pairs until ``("stop", None)``. Not a daemon process (the app starts
    worker processes of its own): ``__exit__`` stops it, or ends it."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:  # noqa: ANN401
        self.target, self.args = target, args
        self.greeting: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        context = multiprocessing.get_context("spawn")
        for attempt in range(1, ATTEMPTS + 1):
            self._conn, child = context.Pipe()
            self._process = context.Process(
                target=self.target, args=(*self.args, child), daemon=False
            )
            self._process.start()
            child.close()
            try:
                self.greeting = self._receive()
            except ChildProcessError:
                if attempt == ATTEMPTS:
                    raise
                time.sleep(5)  # the code it imports may be mid-edit: once more
            else:
                break
        return self

    def _receive(self) -> Any:  # noqa: ANN401 - whatever the child sends
        while not self._conn.poll(0.2):
            if not self._process.is_alive():
                raise ChildProcessError(f"the child ended ({self._process.exitcode})")
        return self._conn.recv()

    def ask(self, command: str, argument: object = None) -> Any:  # noqa: ANN401
        with self._lock:
            self._conn.send((command, argument))
            return self._receive()

    def __exit__(self, *_exc: object) -> None:
        if self._process.is_alive():
            self._conn.send(("stop", None))
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()  # our own child, by its handle
            self._process.join()


def serve_standin(users: list[tuple[str, str, str, str]], conn: Connection) -> None:
    """The Slack stand-in: mints response URLs, reports what reached them."""
    with SlackStandIn() as slack:
        for handle, email, tz, user_id in users:
            slack.add_user(name=handle, email=email, tz=tz, user_id=user_id)
        conn.send(slack.url)
        while (message := conn.recv())[0] != "stop":
            command, argument = message
            if command == "urls":  # argument: the user id of each
                conn.send([slack.new_response_url(user_id=u) for u in argument])
            elif command == "since":  # argument: how many the asker has seen
                conn.send([(r.url, r.at) for r in slack.responses()[argument:]])
            elif command == "replies":
                conn.send(
                    {
                        "accepted": [(r.url, r.at, r.text or "") for r in slack.responses()],
                        "refused": [(r.url, r.error) for r in slack.responses(refused=True)],
                        "calls": dict(Counter(c.method for c in slack.calls())),
                        "violations": list(slack.violations[:5]),
                    }
                )


class Replies:
    """Watches the stand-in for replies at response URLs (a thread polling every 20 ms)."""

    def __init__(self, slack: Child) -> None:
        self.slack = slack
        self.at: dict[str, float] = {}  # response URL -> when the first reply reached it
        self._seen = 0
        self._arrived: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="replies", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _event(self, url: str) -> threading.Event:
        with self._lock:
            return self._arrived.setdefault(url, threading.Event())

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            new = self.slack.ask("since", self._seen)
            self._seen += len(new)
            for url, at in new:
                self.at.setdefault(url, at)
                self._event(url).set()

    def wait(self, url: str, timeout: float) -> bool:
        return self._event(url).wait(timeout)


def wait_healthy(base_url: str, *, timeout: float = 30) -> None:
    parts = urlsplit(base_url)
    deadline = time.monotonic() + timeout
    while True:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:  # noqa: PLR2004
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url}/healthz did not answer 200 in {timeout} s")
        time.sleep(0.1)


def utc_now() -> datetime:
    return datetime.now(UTC)
