"""How Focal words things for Slack and the console: phrases in English and Vietnamese, dates and
times in the reader's timezone, mrkdwn escaping and clipping. Pure.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.deadlines import describe_time_left
from core.model import Language

if TYPE_CHECKING:
    from datetime import date, datetime

    from core.notices import Titled

# Slack's limits (slack_sdk checks them too; these keep us inside them).
MAX_BLOCKS, SECTION_MAX, HEADER_MAX, BLOCK_ID_MAX = 50, 3000, 150, 255
TEXT_MAX = 300  # the one-line notification text: Slack allows more, a phone shows less
# How much of each free-text field a message shows.
CODE_MAX, TITLE_MAX, MEETING_TITLE_MAX, NAME_MAX, NAMES_MAX = 80, 200, 150, 100, 600

ELLIPSIS = "…"
_JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiners bind the characters around them


# Every phrase as (English, Vietnamese). Placeholders: {n} a count, {s} the English plural
# ending, {when} a due time, {left} the time left, {cmd} a slash command, {days} the window.
_PHRASES: dict[str, tuple[str, str]] = {
    "day": ("{wd} {d} {mon} {y}", "{wd}, {dd}/{mm}/{y}"),
    "time": ("{day}, {hm} ({tz})", "{day} {hm} ({tz})"),
    "inputs_due": ("{n} input{s} due", "Bạn có {n} đầu vào cần nộp"),
    "escalations": ("{n} overdue input{s} to follow up", "{n} đầu vào quá hạn cần theo dõi"),
    "lead_before": ("Coming up", "Sắp đến hạn"),
    "lead_due": ("Due today", "Hạn nộp hôm nay"),
    "lead_overdue": ("Overdue", "Đã quá hạn"),
    "lead_assigned": ("Newly assigned to you", "Bạn vừa được giao"),
    "lead_changed": (
        "The deadline changed: now due {when}",
        "Hạn nộp đã thay đổi: hạn mới là {when}",
    ),
    "lead_requested": ("You asked to be reminded", "Bạn đã hẹn được nhắc lại"),
    "lead_escalation": (
        "{name} has not submitted {code}, {left}",
        "{name} chưa nộp {code}, {left}",
    ),
    "meeting": ("Meeting", "Cuộc họp"),
    "due": ("Due", "Hạn nộp"),
    "due_in": ("due {left}", "{left}"),
    "submit": ("Submit input", "Nộp đầu vào"),
    "snooze": ("Remind me tomorrow", "Nhắc tôi ngày mai"),
    "not_applicable": ("Not applicable", "Không áp dụng"),
    "status_hint": ("Who else is missing: {cmd}", "Xem ai còn thiếu: {cmd}"),
    "more": ("…and {n} more: {codes} — type {cmd}", "…và {n} mục khác: {codes} — gõ {cmd}"),
    "digest": ("Focal digest — {day}", "Focal: bản tổng hợp — {day}"),
    "overdue": ("Overdue ({n})", "Quá hạn ({n})"),
    "due_soon": ("Due within {days} days ({n})", "Đến hạn trong {days} ngày tới ({n})"),
    "nothing": (
        "Nothing needs action: no input is overdue or due within {days} days.",
        "Không có việc cần xử lý: không có đầu vào nào quá hạn hoặc đến hạn trong {days} ngày tới.",
    ),
    "counts": (
        "{n} overdue, {soon} due within {days} days",
        "{n} quá hạn, {soon} đến hạn trong {days} ngày tới",
    ),
    "submitted_of": ("{n}/{of} submitted", "đã nộp {n}/{of}"),
    "submitted": ("{n} submitted", "đã nộp {n}"),
    "missing": ("{n} missing", "còn thiếu {n}"),
    "missing_names": ("missing: {names}", "còn thiếu: {names}"),
    "excused": ("{n} not applicable", "{n} không áp dụng"),
    "review_accepted": (
        "Your input {code} v{n} was accepted",
        "Đầu vào {code} (phiên bản {n}) của bạn đã được chấp nhận",
    ),
    "review_returned": (
        "Your input {code} v{n} was returned",
        "Đầu vào {code} (phiên bản {n}) của bạn đã bị trả lại",
    ),
    "review_accepted_for": (
        "The input {code} v{n} you sent for {name} was accepted",
        "Đầu vào {code} (phiên bản {n}) bạn nộp thay {name} đã được chấp nhận",
    ),
    "review_returned_for": (
        "The input {code} v{n} you sent for {name} was returned",
        "Đầu vào {code} (phiên bản {n}) bạn nộp thay {name} đã bị trả lại",
    ),
    "reviewed_by": ("Reviewed by {name}, {when}", "Người xem xét: {name}, {when}"),
    "the_office": ("the focal-point office", "Văn phòng đầu mối"),
    "note": ("Note", "Ghi chú"),
    "resubmit": ("Send a new version: {cmd}", "Gửi phiên bản mới: {cmd}"),
}
_WEEKDAYS = (
    ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Words:
    """The phrases of one language: ``words("inputs_due", n=3, s="s")``."""

    vi: bool

    def __call__(self, key: str, **values: object) -> str:
        return _PHRASES[key][int(self.vi)].format(**values)


_EN, _VI = Words(vi=False), Words(vi=True)


def words_in(language: str) -> Words:
    return _VI if language == Language.VI else _EN


# ------------------------------------------------------------------ text


def _breaks_cluster(text: str, cut: int) -> bool:
    """Whether cutting ``text`` before index ``cut`` would split a character from its marks."""
    if not 0 < cut < len(text):
        return False
    after = text[cut]  # a combining mark, a variation selector or a joiner binds to the left
    joined = after in _JOINERS or text[cut - 1] in _JOINERS
    return joined or unicodedata.combining(after) != 0 or "\ufe00" <= after <= "\ufe0f"


@dataclass(frozen=True, slots=True)
class Markup:
    """Slack mrkdwn, or the plain console form of the same words."""

    slack: bool

    def esc(self, text: str) -> str:
        """Slack mrkdwn's three control characters."""
        if not self.slack:
            return text
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def bold(self, text: str) -> str:
        return f"*{text}*" if self.slack else text

    def cmd(self, text: str) -> str:
        return f"`{text}`" if self.slack else text

    def clip(self, text: str, limit: int) -> str:
        """``text`` escaped, at most ``limit`` characters; cut before a whole character, with …."""
        if len(self.esc(text)) <= limit:
            return self.esc(text)
        cut, used = 0, len(ELLIPSIS)
        while cut < len(text) and used + len(self.esc(text[cut])) <= limit:
            used += len(self.esc(text[cut]))
            cut += 1
        while _breaks_cluster(text, cut):
            cut -= 1
        return self.esc(text[:cut].rstrip()) + ELLIPSIS


SLACK, PLAIN = Markup(slack=True), Markup(slack=False)


def local_when(at: datetime, timezone: str, words: Words) -> str:
    local = at.astimezone(ZoneInfo(timezone))
    return words("time", day=local_day(local, words), hm=f"{local:%H:%M}", tz=timezone)


def local_day(local: date, words: Words) -> str:
    wd, mon = _WEEKDAYS[words.vi][local.weekday()], _MONTHS[local.month - 1]
    d, m, y = local.day, local.month, local.year
    return words("day", wd=wd, d=d, dd=f"{d:02d}", mon=mon, mm=f"{m:02d}", y=y)


def left_text(due_at: datetime, now: datetime, words: Words) -> str:
    """``in 3 days`` / ``2 days overdue``; ``còn 3 ngày`` / ``quá hạn 2 ngày``."""
    if not words.vi:
        return describe_time_left(due_at, now)  # the wording /focal deadlines uses too
    seconds = abs((due_at - now).total_seconds())
    if seconds >= 86400:  # noqa: PLR2004 - a day
        amount, unit = int(seconds // 86400), "ngày"
    elif seconds >= 3600:  # noqa: PLR2004 - an hour
        amount, unit = int(seconds // 3600), "giờ"
    else:
        amount, unit = max(1, int(seconds // 60)), "phút"
    return f"quá hạn {amount} {unit}" if due_at < now else f"còn {amount} {unit}"


def code_title(code: str, title: str, m: Markup, title_max: int) -> str:
    return f"{m.bold(m.clip(code, CODE_MAX))} — {m.clip(title, title_max)}"


def titled(item: Titled, language: str, m: Markup, title_max: int) -> str:
    return code_title(item.code, item.title_in(language), m, title_max)


# ---------------------------------------------------------------- shared


def local_time(at: datetime, timezone: str, language: str) -> str:
    """``Thu 3 Sep 2026, 17:00 (Asia/Ho_Chi_Minh)`` in the reader's words."""
    return local_when(at, timezone, words_in(language))


def time_left(due_at: datetime, now: datetime, language: str) -> str:
    """``in 3 days`` / ``2 days overdue``; ``còn 3 ngày`` / ``quá hạn 2 ngày``."""
    return left_text(due_at, now, words_in(language))


def escape(text: str, limit: int | None = None) -> str:
    """``text`` safe in Slack mrkdwn, cut to ``limit`` characters with … when given."""
    return SLACK.clip(text, limit) if limit is not None else SLACK.esc(text)
