"""The /focal app over real HTTP on loopback: requests signed as Slack signs them, every Web API
call (views.open, response URLs, receipts) answered by the local Slack stand-in.

Runs on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.exc import OperationalError

from bots.slack.app import build_bolt_app
from bots.slack.messages import NOT_APPLICABLE_ACTION, SNOOZE_ACTION, SUBMIT_ACTION
from bots.slack.notifier import SlackNotifier, build_web_clients
from bots.slack.workers import ThreadWorkers
from bots.web.app import build_web_app
from config.settings import Settings
from config.wiring import App
from core.model import ReminderState
from db.engine import build_session_factory
from db.models import (
    AssignmentRow,
    AuditRow,
    DeadlineRow,
    FeedTokenRow,
    MeetingRow,
    PersonRow,
    ReminderRow,
    SubmissionRow,
)
from services.delivery import Worker, send_due
from services.reminders import refresh_plan
from tests.integration.test_loading import CALENDAR, ROSTER, load
from tests.slack_http import SlackSender, plain_text_value, serve_asgi, url_value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Engine

    from tests.slack_standin import SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - a test secret
TOKEN = "xoxb-focal-test"  # noqa: S105 - the stand-in's made-up token
LOADED = datetime(2026, 7, 1, tzinfo=UTC)
NOW = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)  # Thu 20 Aug 2026, 10:00 in Hanoi
PEOPLE = {
    "lan": ("lan@example.gov.vn", "vi-VN"),  # coordinator, reads Vietnamese
    "cuong": ("cuong@example.gov.vn", "en-US"),  # chair of AWGESC
    "minh": ("minh@example.gov.vn", "en-US"),  # focal point of AWGESC
    "hoa": ("hoa@example.gov.vn", "en-US"),  # alternate of AWGESC
    "aye": ("aye@example.org", "en-US"),  # focal point of AWGEE
}
WORKPLANS = "ASOEN37-WORKPLANS"


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


@dataclass
class Office:
    focal: App
    slack: SlackStandIn
    sender: SlackSender
    users: dict[str, str]  # handle -> Slack user id
    engine: Engine

    def say(self, handle: str, text: str, **kwargs: Any) -> str:
        """``/focal text`` from ``handle``; the reply posted to the command's response URL."""
        answer = self.sender.command(text, user_id=self.users[handle], **kwargs)
        assert answer.status == 200, answer.text
        assert answer.elapsed < 3, "acknowledged within Slack's 3 seconds"
        url = answer.request.response_url
        assert url is not None
        return reply_at(self.slack, url)

    def rows(self, model: Any, *where: Any) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(model).where(*where)))


def reply_at(slack: SlackStandIn, url: str, *, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while not (posted := slack.responses(url)):
        assert time.monotonic() < deadline, "no reply reached the response URL"
        time.sleep(0.01)
    [response] = posted
    assert response.json.get("response_type") == "ephemeral"
    return str(response.json["text"])


def wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "it did not happen"
        time.sleep(0.01)
    return found


def settings(url: str, slack: SlackStandIn) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        slack_api_url=slack.url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
    )


def open_office(
    engine: Engine, make_uow: Any, slack: SlackStandIn, *, in_threads: bool = False
) -> Iterator[Office]:
    """The office's roster and calendar loaded, the app served. Its services run in worker
    processes, as under ``focal serve`` (each with an engine of its own, on the same database);
    ``in_threads``: in a thread of this process, on ``engine`` (for a fault put into it)."""
    load(make_uow, now=LOADED, roster=ROSTER, calendar=CALENDAR)
    users = {
        handle: slack.add_user(name=handle, email=email, locale=locale)
        for handle, (email, locale) in PEOPLE.items()
    }
    focal = App(
        settings=settings(str(engine.url.render_as_string(hide_password=False)), slack),
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=FixedClock(NOW),  # type: ignore[arg-type]
    )
    workers = ThreadWorkers(focal) if in_threads else None
    web = build_web_app(focal, bolt=build_bolt_app(focal, workers=workers))
    with serve_asgi(web) as base:
        yield Office(focal, slack, SlackSender(base, SECRET, slack=slack), users, engine)


@pytest.fixture
def office(engine: Engine, make_uow: Any, slack: SlackStandIn) -> Iterator[Office]:
    yield from open_office(engine, make_uow, slack)


@pytest.fixture
def office_in_threads(engine: Engine, make_uow: Any, slack: SlackStandIn) -> Iterator[Office]:
    yield from open_office(engine, make_uow, slack, in_threads=True)


def versions(office: Office, handle: str, code: str = WORKPLANS) -> list[tuple[int, str, str]]:
    submitter = PersonRow.__table__.alias("submitter")
    with office.engine.connect() as connection:
        rows = connection.execute(
            select(SubmissionRow.version, SubmissionRow.text, submitter.c.handle)
            .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .join(submitter, SubmissionRow.submitted_by_id == submitter.c.id)
            .where(PersonRow.handle == handle, DeadlineRow.code == code)
            .order_by(SubmissionRow.version)
        ).all()
    return [(v, t, by) for v, t, by in rows]


# ------------------------------------------------------------------ commands


def test_help_and_unknown_commands_in_both_languages(office: Office) -> None:
    assert "`/focal submit CODE text`" in office.say("minh", "help")
    assert "`/focal submit MÃ nội dung`" in office.say("lan", "")
    said = office.say("minh", "sumbit WORKPLANS")
    assert "`/focal sumbit` is not a Focal command — did you mean `/focal submit`?" in said
    said = office.say("lan", "deadlinez")
    assert "không phải là lệnh của Focal — có phải bạn muốn gõ `/focal deadlines`?" in said
    assert "takes nothing after it" in office.say("minh", "deadlines now please")


def test_deadlines_lists_my_inputs_in_my_language_and_timezone(office: Office) -> None:
    said = office.say("minh", "deadlines")
    assert said.startswith("*Your inputs* (2)")
    assert "*ASOEN37-WORKPLANS* — 2027 work plans" in said
    assert "(Asia/Ho_Chi_Minh)" in said
    assert "not submitted yet" in said
    assert "*ANNUAL-REPORT*" in said
    said = office.say("lan", "deadlines")
    assert said.startswith("*Đầu vào của bạn* (1)")
    assert "ASOEN37-POSITION" in said
    assert "chưa nộp" in said
    said = office.say("aye", "deadlines")
    assert "(Asia/Yangon)" in said


def test_submit_records_a_version_and_the_receipt_follows(office: Office) -> None:
    text = "Kế hoạch 2027 của Việt Nam 🇻🇳 — 城市可持续发展 ✅\nsecond line"
    said = office.say("minh", f"submit {WORKPLANS} {text}")
    assert said == "Received *ASOEN37-WORKPLANS* v1 — on time. Thank you."
    assert versions(office, "minh") == [(1, text, "minh")]
    said = office.say("minh", "submit asoen37-workplans second version")
    assert said.startswith("Received *ASOEN37-WORKPLANS* v2 — on time")
    assert [v for v, _, _ in versions(office, "minh")] == [1, 2]
    assert office.rows(AuditRow, AuditRow.action == "submitted") == 2
    assert "submitted (v2)" in office.say("minh", "deadlines")


def test_a_late_submission_says_how_late_in_vietnamese(office: Office) -> None:
    office.focal.clock.at = datetime(2026, 9, 3, 5, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    said = office.say("lan", "submit ASOEN37-POSITION Ghi chú lập trường")
    assert said.startswith("Đã nhận *ASOEN37-POSITION* bản 1 — muộn ")


def test_a_40000_character_input_is_kept_whole_and_a_longer_one_refused(office: Office) -> None:
    text = ("Báo cáo 🌏 " * 4000)[:40_000]
    assert len(text) == 40_000
    assert office.say("minh", f"submit {WORKPLANS} {text}").startswith("Received")
    assert versions(office, "minh") == [(1, text.strip(), "minh")]
    said = office.say("minh", f"submit {WORKPLANS} {text}more")
    assert "40,004 characters; at most 40,000" in said
    assert "Nothing was recorded" in said
    assert len(versions(office, "minh")) == 1


def test_an_alternate_submits_on_the_focal_points_behalf(office: Office) -> None:
    said = office.say("hoa", f"submit {WORKPLANS} Draft from the alternate")
    assert said.startswith("Received *ASOEN37-WORKPLANS* v1")
    assert "Recorded as Le Minh's input, submitted by you on their behalf." in said
    assert versions(office, "minh") == [(1, "Draft from the alternate", "hoa")]
    with office.engine.connect() as connection:
        assert connection.scalar(select(SubmissionRow.on_behalf)) is True


@pytest.mark.parametrize(
    ("handle", "text", "expected"),
    [
        ("cuong", f"submit {WORKPLANS} not mine", "You do not owe *ASOEN37-WORKPLANS*"),
        ("minh", "submit ASOEN37-WORKPLAN typo", "There is no deadline `ASOEN37-WORKPLAN` — did"),
        ("aye", "submit AWGEE27-DRAFT too late now", "*AWGEE27-DRAFT* is closed"),
        ("minh", "na ASOEN37-WORKPLANS", "Please give a reason"),
        ("minh", "submit not/a/code text", "is not a deadline code"),
        ("minh", "status", "Which input?"),
    ],
)
def test_refusals_say_what_to_do_and_write_nothing(
    office: Office, handle: str, text: str, expected: str
) -> None:
    said = office.say(handle, text)
    assert expected in said
    assert office.rows(SubmissionRow) == 0
    assert office.rows(AssignmentRow, AssignmentRow.not_applicable_reason.is_not(None)) == 0


def test_a_cancelled_meeting_takes_no_input(office: Office) -> None:
    with office.engine.begin() as connection:
        connection.execute(
            update(MeetingRow).where(MeetingRow.code == "ASOEN-37").values(status="cancelled")
        )
    said = office.say("minh", f"submit {WORKPLANS} anything")
    assert "The meeting of *ASOEN37-WORKPLANS* is cancelled" in said
    assert office.rows(SubmissionRow) == 0


def test_someone_not_in_the_roster_is_told_to_ask_the_coordinators(office: Office) -> None:
    stranger = office.slack.add_user(name="x", email="x@example.com", locale="vi-VN")
    office.users["stranger"] = stranger
    said = office.say("stranger", f"submit {WORKPLANS} hello")
    assert "Focal chưa có thông tin của bạn" in said
    assert office.rows(SubmissionRow) == 0


def test_status_for_chairs_and_coordinators_only(office: Office) -> None:
    office.say("minh", f"submit {WORKPLANS} done")
    office.say("aye", f"na {WORKPLANS} Myanmar does not host this year")
    said = office.say("minh", f"status {WORKPLANS}")
    assert "Only the chairs of the groups that owe *ASOEN37-WORKPLANS*" in said
    chair = office.say("cuong", f"status {WORKPLANS}")
    assert "Le Minh — v1" in chair
    assert "Aye Aye" not in chair, "a chair sees their own groups' people"
    assert "Only the people of the groups you chair are shown." in chair
    everyone = office.say("lan", f"status {WORKPLANS}")
    assert "Đã nộp 1/2" in everyone
    assert "Aye Aye — Myanmar does not host this year" in everyone


def feed_status(office: Office, link: str) -> int:
    """GET a feed link's path from the app under test (the public URL is the operator's)."""
    parts = urlsplit(office.sender.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = urlsplit(link)
        connection.request("GET", f"{target.path}?{target.query}" if target.query else target.path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_calendar_gives_the_private_links_once_and_reset_replaces_them(office: Office) -> None:
    first = office.say("minh", "calendar")
    assert first.startswith("*Your private calendar feed*")
    [https] = re.findall(
        r"^http://127\.0\.0\.1:8000/feeds/[A-Za-z0-9_-]{43}\.ics$", first, re.MULTILINE
    )
    assert "webcal://127.0.0.1:8000/feeds/" + https.rsplit("/", 1)[1] in first
    [group] = re.findall(r"AWGESC: (\S+)$", first, re.MULTILINE)
    assert feed_status(office, https) == feed_status(office, group) == 200
    again = office.say("minh", "feed")
    assert again.startswith("You already have a private calendar link (made ")
    assert "/feeds/" not in again
    reset = office.say("minh", "calendar reset")
    assert reset.startswith("Your old calendar link no longer works")
    [new] = re.findall(r"^http://\S+\.ics$", reset, re.MULTILINE)
    assert new != https
    assert feed_status(office, https) == feed_status(office, group) == 404
    assert feed_status(office, new) == 200
    vietnamese = office.say("lan", "calendar reset")
    assert vietnamese.startswith("*Lịch riêng của bạn*")
    assert office.rows(FeedTokenRow) == 3
    assert office.rows(FeedTokenRow, FeedTokenRow.revoked_at.is_(None)) == 2


def test_calendar_for_a_stranger_writes_nothing(office: Office) -> None:
    stranger = office.slack.add_user(name="x", email="x@example.org")
    answer = office.sender.command("calendar", user_id=stranger)
    url = answer.request.response_url
    assert url is not None
    assert "roster" in reply_at(office.slack, url)
    assert office.rows(FeedTokenRow) == 0


# ------------------------------------------------------------------- modals


def test_the_submit_form_round_trip(office: Office) -> None:
    assert office.sender.command("submit", user_id=office.users["minh"]).status == 200
    [view] = wait_for(lambda: office.slack.views(office.users["minh"]))
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == [WORKPLANS, "ANNUAL-REPORT"]
    answer = office.sender.submit_view(  # Slack requires the text; blanks get through
        user_id=office.users["minh"],
        values={
            "deadline": {"deadline": {"type": "static_select", "selected_option": options[0]}},
            "text": {"text": plain_text_value("   \n  ")},
            "link": {},
        },
    )
    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"text": "Please write your input."},
    }
    assert office.rows(SubmissionRow) == 0
    answer = office.sender.submit_view(
        user_id=office.users["minh"],
        values={
            "deadline": {"deadline": {"type": "static_select", "selected_option": options[0]}},
            "text": {"text": plain_text_value("Từ biểu mẫu 📝")},
            "link": {"link": url_value("ftp://files.example/plan.docx")},
        },
    )
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"link": "A link starts with https:// or http://"},
    }
    answer = office.sender.submit_view(
        user_id=office.users["minh"],
        values={
            "deadline": {"deadline": {"type": "static_select", "selected_option": options[0]}},
            "text": {"text": plain_text_value("Từ biểu mẫu 📝")},
            "link": {"link": url_value("https://files.example.gov.vn/plan.docx")},
        },
    )
    assert (answer.status, answer.body) == (200, b"")
    assert versions(office, "minh") == [(1, "Từ biểu mẫu 📝", "minh")]
    [receipt] = wait_for(lambda: office.slack.sent_to(office.users["minh"]))
    assert receipt.text == "Received *ASOEN37-WORKPLANS* v1 — on time. Thank you."
    with office.engine.connect() as connection:
        assert connection.scalar(select(SubmissionRow.links)) == [
            "https://files.example.gov.vn/plan.docx"
        ]


def test_the_alternate_picks_the_focal_points_input_in_the_form(office: Office) -> None:
    office.sender.command(f"submit {WORKPLANS}", user_id=office.users["hoa"])
    [view] = wait_for(lambda: office.slack.views(office.users["hoa"]))
    select_ = view["blocks"][0]["element"]
    assert select_["initial_option"]["value"] == f"{WORKPLANS}|minh"
    assert select_["initial_option"]["text"]["text"].startswith(f"{WORKPLANS} — for Le Minh")
    office.sender.submit_view(
        user_id=office.users["hoa"],
        values={
            "deadline": {
                "deadline": {"type": "static_select", "selected_option": select_["initial_option"]}
            },
            "text": {"text": plain_text_value("for Minh")},
            "link": {},
        },
    )
    assert versions(office, "minh") == [(1, "for Minh", "hoa")]


# ------------------------------------------------------------------ buttons


def reminder_message(office: Office, handle: str) -> Any:
    """A reminder as Focal sends it (rendered by the notifier, kept by the stand-in)."""

    when = datetime(2026, 8, 25, 3, 0, tzinfo=UTC)  # past 09:00 in Hanoi and in Yangon
    notifier = SlackNotifier(
        build_web_clients(token=TOKEN, base_url=office.slack.url), digest_channel=None
    )
    refresh_plan(uow=office.focal.uow(), policy=office.focal.policy(), now=when)
    send_due(uow_factory=office.focal.uow, notifier=notifier, now=when, worker=Worker("t"))
    return office.slack.sent_to(office.users[handle])[-1]


def test_the_submit_button_opens_the_form_on_that_input(office: Office) -> None:
    message = reminder_message(office, "minh")
    answer = office.sender.action(
        user_id=office.users["minh"], action_id=SUBMIT_ACTION, message=message, value=WORKPLANS
    )
    assert answer.status == 200
    [view] = wait_for(lambda: office.slack.views(office.users["minh"]))
    assert view["blocks"][0]["element"]["initial_option"]["value"] == WORKPLANS


def test_remind_me_tomorrow_plans_one_more_reminder(office: Office) -> None:
    message = reminder_message(office, "minh")
    answer = office.sender.action(
        user_id=office.users["minh"], action_id=SNOOZE_ACTION, message=message, value=WORKPLANS
    )
    url = answer.request.response_url
    assert url is not None
    # 20 Aug is a Thursday: tomorrow is Friday 21 Aug, 09:00 in Hanoi
    assert reply_at(office.slack, url) == (
        "I will remind you of *ASOEN37-WORKPLANS* on Fri 21 Aug 2026, 09:00 (Asia/Ho_Chi_Minh)."
    )
    with office.engine.connect() as connection:
        planned = connection.execute(
            select(ReminderRow.planned_at, ReminderRow.state).where(ReminderRow.kind == "requested")
        ).all()
    assert planned == [(datetime(2026, 8, 21, 2, 0, tzinfo=UTC), ReminderState.PLANNED.value)]
    office.sender.action(
        user_id=office.users["minh"], action_id=SNOOZE_ACTION, message=message, value=WORKPLANS
    )
    time.sleep(0.2)
    assert office.rows(ReminderRow, ReminderRow.kind == "requested") == 1, "asked twice, once"


def test_not_applicable_asks_for_the_reason_in_a_form(office: Office) -> None:
    message = reminder_message(office, "aye")
    office.sender.action(
        user_id=office.users["aye"],
        action_id=NOT_APPLICABLE_ACTION,
        message=message,
        value=WORKPLANS,
    )
    [view] = wait_for(lambda: office.slack.views(office.users["aye"]))
    assert view["callback_id"] == "focal_not_applicable_view"
    answer = office.sender.submit_view(
        user_id=office.users["aye"], values={"reason": {"reason": plain_text_value(" ")}}
    )
    assert set(answer.json()["errors"]) == {"reason"}
    answer = office.sender.submit_view(
        user_id=office.users["aye"],
        values={"reason": {"reason": plain_text_value("Myanmar does not host this year")}},
    )
    assert (answer.status, answer.body) == (200, b"")
    with office.engine.connect() as connection:
        reason = connection.scalar(
            select(AssignmentRow.not_applicable_reason)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
            .where(PersonRow.handle == "aye")
            .join(DeadlineRow, AssignmentRow.deadline_id == DeadlineRow.id)
            .where(DeadlineRow.code == WORKPLANS)
        )
    assert reason == "Myanmar does not host this year"
    told = wait_for(
        lambda: [m for m in office.slack.sent_to(office.users["aye"]) if "not applicable" in m.text]
    )
    assert "*ASOEN37-WORKPLANS* is recorded as not applicable to you" in told[-1].text


# ----------------------------------------------------------------- security


def test_forged_stale_and_replayed_requests_get_401_and_change_nothing(office: Office) -> None:
    minh = office.users["minh"]
    forged = office.sender.command(f"submit {WORKPLANS} forged", user_id=minh, secret="wrong")  # noqa: S106
    stale = office.sender.command(
        f"submit {WORKPLANS} stale", user_id=minh, timestamp=int(time.time()) - 6 * 60
    )
    assert (forged.status, stale.status) == (401, 401)
    good = office.sender.command(f"submit {WORKPLANS} once", user_id=minh)
    assert good.status == 200
    replayed = office.sender.replay(good)
    assert replayed.status == 401
    wait_for(lambda: versions(office, "minh"))
    time.sleep(0.3)
    assert versions(office, "minh") == [(1, "once", "minh")]
    assert office.slack.responses(forged.request.response_url) == []
    assert office.slack.responses(stale.request.response_url) == []


def test_a_request_without_slack_configured_is_refused(engine: Engine, slack: SlackStandIn) -> None:
    focal = App(
        settings=Settings(_env_file=None, slack_api_url=slack.url),
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=FixedClock(NOW),  # type: ignore[arg-type]
    )
    with serve_asgi(build_web_app(focal)) as base:
        answer = SlackSender(base, SECRET, slack=slack).command("help", user_id="U1")
    assert answer.status == 503


# ---------------------------------------------------------------- many at once


def test_fifty_focal_points_submitting_at_once(engine: Engine, make_uow: Any, slack) -> None:
    people = [f"fp{n:02d}" for n in range(50)]
    roster = "coordinators: [lan]\npeople:\n" + "".join(
        f"  - {{handle: {h}, name: Focal {h}, email: {h}@example.gov.vn, "
        "timezone: Asia/Ho_Chi_Minh}\n"
        for h in ["lan", *people]
    )
    roster += "groups:\n  - code: AWGESC\n    name: Cities\n    members:\n" + "".join(
        f"      - {{person: {h}, role: focal}}\n" for h in people
    )
    roster += (
        "  - code: AWGEE\n    name: Education\n    members:\n      - {person: lan, role: member}\n"
    )
    calendar = CALENDAR.replace("assign: [AWGESC, AWGEE]", "assign: [AWGESC]")
    load(make_uow, now=LOADED, roster=roster, calendar=calendar)
    users = {h: slack.add_user(name=h, email=f"{h}@example.gov.vn") for h in people}
    focal = App(
        settings=settings(str(engine.url.render_as_string(hide_password=False)), slack),
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=FixedClock(NOW),  # type: ignore[arg-type]
    )
    with serve_asgi(build_web_app(focal, bolt=build_bolt_app(focal))) as base:
        sender = SlackSender(base, SECRET, slack=slack)

        def submit(job: tuple[str, int]) -> Any:
            handle, n = job
            return sender.command(f"submit {WORKPLANS} {handle} #{n} 📄", user_id=users[handle])

        # everyone once, and fp00 twenty times more, all at the same moment
        jobs = [(h, 0) for h in people] + [("fp00", n) for n in range(1, 21)]
        with ThreadPoolExecutor(max_workers=35) as pool:
            answers = list(pool.map(submit, jobs))
        assert [a.status for a in answers] == [200] * len(jobs)
        assert max(a.elapsed for a in answers) < 3
        for answer in answers:
            url = answer.request.response_url
            assert url is not None
            assert reply_at(slack, url, timeout=30).startswith("Received *ASOEN37-WORKPLANS* v")
    with engine.connect() as connection:
        rows = connection.execute(
            select(PersonRow.handle, SubmissionRow.version, SubmissionRow.text)
            .join(AssignmentRow, SubmissionRow.assignment_id == AssignmentRow.id)
            .join(PersonRow, AssignmentRow.person_id == PersonRow.id)
        ).all()
    by_person: dict[str, list[int]] = {}
    for handle, version, _ in rows:
        by_person.setdefault(handle, []).append(version)
    assert sorted(by_person) == people
    assert sorted(by_person["fp00"]) == list(range(1, 22)), "consecutive, none lost"
    assert all(v == [1] for h, v in by_person.items() if h != "fp00")
    assert {t for _, _, t in rows} == {f"{h} #{n} 📄" for h, n in jobs}


# ---------------------------------------------------------------- the database


def test_the_database_failing_mid_request_writes_nothing_and_says_so(
    office_in_threads: Office,
) -> None:
    office = office_in_threads

    def fail_on_audit(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT"):
            raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    event.listen(office.engine, "before_cursor_execute", fail_on_audit)
    try:
        said = office.say("minh", f"submit {WORKPLANS} lost?")
    finally:
        event.remove(office.engine, "before_cursor_execute", fail_on_audit)
    assert said.startswith("Focal cannot reach its database just now, so nothing was recorded.")
    assert office.rows(SubmissionRow) == 0, "the version written before the failure is gone"
    assert office.say("minh", f"submit {WORKPLANS} later").startswith("Received")
    assert versions(office, "minh") == [(1, "later", "minh")]


def test_the_answer_leaves_before_the_work_and_stopping_finishes_the_work(
    engine: Engine, make_uow: Any, slack: SlackStandIn
) -> None:
    """Slack's answer does not wait for the database; what was acknowledged when the app is
    told to stop is still done (written, replied to) before it stops."""
    gate = threading.Event()

    def hold_submissions(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SUBMISSIONS"):
            gate.wait(20)

    opened = open_office(engine, make_uow, slack, in_threads=True)
    office = next(opened)
    event.listen(engine, "before_cursor_execute", hold_submissions)
    try:
        answers = [
            office.sender.command(f"submit {WORKPLANS} part {n}", user_id=office.users["minh"])
            for n in (1, 2, 3)
        ]
        assert [a.status for a in answers] == [200, 200, 200]
        assert max(a.elapsed for a in answers) < 1, "answered while the database is held"
        urls = [a.request.response_url for a in answers]
        assert not any(slack.responses(url) for url in urls if url), "no reply before the work"
        stopping = threading.Thread(target=opened.close)  # the app's shutdown, in the background
        stopping.start()
        time.sleep(0.3)
        assert stopping.is_alive(), "the app waits for the work it acknowledged"
        gate.set()
        stopping.join(20)
        assert not stopping.is_alive()
    finally:
        gate.set()
        event.remove(engine, "before_cursor_execute", hold_submissions)
        opened.close()
    stored = {text: version for version, text, _ in versions(office, "minh")}
    assert sorted(stored.values()) == [1, 2, 3]  # numbered as they were written
    for n, url in enumerate(urls, start=1):
        assert url is not None
        said = reply_at(slack, url, timeout=1)
        assert said == f"Received *{WORKPLANS}* v{stored[f'part {n}']} — on time. Thank you."


def test_an_unreachable_database_is_said_plainly(tmp_path: Any, slack: SlackStandIn) -> None:
    (tmp_path / "file").write_text("not a directory")
    gone = create_engine(f"sqlite:///{tmp_path}/file/no/such/dir/focal.db")
    focal = App(
        settings=settings(str(gone.url), slack),
        engine=gone,
        session_factory=build_session_factory(gone),
        clock=FixedClock(NOW),  # type: ignore[arg-type]
    )
    user = slack.add_user(name="minh", email="minh@example.gov.vn")
    with serve_asgi(build_web_app(focal, bolt=build_bolt_app(focal))) as base:
        sender = SlackSender(base, SECRET, slack=slack)
        answer = sender.command(f"submit {WORKPLANS} text", user_id=user)
        assert answer.status == 200
        url = answer.request.response_url
        assert url is not None
        assert reply_at(slack, url).startswith("Focal cannot reach its database just now")
        status, body = get(f"{base}/healthz")
    assert status == 503
    assert body["database"].startswith("unreachable")


def get(url: str) -> tuple[int, Any]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_health_says_the_database_answers(office: Office) -> None:
    base = office.sender.url.removesuffix("/slack/events")
    status, body = get(f"{base}/healthz")
    assert (status, body["status"], body["database"]) == (200, "ok", "ok")


def test_not_applicable_and_the_form_in_vietnamese(office: Office) -> None:
    said = office.say("lan", "na ASOEN37-POSITION Văn phòng đã có lập trường chung")
    assert said == (
        "Đã ghi nhận *ASOEN37-POSITION* không áp dụng với bạn; "
        "điều phối viên sẽ thấy lý do của bạn."
    )
    said = office.say("minh", f"na {WORKPLANS} Not our year")
    assert said.startswith("*ASOEN37-WORKPLANS* is recorded as not applicable to you")
    assert office.rows(AssignmentRow, AssignmentRow.not_applicable_reason.is_not(None)) == 2
    assert "không áp dụng" in office.say("lan", "deadlines")
    office.sender.command("submit", user_id=office.users["lan"])  # excused, yet may submit
    [view] = wait_for(lambda: office.slack.views(office.users["lan"]))
    assert view["title"]["text"] == "Nộp đầu vào"
    assert view["blocks"][1]["label"]["text"] == "Nội dung"
    stranger = office.slack.add_user(name="y", email="y@example.com", locale="vi-VN")
    office.users["y"] = stranger
    assert "Focal chưa có thông tin của bạn" in office.say("y", "submit")
