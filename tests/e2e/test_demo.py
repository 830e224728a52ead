"""``focal demo`` (what ``make demo`` runs) through the installed ``focal`` script, from a fresh
directory: the whole tour, in under a minute, and what it leaves behind.

The tour's submission goes through the HTTP app it starts, over loopback, signed as Slack
signs; its replies come back through the outbox (console mode). The environment is set to a
Slack workspace (the local stand-in) and another database, which the tour must ignore.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, select

from db.models import FlowRunRow, OutboxRow, SubmissionRow

if TYPE_CHECKING:
    from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

#: "make demo finishes in under a minute from a warm virtual environment".
TOUR_SECONDS = 60


def test_the_installed_demo_shows_the_whole_tour(tmp_path: Path, slack: SlackStandIn) -> None:
    script = Path(sys.executable).with_name("focal")
    assert script.exists(), "the focal console script is installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOCAL_", "SLACK_"))}
    env |= {
        "COLUMNS": "120",
        # what the tour must not use: a real-looking Slack and another database
        "SLACK_BOT_TOKEN": "xoxb-focal-test",
        "FOCAL_SLACK_API_URL": slack.url,
        "FOCAL_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.sqlite'}",
    }
    started = time.monotonic()
    result = subprocess.run(
        [str(script), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    took = time.monotonic() - started
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    assert took < TOUR_SECONDS, f"the tour took {took:.1f} s"
    assert result.stderr == ""

    steps = re.findall(r"^(\d)/9\. ", out, flags=re.MULTILINE)
    assert steps == [str(n) for n in range(1, 10)], "every step, in order"
    assert "Created var/demo.sqlite at schema revision" in out
    assert "Loading the same files again: 0 changes written." in out
    # the reminders of the day, as people read them
    assert "The reminders of Thu 03 Sep 2026" in out
    assert "7 messages, 13 reminders" in out
    assert "To Nguyen Thi Lan (@lan)" in out
    # a signed /focal submit to the running app, acknowledged, and the receipt he sees
    listening = re.search(r"Listening on (http://127\.0\.0\.1:\d+)", out)
    assert listening is not None
    assert re.search(r"acknowledged 200 in \d+ ms", out)
    assert "Đã nhận *JPNVN2026-TALKING-POINTS* bản 1 — đúng hạn. Xin cảm ơn." in out
    # the matrix afterwards
    assert "1 submitted, 0 not applicable, 1 missing, of 2 assigned." in out
    # his feed, fetched from the link /focal calendar gave
    link = re.search(rf"GET ({re.escape(listening[1])}/feeds/[\w-]+\.ics)", out)
    assert link is not None
    feed = (tmp_path / "var" / "demo-long.ics").read_bytes()
    assert feed.startswith(b"BEGIN:VCALENDAR\r\n")
    assert "Đã nộp: Tài liệu chuẩn bị".encode() in feed  # his input, now submitted
    # focal status without a code, and /healthz
    assert "Next deadlines (as of Thu 2026-09-03 09:00" in out
    assert "send-reminders: 0 newly planned, 7 messages sent (13 reminders)" in out
    assert f"GET {listening[1]}/healthz → 200" in out
    health = json.loads(out[out.index("{", out.index("/healthz → 200")) : out.index("\n}\n") + 2])
    assert health["flows"]["send-reminders"]["last_run"]["outcome"] == "succeeded"
    assert health["flows"]["sync-calendar"] == {"last_success": None, "last_run": None}
    assert "Try it yourself" in out
    assert "docs/operations.md" in out

    # what it left: the submission, his receipt in the outbox, the recorded runs
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'demo.sqlite'}")
    try:
        with engine.connect() as connection:
            texts = connection.scalars(select(SubmissionRow.text)).all()
            replies = connection.scalars(
                select(OutboxRow.text).where(OutboxRow.kind == "reply")
            ).all()
            runs = connection.execute(select(FlowRunRow.flow, FlowRunRow.outcome)).all()
    finally:
        engine.dispose()
    assert texts == [
        "Talking points for the Japan-Viet Nam dialogue: air quality, plastics, climate."
    ]
    assert len(replies) == 2  # the receipt, the calendar links
    assert [tuple(run) for run in runs] == [("send-reminders", "succeeded")] * 2
    # and nothing else was touched
    assert slack.calls() == []
    assert not (tmp_path / "elsewhere.sqlite").exists()
