"""The calendar feeds over real HTTP on loopback (uvicorn running the ASGI app), on SQLite and
PostgreSQL: what is served, its validators, 304, 404 and 503, and what changes when data does."""

from __future__ import annotations

import gzip
import http.client
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import icalendar
import pytest
from sqlalchemy import create_engine, event, select, update
from sqlalchemy.exc import OperationalError

from bots.web.app import build_web_app
from core.feed_state import deadline_uid
from core.meetings import meeting_uid
from db.models import FeedTokenRow, MeetingRow
from services.feed_access import feed_access, token_hash
from services.feeds import group_feed_bytes, person_feed_bytes
from services.submissions import Submission, declare_not_applicable, record_submission
from tests.fakes import HandClock, app_on
from tests.integration.test_loading import CALENDAR, ROSTER, load
from tests.slack_http import serve_asgi

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Engine

    from db.uow import SqlAlchemyUnitOfWork

LOADED = datetime(2026, 7, 1, tzinfo=UTC)
NOW = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)  # WORKPLANS is due 1 Sep 2026, 17:00 in Hanoi
WORKPLANS = "ASOEN37-WORKPLANS"
PUBLIC = "https://focal.example.gov"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def calendar(self) -> icalendar.Calendar:
        return icalendar.Calendar.from_ical(self.body)

    def event(self, uid: str) -> icalendar.Event:
        [found] = [e for e in self.calendar().walk("VEVENT") if str(e["UID"]) == uid]
        return found


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Answer:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


@dataclass
class Feeds:
    base: str
    clock: HandClock
    make_uow: Callable[[], SqlAlchemyUnitOfWork]
    engine: Engine

    def token(self, handle: str, *, reset: bool = False) -> str:
        access = feed_access(handle, reset=reset, uow=self.make_uow(), now=self.clock.at)
        assert access.token is not None
        return access.token

    def get(self, path: str, **headers: str) -> Answer:
        return fetch(self.base, path, {k.replace("_", "-"): v for k, v in headers.items()})


@pytest.fixture
def feeds(engine: Engine, make_uow: Any) -> Iterator[Feeds]:
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    clock = HandClock(NOW)
    with serve_asgi(build_web_app(app_on(engine, clock, public_url=PUBLIC))) as base:
        yield Feeds(base, clock, make_uow, engine)


def summary(answer: Answer, uid: str) -> str:
    return str(answer.event(uid)["SUMMARY"])


def sequence(answer: Answer, uid: str) -> int:
    return int(answer.event(uid)["SEQUENCE"])


# ------------------------------------------------------------------ serving


def test_a_person_feed_is_their_groups_meetings_and_their_own_inputs(feeds: Feeds) -> None:
    answer = feeds.get(f"/feeds/{feeds.token('minh')}.ics")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["etag"].startswith('"')
    assert answer.headers["cache-control"].startswith("private, max-age=")
    assert answer.headers["last-modified"].endswith(" GMT")
    uids = {str(e["UID"]) for e in answer.calendar().walk("VEVENT")}
    assert uids == {
        meeting_uid("ASOEN-37"),
        deadline_uid(WORKPLANS),
        deadline_uid("ANNUAL-REPORT"),
    }
    assert summary(answer, deadline_uid(WORKPLANS)) == "Due: 2027 work plans"
    assert not any("minh" in uid.lower() for uid in uids), "UIDs carry no personal data"


def test_a_vietnamese_reader_gets_vietnamese_titles(feeds: Feeds) -> None:
    answer = feeds.get(f"/feeds/{feeds.token('lan')}.ics")
    assert answer.status == 200
    assert deadline_uid("ASOEN37-POSITION") in answer.body.decode()
    assert summary(answer, deadline_uid("ASOEN37-POSITION")) == "Hạn nộp: Position note"
    assert summary(answer, meeting_uid("ASOEN-37")).startswith("Hội nghị Quan chức cấp cao")


def test_same_data_same_bytes_and_the_cli_writes_them(feeds: Feeds) -> None:
    token = feeds.token("minh")
    first, second = feeds.get(f"/feeds/{token}.ics"), feeds.get(f"/feeds/{token}.ics")
    assert first.body == second.body
    assert first.headers["etag"] == second.headers["etag"]
    assert person_feed_bytes("minh", uow=feeds.make_uow(), now=feeds.clock.at) == first.body


def test_if_none_match_and_if_modified_since_get_304(feeds: Feeds) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    first = feeds.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    not_modified = feeds.get(path, If_None_Match=etag)
    assert not_modified.status == 304
    assert not_modified.body == b""
    assert not_modified.headers["etag"] == etag
    assert feeds.get(path, If_None_Match=f'"other", {etag}').status == 304
    assert feeds.get(path, If_Modified_Since=modified).status == 304
    assert feeds.get(path, If_None_Match='"other"').status == 200
    assert feeds.get(path, If_None_Match='"other"', If_Modified_Since=modified).status == 200


def test_gzip_and_head(feeds: Feeds) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    plain = feeds.get(path)
    zipped = feeds.get(path, Accept_Encoding="gzip, deflate")
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert (
        feeds.get(path, Accept_Encoding="gzip", If_None_Match=zipped.headers["etag"]).status == 304
    )
    head = fetch(feeds.base, path, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["etag"] == plain.headers["etag"]


def test_a_submission_shows_at_once_with_a_higher_sequence(feeds: Feeds) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    uid = deadline_uid(WORKPLANS)
    before = feeds.get(path)
    feeds.clock.at = NOW + timedelta(hours=1)
    record_submission(
        Submission(WORKPLANS, "our plans", actor="minh"), uow=feeds.make_uow(), now=feeds.clock.at
    )
    after = feeds.get(path)
    assert summary(after, uid) == "Submitted: 2027 work plans"
    assert sequence(after, uid) == sequence(before, uid) + 1
    assert after.headers["etag"] != before.headers["etag"]
    assert feeds.get(path, If_None_Match=before.headers["etag"]).status == 200
    assert feeds.get(path, If_Modified_Since=before.headers["last-modified"]).status == 200
    assert after.event(uid)["DTSTAMP"].dt == feeds.clock.at.replace(microsecond=0)
    assert not after.event(uid).walk("VALARM"), "no alarm once submitted"
    # the meeting did not change: its SEQUENCE stays
    meeting = meeting_uid("ASOEN-37")
    assert sequence(after, meeting) == sequence(before, meeting)


def test_overdue_by_time_alone_raises_the_sequence_and_never_lowers_it(feeds: Feeds) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    uid = deadline_uid(WORKPLANS)
    due = feeds.get(path)
    feeds.clock.at = datetime(2026, 9, 1, 10, 1, tzinfo=UTC)  # 17:01 in Hanoi
    overdue = feeds.get(path)
    assert summary(overdue, uid) == "Overdue: 2027 work plans"
    assert sequence(overdue, uid) == sequence(due, uid) + 1
    assert overdue.headers["etag"] != due.headers["etag"]
    # as of an earlier time again (a CLI run with --now): "due" again, and higher still
    back = person_feed_bytes("minh", uow=feeds.make_uow(), now=NOW)
    seqs = [
        int(e["SEQUENCE"])
        for e in icalendar.Calendar.from_ical(back).walk("VEVENT")
        if str(e["UID"]) == uid
    ]
    assert seqs == [sequence(overdue, uid) + 1]
    declare_not_applicable(
        WORKPLANS, actor="minh", reason="not ours", uow=feeds.make_uow(), now=feeds.clock.at
    )
    excused = feeds.get(path)
    assert summary(excused, uid) == "Not applicable: 2027 work plans"
    assert sequence(excused, uid) == sequence(overdue, uid) + 2


def test_a_moved_meeting_is_served_moved(feeds: Feeds) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    before = feeds.get(path)
    with feeds.engine.begin() as connection:
        connection.execute(
            update(MeetingRow)
            .where(MeetingRow.code == "ASOEN-37")
            .values(status="cancelled", sequence=MeetingRow.sequence + 1)
        )
    after = feeds.get(path)
    meeting = after.event(meeting_uid("ASOEN-37"))
    assert str(meeting["STATUS"]) == "CANCELLED"
    assert sequence(after, meeting_uid("ASOEN-37")) == sequence(before, meeting_uid("ASOEN-37")) + 1
    # its deadlines are no longer owed
    assert summary(after, deadline_uid(WORKPLANS)) == "Not applicable: 2027 work plans"


# ------------------------------------------------------------------ groups


def test_group_feeds_are_for_members_and_coordinators(feeds: Feeds) -> None:
    path = "/feeds/groups/AWGESC.ics?token="
    member = feeds.get(path + feeds.token("hoa"))  # the alternate
    coordinator = feeds.get(path + feeds.token("lan"))
    assert member.status == coordinator.status == 200
    uids = {str(e["UID"]) for e in member.calendar().walk("VEVENT")}
    assert uids == {meeting_uid("ASOEN-37"), deadline_uid(WORKPLANS), deadline_uid("ANNUAL-REPORT")}
    assert feeds.get(path + feeds.token("aye")).status == 404, "not a member: as if none"
    assert feeds.get("/feeds/groups/NOPE.ics?token=" + feeds.token("cuong")).status == 404
    assert feeds.get("/feeds/groups/AWGESC.ics").status == 404
    assert member.body == group_feed_bytes(
        "AWGESC",
        language="en",
        office_timezone="Asia/Ho_Chi_Minh",
        uow=feeds.make_uow(),
        now=feeds.clock.at,
    )


def test_a_group_input_is_submitted_when_every_member_owing_it_has(feeds: Feeds) -> None:
    path = "/feeds/groups/AWGEE.ics?token=" + feeds.token("aye")
    uid = deadline_uid("AWGEE27-DRAFT")
    feeds.clock.at = datetime(2026, 2, 1, tzinfo=UTC)
    assert summary(feeds.get(path), uid) == "Due: Draft plan"
    record_submission(
        Submission("AWGEE27-DRAFT", "draft", actor="aye"), uow=feeds.make_uow(), now=feeds.clock.at
    )
    assert summary(feeds.get(path), uid) == "Submitted: Draft plan"


# ------------------------------------------------------------------ refusals


def test_unknown_malformed_and_revoked_tokens_get_404(feeds: Feeds) -> None:
    old = feeds.token("minh")
    assert feeds.get(f"/feeds/{old}.ics").status == 200
    assert feeds.get("/feeds/" + "A" * 43 + ".ics").status == 404
    assert feeds.get("/feeds/short.ics").status == 404
    assert feeds.get("/feeds/%00%27.ics").status == 404
    new = feeds.token("minh", reset=True)
    assert feeds.get(f"/feeds/{old}.ics").status == 404
    assert feeds.get(f"/feeds/{new}.ics").status == 200
    with feeds.engine.connect() as connection:
        hashes = connection.scalars(select(FeedTokenRow.token_hash)).all()
    assert set(hashes) == {token_hash(old), token_hash(new)}, "only hashes are stored"


def test_a_database_failing_after_a_warm_answer_gives_503_not_the_cached_feed(
    feeds: Feeds,
) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    warm = feeds.get(path)
    assert warm.status == 200

    def down(*_: Any) -> None:
        raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    event.listen(feeds.engine, "before_cursor_execute", down)
    try:
        failed = feeds.get(path)
        conditional = feeds.get(path, If_None_Match=warm.headers["etag"])
    finally:
        event.remove(feeds.engine, "before_cursor_execute", down)
    assert failed.status == conditional.status == 503
    assert failed.headers["retry-after"] == "60"
    assert b"BEGIN:VCALENDAR" not in failed.body
    assert feeds.get(path).body == warm.body


def test_an_unreachable_database_gives_503(tmp_path: Any) -> None:
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/dir/focal.db")
    with serve_asgi(build_web_app(app_on(gone, HandClock(NOW), public_url=PUBLIC))) as base:
        answer = fetch(base, "/feeds/" + "A" * 43 + ".ics")
        group = fetch(base, "/feeds/groups/AWGESC.ics?token=" + "A" * 43)
    assert answer.status == group.status == 503
    assert answer.headers["retry-after"] == "60"


def test_a_warm_feed_is_served_while_a_writer_holds_the_database(feeds: Feeds) -> None:
    path = f"/feeds/{feeds.token('minh')}.ics"
    warm = feeds.get(path)
    with feeds.engine.connect() as writer:  # BEGIN IMMEDIATE on SQLite: the write lock
        writer.execute(update(MeetingRow).where(MeetingRow.code == "nothing").values(title="x"))
        started = time.monotonic()
        during = feeds.get(path, If_None_Match=warm.headers["etag"])
        took = time.monotonic() - started
        writer.rollback()
    assert during.status == 304
    assert took < 2, "the lookup waited for the writer"
