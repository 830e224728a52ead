"""How fast the HTTP app serves calendar feeds: warm answers, ``304``, cold builds, rebuilds.

A person's feed of 500 events (300 meetings, 200 of their own deadlines) and a group's feed of
10,000 (6,000 meetings, 4,000 deadlines owed by its five members, half of them submitted), in a
database written with SQLAlchemy Core. The app (Starlette under uvicorn, as ``focal serve``
runs it, without the access log) runs in a process of its own; the client sends requests one
after another on one keep-alive connection over loopback and times each whole answer (body
read). Target: a warm answer or a ``304`` within 5 ms.

    .venv/bin/python -m bench.feed_serving --quick     # a 2,000-event group feed, 200 requests
    .venv/bin/python -m bench.feed_serving             # SQLite, plus PostgreSQL when
                                                       # FOCAL_TEST_DATABASE_URL is set
"""

from __future__ import annotations

import http.client
import multiprocessing
import socket
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Self

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, update

from bench.reminders import _databases, fresh_database
from config.settings import Settings
from config.wiring import build_app
from db.engine import build_engine
from db.migrate import upgrade
from db.models import (
    AssignmentRow,
    DeadlineRow,
    DeadlineTargetRow,
    FeedTokenRow,
    GroupRow,
    MeetingGroupRow,
    MeetingRow,
    MembershipRow,
    PersonRow,
    SubmissionRow,
)
from services.feed_access import token_hash

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

out = Console(highlight=False, width=200)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
ZONES = ("Asia/Ho_Chi_Minh", "Asia/Manila", "Asia/Jakarta", "Asia/Bangkok")
SOLO_TOKEN = "bench-solo-" + "s" * 32
MEMBER_TOKEN = "bench-member-" + "m" * 30
CHUNK = 5_000
TARGET_MS = 5.0


# ------------------------------------------------------------------- world


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def _insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:  # noqa: ANN401
    with engine.begin() as connection:
        for chunk in _chunks(rows):
            connection.execute(insert(model), chunk)


def _meetings(prefix: str, count: int, start_id: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        start = datetime(2026, 1, 5, 9, 0) + timedelta(hours=7 * i)  # noqa: DTZ001 - local wall-clock
        all_day = i % 7 == 0
        if all_day:
            start = start.replace(hour=0)
        end = start + (timedelta(days=1) if all_day else timedelta(hours=3))
        rows.append(
            {
                "id": start_id + i,
                "code": f"{prefix}-M{i:05d}",
                "title": f"{prefix} meeting {i}: working session on environmental cooperation",
                "titles": {"vi": f"Phiên họp {i} về hợp tác môi trường"},
                "kind": "working-group",
                "all_day": all_day,
                "start_local": start,
                "end_local": end,
                "timezone": ZONES[i % len(ZONES)],
                "starts_at": start.replace(tzinfo=UTC) - timedelta(hours=7),
                "ends_at": end.replace(tzinfo=UTC) - timedelta(hours=7),
                "venue": "Jakarta, Indonesia" if i % 3 else None,
                "status": "cancelled" if i % 50 == 0 else "confirmed",
                "uid": f"bench-{prefix}-{i}@focal",
                "recurrence_id": "",
                "sequence": i % 3,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    return rows


def _deadlines(prefix: str, count: int, start_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": start_id + i,
            "code": f"{prefix}-D{i:05d}",
            "title": f"{prefix} input {i}: country report for the working group",
            "titles": {"vi": f"Đầu vào {i}: báo cáo quốc gia"},
            "kind": "report",
            "due_rule": "2026-09-01",
            "due_at": NOW + timedelta(days=30 + i % 200, hours=10),
            "sequence": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(count)
    ]


@dataclass(frozen=True)
class World:
    person_events: int
    group_events: int


def build_world(engine: Engine, *, group_meetings: int, group_deadlines: int) -> World:
    """Person ``solo`` (group SMALL: 300 meetings, 200 deadlines assigned to them) and group
    BIG (five members) with ``group_meetings`` meetings and ``group_deadlines`` deadlines."""
    people = [
        {
            "id": n + 1,
            "handle": handle,
            "name": f"Bench {handle}",
            "email": f"{handle}@example.gov.vn",
            "timezone": "Asia/Ho_Chi_Minh",
            "language": "vi" if n % 2 else "en",
            "country": "VN",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n, handle in enumerate(["solo", "m0", "m1", "m2", "m3", "m4"])
    ]
    _insert(engine, PersonRow, people)
    _insert(
        engine,
        GroupRow,
        [
            {"id": 1, "code": "SMALL", "name": "Small group", "created_at": NOW, "updated_at": NOW},
            {"id": 2, "code": "BIG", "name": "Big group", "created_at": NOW, "updated_at": NOW},
        ],
    )
    _insert(
        engine,
        MembershipRow,
        [{"group_id": 1, "person_id": 1, "role": "focal"}]
        + [{"group_id": 2, "person_id": p, "role": "focal"} for p in range(2, 7)],
    )
    small_meetings = _meetings("SMALL", 300, 1)
    big_meetings = _meetings("BIG", group_meetings, 1_000)
    _insert(engine, MeetingRow, small_meetings + big_meetings)
    _insert(
        engine,
        MeetingGroupRow,
        [{"meeting_id": m["id"], "group_id": 1} for m in small_meetings]
        + [{"meeting_id": m["id"], "group_id": 2} for m in big_meetings],
    )
    small = _deadlines("SMALL", 200, 1)
    big = _deadlines("BIG", group_deadlines, 1_000)
    _insert(engine, DeadlineRow, small + big)
    _insert(engine, DeadlineTargetRow, [{"deadline_id": d["id"], "person_id": 1} for d in small])
    _insert(engine, DeadlineTargetRow, [{"deadline_id": d["id"], "group_id": 2} for d in big])
    assignments = [
        {"id": d["id"], "deadline_id": d["id"], "person_id": 1, "active": True, "created_at": NOW}
        for d in small
    ]
    next_id = 1_000_000
    submissions = []
    for d in big:
        for person in range(2, 7):
            next_id += 1
            assignments.append(
                {
                    "id": next_id,
                    "deadline_id": d["id"],
                    "person_id": person,
                    "active": True,
                    "created_at": NOW,
                }
            )
            if (d["id"] + person) % 2:
                submissions.append(_submission(next_id, person, version=1))
    _insert(engine, AssignmentRow, assignments)
    _insert(engine, SubmissionRow, submissions)
    _insert(
        engine,
        FeedTokenRow,
        [
            {"person_id": 1, "token_hash": token_hash(SOLO_TOKEN), "created_at": NOW},
            {"person_id": 2, "token_hash": token_hash(MEMBER_TOKEN), "created_at": NOW},
        ],
    )
    return World(person_events=500, group_events=group_meetings + group_deadlines)


def _submission(assignment: int, person: int, *, version: int) -> dict[str, Any]:
    return {
        "assignment_id": assignment,
        "version": version,
        "text": "Our country report.",
        "links": [],
        "submitted_by_id": person,
        "on_behalf": False,
        "submitted_at": NOW + timedelta(days=1, minutes=version),
        "late": False,
        "status": "received",
    }


# -------------------------------------------------------------------- server


def _serve(url: str, port: int) -> None:
    import uvicorn  # noqa: PLC0415 - in the server's process only

    from bots.web.app import build_web_app  # noqa: PLC0415

    focal = build_app(Settings(_env_file=None, database_url=url))
    uvicorn.run(
        build_web_app(focal), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve_bytes(body: bytes, port: int) -> None:
    """The floor: the same bytes from a bare ASGI callable under the same uvicorn settings."""
    import uvicorn  # noqa: PLC0415 - in the server's process only

    headers = [
        (b"content-type", b"text/calendar; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: ANN401, ARG001
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(bare, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Server:
    def __init__(self, url: str, *, body: bytes | None = None) -> None:
        self.port = _free_port()
        target, first = (_serve, url) if body is None else (_serve_bytes, body)
        self.process = multiprocessing.get_context("spawn").Process(
            target=target, args=(first, self.port), daemon=True
        )

    def __enter__(self) -> Self:
        self.process.start()
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline or not self.process.is_alive():
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.05)

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.join(10)


class Client:
    """One keep-alive connection; each call times a whole answer (status, headers, body)."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.first_byte_ms = 0.0

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, float, bytes, dict[str, str]]:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=headers or {})
        response = self.connection.getresponse()
        self.first_byte_ms = (time.perf_counter() - started) * 1000
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, elapsed, body, dict(response.getheaders())


# ------------------------------------------------------------------ measure


@dataclass(frozen=True)
class Figures:
    feed: str
    events: int
    body_kb: float
    gzip_kb: float
    cold_ms: float
    warm: list[float]
    warm_gzip: list[float]
    not_modified: list[float]
    own_change_ms: float
    other_change_ms: float
    first_byte: list[float]  # warm plain 200: until the status line and headers are in
    floor: list[float]  # the same bytes from a bare ASGI app under the same uvicorn


def _times(
    client: Client,
    path: str,
    count: int,
    headers: dict[str, str],
    status: int,
    *,
    first_bytes: list[float] | None = None,
) -> list[float]:
    found = []
    for _ in range(count):
        got, elapsed, _, _ = client.get(path, headers)
        if got != status:
            raise RuntimeError(f"{path}: {got}, not {status}")
        found.append(elapsed)
        if first_bytes is not None:
            first_bytes.append(client.first_byte_ms)
    return found


def floor_times(body: bytes, count: int) -> list[float]:
    """Whole-answer times of the same body from a bare ASGI app: what the transport costs."""
    with Server("", body=body) as server:
        client = Client(server.port)
        _times(client, "/", 20, {}, 200)  # warm the connection
        return _times(client, "/", count, {}, 200)


def measure(
    client: Client,
    *,
    feed: str,
    path: str,
    events: int,
    requests: int,
    own_change: Callable[[], None],
    other_change: Callable[[], None],
) -> Figures:
    status, cold, body, headers = client.get(path)
    if status != 200:  # noqa: PLR2004
        raise RuntimeError(f"{path}: {status}")
    _, _, zipped, _ = client.get(path, {"Accept-Encoding": "gzip"})
    first_byte: list[float] = []
    warm = _times(client, path, requests, {}, 200, first_bytes=first_byte)
    warm_gzip = _times(client, path, requests, {"Accept-Encoding": "gzip"}, 200)
    validators = {"If-None-Match": headers["etag"], "Accept-Encoding": "gzip"}
    not_modified = _times(client, path, requests, validators, 304)
    other_change()
    _, other_ms, _, _ = client.get(path)
    own_change()
    _, own_ms, _, _ = client.get(path)
    return Figures(
        feed, events, len(body) / 1024, len(zipped) / 1024, cold, warm, warm_gzip,
        not_modified, own_ms, other_ms, first_byte, floor_times(body, requests),
    )  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cell(values: list[float], *, target: bool = True) -> str:
    p50, p99 = statistics.median(values), _pct(values, 0.99)
    if not target:
        return f"{p50:.2f} / {p99:.2f}"
    mark = "[green]✓[/]" if p99 <= TARGET_MS else "[red]✗[/]"
    return f"{p50:.2f} / {p99:.2f} {mark}"


def print_figures(backend: str, figures: list[Figures], requests: int) -> None:
    table = Table(title=f"Feed serving on {backend} ({requests} requests each, loopback HTTP)")
    for column in (
        "feed", "events", "body KB (gzip)", "cold build ms", "warm 200 p50/p99 ms",
        "warm 200 gzip p50/p99 ms", "304 p50/p99 ms", "after its own change ms",
        "after another's change ms",
    ):  # fmt: skip
        table.add_column(column, justify="right" if column != "feed" else "left")
    for f in figures:
        table.add_row(
            f.feed, f"{f.events:,}", f"{f.body_kb:,.0f} ({f.gzip_kb:,.0f})", f"{f.cold_ms:,.0f}",
            _cell(f.warm), _cell(f.warm_gzip), _cell(f.not_modified),
            f"{f.own_change_ms:,.0f}", f"{f.other_change_ms:,.1f}",
        )  # fmt: skip
    out.print(table)
    floor = Table(
        title=f"Warm plain 200 on {backend} beside the floor: the same bytes from a bare ASGI "
        "app under the same uvicorn, same client, same run"
    )
    for column in (
        "feed", "Focal first byte p50/p99 ms", "Focal whole p50/p99 ms",
        "bare app whole p50/p99 ms", "p99 ratio Focal / bare",
    ):  # fmt: skip
        floor.add_column(column, justify="right" if column != "feed" else "left")
    for f in figures:
        ratio = _pct(f.warm, 0.99) / _pct(f.floor, 0.99)
        floor.add_row(
            f.feed, _cell(f.first_byte, target=False), _cell(f.warm), _cell(f.floor, target=False),
            f"{ratio:.2f}",
        )  # fmt: skip
    out.print(floor)


def _submit(engine: Engine, assignment: int, person: int, version: int) -> Callable[[], None]:
    def change() -> None:
        _insert(engine, SubmissionRow, [_submission(assignment, person, version=version)])

    return change


def _rename(engine: Engine, group: int) -> Callable[[], None]:
    def change() -> None:
        with engine.begin() as connection:
            connection.execute(
                update(GroupRow).where(GroupRow.id == group).values(name=f"Renamed {time.time()}")
            )

    return change


def run_backend(spec: str, *, group_events: int, requests: int) -> None:
    with fresh_database(spec) as url:
        engine = build_engine(url)
        upgrade(engine)
        meetings = group_events * 3 // 5
        started = time.perf_counter()
        world = build_world(
            engine, group_meetings=meetings, group_deadlines=group_events - meetings
        )
        out.print(
            f"[dim]{engine.dialect.name}: world written in {time.perf_counter() - started:.1f} s[/]"
        )
        try:
            with Server(url) as server:
                client = Client(server.port)
                person = measure(
                    client,
                    feed="person (solo)",
                    path=f"/feeds/{SOLO_TOKEN}.ics",
                    events=world.person_events,
                    requests=requests,
                    own_change=_submit(engine, 1, 1, 1),
                    other_change=_rename(engine, 2),
                )
                group = measure(
                    client,
                    feed="group (BIG)",
                    path=f"/feeds/groups/BIG.ics?token={MEMBER_TOKEN}",
                    events=world.group_events,
                    requests=requests,
                    own_change=_submit(engine, 1_000_001, 2, 2),
                    other_change=_rename(engine, 1),
                )
        finally:
            engine.dispose()
        print_figures(engine.dialect.name, [person, group], requests)


def main(
    quick: Annotated[bool, typer.Option("--quick", help="A 2,000-event group feed.")] = False,
    database: Annotated[
        list[str] | None,
        typer.Option(help="sqlite or a PostgreSQL URL (repeatable; default as bench.reminders)."),
    ] = None,
    requests: Annotated[int, typer.Option(help="Requests per measurement.")] = 1_000,
    group_events: Annotated[int, typer.Option(help="Events in the group's feed.")] = 10_000,
) -> None:
    """Print warm-answer, 304, cold-build and rebuild times of the feeds over loopback HTTP."""
    if quick:
        group_events, requests = min(group_events, 2_000), min(requests, 200)
    for spec in _databases(database):
        run_backend(spec, group_events=group_events, requests=requests)


if __name__ == "__main__":
    typer.run(main)
