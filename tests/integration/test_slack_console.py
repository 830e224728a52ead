"""The /focal app without a bot token (console mode), over real HTTP on loopback: requests are
verified as ever, and everything the bot would send to Slack lands in the outbox instead.

No Slack stand-in here: a response URL is Slack's own address, and the test fails at
connect() if anything tries to reach it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from bots.slack.app import build_bolt_app
from bots.web.app import build_web_app
from config.settings import Settings
from config.wiring import App
from config.yaml_source import read_documents
from db.engine import build_session_factory
from db.models import OutboxRow, PersonRow, SubmissionRow
from services.loading import load_configuration
from tests.slack_http import SlackSender, plain_text_value, serve_asgi

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = [ROOT / "config/calendar/asean-environment-2026.yaml", ROOT / "config/roster.example.yaml"]
SECRET = "focal-console-secret"  # noqa: S105 - made up
NOW = datetime(2026, 9, 3, 2, 0, tzinfo=UTC)  # Thu 3 Sep 2026, 09:00 in Hanoi
LONG = "U03DVL8TKY"  # Duong Van Long in the sample roster: owes JPNVN2026-TALKING-POINTS
TALKING_POINTS = "JPNVN2026-TALKING-POINTS"
RECEIPT = f"Đã nhận *{TALKING_POINTS}* bản 1 — đúng hạn. Xin cảm ơn."  # long reads Vietnamese


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def console(engine: Engine) -> Iterator[tuple[SlackSender, Engine]]:
    url = engine.url.render_as_string(hide_password=False)
    focal = App(
        settings=Settings(_env_file=None, database_url=url, slack_signing_secret=SECRET),
        engine=engine,
        session_factory=build_session_factory(engine),
        clock=FixedClock(),  # type: ignore[arg-type]
    )
    assert focal.settings.slack_bot_token is None
    documents, errors = read_documents(SAMPLE)
    assert not errors
    load_configuration(
        documents,
        uow=focal.uow(),
        options=focal.load_options(),
        actor="test",
        now=datetime(2026, 7, 1, tzinfo=UTC),
    )
    with serve_asgi(build_web_app(focal, bolt=build_bolt_app(focal))) as base:
        yield SlackSender(base, SECRET), engine


def outbox(engine: Engine) -> list[OutboxRow]:
    with engine.connect() as connection:
        return list(connection.execute(select(OutboxRow).order_by(OutboxRow.id)).all())  # type: ignore[arg-type]


def wait_for_row(engine: Engine, count: int, timeout: float = 10) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(rows := outbox(engine)) < count:
        assert time.monotonic() < deadline, f"no outbox row came: {rows}"
        time.sleep(0.02)
    return rows


def test_a_submission_is_recorded_and_its_receipt_lands_in_the_outbox(console) -> None:
    sender, engine = console
    answer = sender.command(f"submit {TALKING_POINTS} Talking points, v1", user_id=LONG)
    assert (answer.status, answer.body) == (200, b"")
    assert answer.elapsed < 3
    [reply] = wait_for_row(engine, 1)
    assert reply.kind == "reply"
    assert reply.channel == "console"
    assert reply.text == RECEIPT
    payload = reply.message_metadata["event_payload"]
    assert payload["response_url"] == answer.request.response_url
    assert payload["user_id"] == LONG
    assert payload["response_type"] == "ephemeral"
    with engine.connect() as connection:
        long_id = connection.scalar(select(PersonRow.id).where(PersonRow.handle == "long"))
        texts = connection.scalars(select(SubmissionRow.text)).all()
    assert reply.person_id == long_id
    assert texts == ["Talking points, v1"]


def test_a_form_and_its_receipt_go_to_the_outbox(console) -> None:
    sender, engine = console
    assert sender.command("submit", user_id=LONG).status == 200
    [form] = wait_for_row(engine, 1)
    assert (form.kind, form.text) == ("modal", "(a form: Nộp đầu vào)")
    options = form.blocks[0]["element"]["options"]
    chosen = next(o for o in options if o["value"] == TALKING_POINTS)
    answer = sender.submit_view(
        user_id=LONG,
        values={
            "deadline": {"deadline": {"type": "static_select", "selected_option": chosen}},
            "text": {"text": plain_text_value("From the form")},
            "link": {},
        },
        view={"id": "VCONSOLE", **form.message_metadata["event_payload"]["view"]},
    )
    assert (answer.status, answer.body) == (200, b"")
    _, receipt = wait_for_row(engine, 2)
    assert receipt.kind == "message"
    assert receipt.message_metadata["event_payload"]["channel"] == LONG
    assert receipt.text == RECEIPT


def test_a_stranger_is_told_to_ask_the_coordinators(console) -> None:
    sender, engine = console
    assert sender.command("deadlines", user_id="U0STRANGER").status == 200
    [reply] = wait_for_row(engine, 1)
    assert reply.person_id is None
    assert reply.text.startswith("Focal does not know you yet")  # users.info: not_authed


def test_requests_are_still_verified(console) -> None:
    sender, engine = console
    forged = sender.command(f"submit {TALKING_POINTS} forged", user_id=LONG, secret="wrong")  # noqa: S106
    assert forged.status == 401
    stale = sender.command("help", user_id=LONG, timestamp=int(time.time()) - 600)
    assert stale.status == 401
    answer = sender.command("help", user_id=LONG)
    assert answer.status == 200
    assert sender.replay(answer).status == 401
    [reply] = wait_for_row(engine, 1)
    time.sleep(0.2)  # nothing else comes
    assert len(outbox(engine)) == 1
    assert "`/focal deadlines`" in reply.text
    with engine.connect() as connection:
        assert connection.scalars(select(SubmissionRow.text)).all() == []
