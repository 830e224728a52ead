"""Calendar feeds: build a person's feed (500 events) and a group's (10,000), and print figures.

Run from the repository root (see bench/README.md)::

    .venv/bin/python -m bench.feeds --quick
    .venv/bin/python -m bench.feeds

Target (the issue): a cold 10,000-event feed is built no slower than plain ``icalendar``
serialises the same events (ratio <= 1.0).

How it measures:

* The workload is synthetic and seeded: meetings across the ASEAN zones over two years (a fifth
  all-day, some cancelled or tentative), deadlines in every state, titles mostly Vietnamese.
* "cold" is ``core.feeds.render_feed`` with its caches emptied first (the VTIMEZONE blocks, the
  zones), as the first request after a start; "warm" keeps them, as every later request.
* The baseline is plain ``icalendar`` in the same run: the same events built as
  ``icalendar.Event``s (aware start and end, summary, status, sequence, the deadline alarms) in an
  ``icalendar.Calendar``, ``add_missing_timezones()`` for the VTIMEZONEs, then ``to_ical()``.
  The ratio is cold over that baseline.
* Each figure is the median of ``--repeat`` runs, with the garbage collector as in production.

The bench is built of sections (``SECTIONS``): each is a function taking the options and
returning rows for the one table ``main()`` prints. Add a section by writing such a function
and listing it.
"""

from __future__ import annotations

import platform
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import icalendar
import typer
from rich.console import Console
from rich.table import Table

from core import ical_zones
from core.feeds import DeadlineState, Feed, FeedDeadline, FeedMeeting, render_feed

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ZONES = (
    *["Asia/Ho_Chi_Minh"] * 6,
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Manila",
    "Asia/Kuala_Lumpur",
    "Asia/Singapore",
    "Asia/Yangon",
    "Asia/Phnom_Penh",
    "Asia/Vientiane",
    "Asia/Brunei",
    "Asia/Dili",
)
TITLES = (
    "Hội nghị Bộ trưởng Môi trường ASEAN lần thứ {n}",
    "Cuộc họp Nhóm công tác ASEAN về các thành phố bền vững môi trường (AWGESC-{n})",
    "Hội nghị Quan chức cao cấp ASEAN về môi trường (ASOEN-{n})",
    "ASEAN Working Group on Chemicals and Waste, meeting {n}",
    "Đối thoại ASEAN - Nhật Bản về biến đổi khí hậu {n}",
    "东盟环境部长会议 {n}",
)
INPUTS = (
    "Báo cáo tiến độ thực hiện kế hoạch công tác {n}",
    "Ý kiến góp ý dự thảo tuyên bố chung {n}",
    "Đề cương phát biểu của Trưởng đoàn {n}",
    "National report on sustainable cities {n}",
)
STAMP = datetime(2026, 9, 15, 3, 30, tzinfo=UTC)
TARGET_RATIO = 1.0

console = Console(width=None if Console().is_terminal else 150)


@dataclass(frozen=True, slots=True)
class Options:
    repeat: int
    quick: bool


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    feed: str
    events: int
    size_kb: float
    figures: dict[str, float]  # what -> milliseconds
    ratio: float | None = None
    target: float | None = None


# ----------------------------------------------------------------- workload


def build_feed(events: int, *, seed: int, name: str) -> Feed:
    """About two fifths meetings and three fifths deadlines, spread over two years."""
    rng = random.Random(seed)
    first = datetime(2026, 1, 5, 8, 0)  # noqa: DTZ001 - wall-clock time, beside its zone
    meetings = []
    for i in range(events * 2 // 5):
        start = first + timedelta(days=rng.randint(0, 730), minutes=30 * rng.randint(0, 18))
        all_day = rng.random() < 0.2  # noqa: PLR2004
        if all_day:
            start = start.replace(hour=0, minute=0)
        end = start + (timedelta(days=rng.randint(0, 3)) if all_day else timedelta(hours=3))
        meetings.append(
            FeedMeeting(
                uid=f"{i:05d}-9a0c6f1e-2b7d-5c41-8e3f-{seed:012d}@focal",
                recurrence_id="",
                title=rng.choice(TITLES).format(n=i),
                start=start,
                end=end,
                timezone=rng.choice(ZONES),
                all_day=all_day,
                cancelled=rng.random() < 0.05,  # noqa: PLR2004
                tentative=rng.random() < 0.1,  # noqa: PLR2004
                sequence=rng.randint(0, 3),
                venue="Hà Nội, Việt Nam" if rng.random() < 0.5 else None,  # noqa: PLR2004
            )
        )
    deadlines = [
        FeedDeadline(
            uid=f"deadline-{i:05d}-{seed}@focal",
            title=rng.choice(INPUTS).format(n=i),
            due_date=date(2026, 1, 5) + timedelta(days=rng.randint(0, 730)),
            state=rng.choice(list(DeadlineState)),
            sequence=rng.randint(0, 3),
        )
        for i in range(events - len(meetings))
    ]
    return Feed(name=name, language="vi", stamp=STAMP, meetings=meetings, deadlines=deadlines)


# ----------------------------------------------------------------- builders


def clear_caches() -> None:
    """Forget what ``core.feeds`` keeps between calls: the next render is cold."""
    ical_zones.vtimezone_lines.cache_clear()
    ical_zones.zone_named.cache_clear()


def render_cold(feed: Feed) -> bytes:
    clear_caches()
    return render_feed(feed)


def render_plain_icalendar(feed: Feed) -> bytes:
    """The same events through icalendar's component tree, as a feed built with it would."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Focal//Focal feeds//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", feed.name)
    first, last = date(9999, 1, 1), date(1, 1, 1)
    for m in feed.meetings:
        event = icalendar.Event()
        event.add("uid", m.uid)
        event.add("sequence", m.sequence)
        event.add("dtstamp", feed.stamp)
        if m.all_day:
            event.add("dtstart", m.start.date())
            event.add("dtend", m.end.date() + timedelta(days=1))
        else:
            zone = ZoneInfo(m.timezone)
            event.add("dtstart", m.start.replace(tzinfo=zone))
            event.add("dtend", m.end.replace(tzinfo=zone))
            first, last = min(first, m.start.date()), max(last, m.end.date())
        event.add("summary", ("Đã hủy: " if m.cancelled else "") + m.title)
        if m.venue:
            event.add("location", m.venue)
        event.add("status", "CANCELLED" if m.cancelled else "CONFIRMED")
        calendar.add_component(event)
    for d in feed.deadlines:
        event = icalendar.Event()
        event.add("uid", d.uid)
        event.add("sequence", d.sequence)
        event.add("dtstamp", feed.stamp)
        event.add("dtstart", d.due_date)
        event.add("dtend", d.due_date + timedelta(days=1))
        event.add("summary", "Hạn nộp: " + d.title)
        event.add("transp", "TRANSPARENT")
        if d.state in {DeadlineState.DUE, DeadlineState.OVERDUE}:
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", d.title)
            alarm.add("trigger", -feed.alarm_before)
            event.add_component(alarm)
        calendar.add_component(event)
    if first <= last:
        calendar.add_missing_timezones(first_date=first, last_date=last + timedelta(days=366))
    return calendar.to_ical()


def timed(build: Callable[[Feed], bytes], feed: Feed, repeat: int) -> tuple[float, int]:
    """The median milliseconds of ``repeat`` builds, and the size of what was built."""
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        body = build(feed)
        times.append((time.perf_counter() - start) * 1000)
        size = len(body)
    return statistics.median(times), size


# ----------------------------------------------------------------- sections


def section_cold_build(options: Options) -> list[Row]:
    """Cold and warm ``render_feed`` beside plain icalendar, for a person and a group."""
    rows = []
    for label, events, seed in (("person", 500, 1), ("group", 10_000, 2)):
        feed = build_feed(events, seed=seed, name=f"Focal — {label}")
        render_feed(feed)  # imports and first-call costs outside the figures
        cold, size = timed(render_cold, feed, options.repeat)
        warm, _ = timed(render_feed, feed, options.repeat)
        plain, _ = timed(render_plain_icalendar, feed, max(1, options.repeat // 2))
        rows.append(
            Row(
                section="cold build",
                feed=label,
                events=events,
                size_kb=size / 1024,
                figures={"cold": cold, "warm": warm, "icalendar": plain},
                ratio=cold / plain,
                target=TARGET_RATIO if events >= 10_000 else None,  # noqa: PLR2004
            )
        )
    return rows


#: Each section returns rows for the table; add more (warm answers, 304s, ...) here.
SECTIONS: Sequence[Callable[[Options], list[Row]]] = (section_cold_build,)


# ------------------------------------------------------------------- report


def print_rows(rows: Sequence[Row]) -> None:
    table = Table(title="Calendar feeds", title_justify="left", title_style="bold")
    columns = sorted({k for r in rows for k in r.figures}, key=["cold", "warm", "icalendar"].index)
    for column in ("section", "feed", "events", "size KB", *[f"{c} ms" for c in columns]):
        table.add_column(column, justify="left" if column in {"section", "feed"} else "right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        target = ""
        if r.target is not None and r.ratio is not None:
            ok = r.ratio <= r.target
            target = f"[{'green' if ok else 'red'}]≤ {r.target:.1f} {'ok' if ok else 'MISSED'}[/]"
        figures = [f"{r.figures[c]:.1f}" if c in r.figures else "" for c in columns]
        table.add_row(
            r.section, r.feed, f"{r.events:,}", f"{r.size_kb:,.0f}", *figures, ratio, target
        )
    console.print(table)


def main(
    quick: Annotated[bool, typer.Option("--quick", help="Fewer repeats (3).")] = False,
    repeat: Annotated[int, typer.Option(help="Runs to take the median of.")] = 9,
) -> None:
    """Build calendar feeds cold and warm beside plain icalendar; print the figures."""
    if repeat < 1:
        raise typer.BadParameter("--repeat must be at least 1")
    options = Options(repeat=3 if quick else repeat, quick=quick)
    console.print(
        f"Python {platform.python_version()}, icalendar {icalendar.__version__}, "
        f"{platform.machine()}; median of {options.repeat} runs"
    )
    rows = [row for section in SECTIONS for row in section(options)]
    print_rows(rows)


if __name__ == "__main__":
    typer.run(main)
