"""Feeds read by Mozilla's ical.js (Thunderbird's parser), run by Node.

A session fixture installs the pinned ical.js (``package-lock.json`` beside this file) with
``npm ci`` into ``var/conformance/`` once; the test is skipped, with the reason, where Node or
npm is missing, unless ``FOCAL_REQUIRE_ICALJS=1`` (as in CI) makes that a failure. One Node
process reads every feed and prints what it understood (``validate.mjs``): UIDs, start and end
instants in UTC through the feeds' own VTIMEZONEs, summaries, statuses and alarms, which are
compared with what went in.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.feeds import DeadlineState, Feed, FeedDeadline, FeedMeeting, render_feed
from tests.zones import ASEAN_ZONES, PARTNER_ZONES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PINNED = ("package.json", "package-lock.json", "validate.mjs")
#: Set to 1 (CI does) to fail rather than skip when Node.js, npm or the install is missing.
REQUIRED = "FOCAL_REQUIRE_ICALJS"
WORDS = (
    "Hội nghị Bộ trưởng Môi trường ASEAN",
    "Nhóm công tác về các thành phố bền vững môi trường",
    "东盟环境部长会议",
    "🌏🌱🇻🇳👩🏽‍💼",
    "a, b; c\\d",
    "line one\nline two",
    "Tie\u0302\u0301ng Vie\u0323\u0302t",
    "ASOEN-37",
)
CANCELLED = {"en": "Cancelled: ", "vi": "Đã hủy: "}
STATES = {
    "en": {
        DeadlineState.DUE: "Due: ",
        DeadlineState.OVERDUE: "Overdue: ",
        DeadlineState.SUBMITTED: "Submitted: ",
        DeadlineState.NOT_APPLICABLE: "Not applicable: ",
    },
    "vi": {
        DeadlineState.DUE: "Hạn nộp: ",
        DeadlineState.OVERDUE: "Quá hạn: ",
        DeadlineState.SUBMITTED: "Đã nộp: ",
        DeadlineState.NOT_APPLICABLE: "Không áp dụng: ",
    },
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def icaljs() -> Path:
    """A directory holding validate.mjs beside an ``npm ci`` of the pinned ical.js."""
    required = os.environ.get(REQUIRED) == "1"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "Node.js and npm are needed to run ical.js (not found on PATH)"
        if required:
            pytest.fail(f"{reason}; {REQUIRED}=1 says this run must have them")
        pytest.skip(reason)
    lock = (HERE / "package-lock.json").read_bytes()
    place = ROOT / "var" / "conformance" / hashlib.sha256(lock).hexdigest()[:16]
    if not (place / "node_modules" / "ical.js" / "package.json").exists():
        place.mkdir(parents=True, exist_ok=True)
        for name in PINNED[:2]:
            shutil.copyfile(HERE / name, place / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=place,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            reason = f"npm ci of ical.js failed: {done.stderr.strip()[-300:]}"
            if required:
                pytest.fail(reason)
            pytest.skip(reason)
    shutil.copyfile(HERE / "validate.mjs", place / "validate.mjs")
    return place


def read_with_icaljs(place: Path, bodies: dict[str, bytes], tmp_path: Path) -> dict[str, Any]:
    paths = []
    for name, body in bodies.items():
        path = tmp_path / f"{name}.ics"
        path.write_bytes(body)
        paths.append(str(path))
    done = subprocess.run(
        [shutil.which("node") or "node", str(place / "validate.mjs"), *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return {Path(path).stem: feed for path, feed in json.loads(done.stdout).items()}


def expected_text(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def unambiguous(local: datetime, zone: str) -> bool:
    """Neither skipped nor repeated when the clocks change: one reading for every parser."""
    tz = ZoneInfo(zone)
    once, twice = local.replace(tzinfo=tz), local.replace(tzinfo=tz, fold=1)
    back = once.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == local and once.utcoffset() == twice.utcoffset()


def random_feed(seed: int) -> Feed:
    """A feed of random meetings and deadlines across ASEAN zones, in one language."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    language = rng.choice(("en", "vi"))

    def text() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))

    meetings = []
    for i in range(rng.randint(5, 40)):
        zone = rng.choice(ASEAN_ZONES + PARTNER_ZONES)
        all_day = rng.random() < 0.3
        while True:
            start = datetime(2024, 1, 1) + timedelta(minutes=15 * rng.randint(0, 4 * 24 * 365 * 4))
            if all_day:
                start = start.replace(hour=0, minute=0)
                end = start + timedelta(days=rng.randint(0, 5))
            else:
                end = start + timedelta(minutes=30 * rng.randint(0, 100))
            if all_day or (unambiguous(start, zone) and unambiguous(end, zone)):
                break
        instance = ""
        if rng.random() < 0.2:
            utc_start = start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
            instance = f"{start:%Y%m%d}" if all_day else f"{utc_start:%Y%m%dT%H%M%SZ}"
        meetings.append(
            FeedMeeting(
                uid=f"{seed}-{i}@focal",
                recurrence_id=instance,
                title=text(),
                start=start,
                end=end,
                timezone=zone,
                all_day=all_day,
                cancelled=rng.random() < 0.2,
                tentative=rng.random() < 0.2,
                sequence=rng.randint(0, 9),
                venue=text() if rng.random() < 0.5 else None,
            )
        )
    deadlines = [
        FeedDeadline(
            uid=f"{seed}-d{i}@focal",
            title=text(),
            due_date=date(2024, 1, 1) + timedelta(days=rng.randint(0, 4 * 365)),
            state=rng.choice(list(DeadlineState)),
            sequence=rng.randint(0, 9),
        )
        for i in range(rng.randint(0, 30))
    ]
    return Feed(
        name=f"Focal {seed}",
        language=language,
        stamp=datetime(2026, 5, 1, 3, 0, tzinfo=UTC),
        meetings=meetings,
        deadlines=deadlines,
    )


def expected_events(feed: Feed) -> dict[tuple[str, str], dict[str, Any]]:
    events: dict[tuple[str, str], dict[str, Any]] = {}
    for m in feed.meetings:
        if m.all_day:
            start: dict[str, Any] = {"date": m.start.date().isoformat()}
            end: dict[str, Any] | None = {"date": (m.end.date() + timedelta(days=1)).isoformat()}
        else:
            zone = ZoneInfo(m.timezone)
            start = {"utc": _iso(m.start.replace(tzinfo=zone)), "zone": m.timezone}
            end = {"utc": _iso(m.end.replace(tzinfo=zone)), "zone": m.timezone}
            if m.end == m.start:
                end = None
        status = "CANCELLED" if m.cancelled else "TENTATIVE" if m.tentative else "CONFIRMED"
        title = (CANCELLED[feed.language] if m.cancelled else "") + m.title
        events[m.uid, m.recurrence_id] = {
            "uid": m.uid,
            "recurrenceId": m.recurrence_id,
            "sequence": m.sequence,
            "status": status,
            "summary": expected_text(title),
            "location": expected_text(m.venue) if m.venue else None,
            "start": start,
            "end": end,
            "alarms": [],
        }
    for d in feed.deadlines:
        owed = d.state in {DeadlineState.DUE, DeadlineState.OVERDUE}
        alarm = {"en": "Input due: ", "vi": "Sắp đến hạn nộp: "}[feed.language] + d.title
        events[d.uid, ""] = {
            "uid": d.uid,
            "recurrenceId": "",
            "sequence": d.sequence,
            "status": None,
            "summary": expected_text(STATES[feed.language][d.state] + d.title),
            "location": None,
            "start": {"date": d.due_date.isoformat()},
            "end": {"date": (d.due_date + timedelta(days=1)).isoformat()},
            "alarms": (
                [{"action": "DISPLAY", "description": expected_text(alarm), "trigger": -86400}]
                if owed
                else []
            ),
        }
    return events


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_icaljs_reads_every_event_as_it_was_meant(icaljs: Path, tmp_path: Path) -> None:
    feeds = {f"feed{seed}": random_feed(seed) for seed in range(40)}

    read = read_with_icaljs(icaljs, {n: render_feed(f) for n, f in feeds.items()}, tmp_path)

    assert sorted(read) == sorted(feeds)
    for name, feed in feeds.items():
        got = read[name]
        assert got["name"] == feed.name
        assert got["method"] is None
        assert got["timezones"] == sorted({m.timezone for m in feed.meetings if not m.all_day})
        expected = expected_events(feed)
        assert len(got["events"]) == len(expected)
        for event in got["events"]:
            assert event == expected[event["uid"], event["recurrenceId"]]


def test_icaljs_refuses_a_broken_feed(icaljs: Path, tmp_path: Path) -> None:
    """The validator does fail: a feed cut inside a component is refused."""
    body = render_feed(random_feed(1))
    path = tmp_path / "broken.ics"
    path.write_bytes(body.replace(b"END:VEVENT\r\n", b"", 1).replace(b"\r\n", b"\r\n:", 3))

    done = subprocess.run(
        [shutil.which("node") or "node", str(icaljs / "validate.mjs"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert done.returncode == 1
    assert "ical.js refused the feed" in done.stderr
