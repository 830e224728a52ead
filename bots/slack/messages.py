"""Block Kit rendering of reminders, the coordinators' digest and review notices. Pure.

Every function here is a function of its input: no clock (``now`` comes with the message),
no I/O. Blocks are built from ``slack_sdk.models`` so that slack_sdk's own limit checks run
when they are serialised. Times are shown in the reader's timezone, words in their language.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from core.deadlines import describe_time_left
from core.model import Language
from core.notices import Digest, ReviewNotice
from core.reminders import ReminderKind

if TYPE_CHECKING:
    from datetime import date, datetime

    from slack_sdk.models.blocks import Block

    from core.notices import DigestLine, ReminderLine, ReminderMessage, Titled

#: Fixed action ids of the reminder buttons; the bot (bots/slack/app.py) answers them.
SUBMIT_ACTION = "focal_submit"
SNOOZE_ACTION = "focal_remind_tomorrow"
NOT_APPLICABLE_ACTION = "focal_not_applicable"

# Slack's limits (slack_sdk checks them too; these keep us inside them).
MAX_BLOCKS, SECTION_MAX, HEADER_MAX, BLOCK_ID_MAX = 50, 3000, 150, 255
TEXT_MAX = 300  # the one-line notification text: Slack allows more, a phone shows less
# How much of each free-text field a message shows.
CODE_MAX, TITLE_MAX, MEETING_TITLE_MAX, NAME_MAX, NAMES_MAX = 80, 200, 150, 100, 600

_ELLIPSIS = "…"
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
class _Words:
    """The phrases of one language: ``words("inputs_due", n=3, s="s")``."""

    vi: bool

    def __call__(self, key: str, **values: object) -> str:
        return _PHRASES[key][int(self.vi)].format(**values)


_EN, _VI = _Words(vi=False), _Words(vi=True)


Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message as Slack takes it. ``blocks`` went through slack_sdk's models (``to_dict()``
    checks Slack's limits); they may be shared with other messages, so they are read-only."""

    text: str  # the notification and accessibility fallback
    blocks: tuple[Json, ...]

    def blocks_json(self) -> list[Json]:
        return list(self.blocks)


def _words(language: str) -> _Words:
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
class _Markup:
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
        cut, used = 0, len(_ELLIPSIS)
        while cut < len(text) and used + len(self.esc(text[cut])) <= limit:
            used += len(self.esc(text[cut]))
            cut += 1
        while _breaks_cluster(text, cut):
            cut -= 1
        return self.esc(text[:cut].rstrip()) + _ELLIPSIS


_SLACK, _PLAIN = _Markup(slack=True), _Markup(slack=False)


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=_PLAIN.clip(text, HEADER_MAX)))


@lru_cache(maxsize=256)
def _header_json(text: str) -> Json:
    return _header(text).to_dict()


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _when(at: datetime, timezone: str, words: _Words) -> str:
    local = at.astimezone(ZoneInfo(timezone))
    return words("time", day=_day(local, words), hm=f"{local:%H:%M}", tz=timezone)


def _day(local: date, words: _Words) -> str:
    wd, mon = _WEEKDAYS[words.vi][local.weekday()], _MONTHS[local.month - 1]
    d, m, y = local.day, local.month, local.year
    return words("day", wd=wd, d=d, dd=f"{d:02d}", mon=mon, mm=f"{m:02d}", y=y)


def _time_left(due_at: datetime, now: datetime, words: _Words) -> str:
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


def _code_title(code: str, title: str, m: _Markup, title_max: int) -> str:
    return f"{m.bold(m.clip(code, CODE_MAX))} — {m.clip(title, title_max)}"


def _titled(item: Titled, language: str, m: _Markup, title_max: int) -> str:
    return _code_title(item.code, item.title_in(language), m, title_max)


# ------------------------------------------------------------- reminders


def _headline(message: ReminderMessage, words: _Words) -> str:
    others = sum(line.about_someone_else for line in message.lines)
    own = len(message.lines) - others
    parts = [words("inputs_due", n=own, s="" if own == 1 else "s")] if own or not others else []
    if others:
        parts.append(words("escalations", n=others, s="" if others == 1 else "s"))
    return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class _LineView:
    """What one reminder line shows a reader: hashable, so its blocks are built once per run."""

    kind: str
    code: str
    title: str
    meeting_code: str | None
    meeting_title: str | None
    person_name: str
    due_at: datetime
    language: str
    timezone: str
    now: datetime

    @classmethod
    def of(cls, line: ReminderLine, message: ReminderMessage) -> _LineView:
        recipient, meeting = message.recipient, line.meeting
        language = recipient.language
        return cls(
            kind=line.kind.value,
            code=line.deadline.code,
            title=line.deadline.title_in(language),
            meeting_code=meeting.code if meeting is not None else None,
            meeting_title=meeting.title_in(language) if meeting is not None else None,
            # only a line about someone else names them: other lines are shared by all readers
            person_name=line.person_name if line.about_someone_else else "",
            due_at=line.due_at,
            language=language,
            timezone=recipient.timezone,
            now=message.now,
        )

    @property
    def about_someone_else(self) -> bool:
        return self.kind == ReminderKind.ESCALATION.value


def _line_text(view: _LineView, m: _Markup) -> str:
    words = _words(view.language)
    when = _when(view.due_at, view.timezone, words)
    left = _time_left(view.due_at, view.now, words)
    lead = words(
        f"lead_{view.kind}",
        when=when,
        name=m.clip(view.person_name, NAME_MAX),
        code=m.clip(view.code, CODE_MAX),
        left=left,
    )
    rows = [m.bold(lead), _code_title(view.code, view.title, m, TITLE_MAX)]
    if view.meeting_code is not None:
        meeting = _code_title(view.meeting_code, view.meeting_title or "", m, MEETING_TITLE_MAX)
        rows.append(f"{words('meeting')}: {meeting}")
    rows.append(f"{words('due')}: {when} — {left}")
    return "\n".join(rows)


def _buttons(code: str, words: _Words, block_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=words("submit"), action_id=SUBMIT_ACTION, value=code, style="primary"
            ),
            ButtonElement(text=words("snooze"), action_id=SNOOZE_ACTION, value=code),
            ButtonElement(
                text=words("not_applicable"), action_id=NOT_APPLICABLE_ACTION, value=code
            ),
        ],
    )


#: Distinct lines a run may hold: about 20 MB each when full.
_LINES_KEPT = 16384


@lru_cache(maxsize=_LINES_KEPT)
def _section_json(view: _LineView) -> Json:
    """A line's text as sent, built and checked by slack_sdk once per distinct line.

    A run tells many people about the same input in the same words; the cached dictionaries
    are shared between messages, so nothing may change them.
    """
    return _section(_line_text(view, _SLACK)).to_dict()


@lru_cache(maxsize=_LINES_KEPT // 2)
def _buttons_json(code: str, language: str, block_id: str) -> Json:
    return _buttons(code, _words(language), block_id).to_dict()


@lru_cache(maxsize=1024)
def _hint_json(code: str, language: str) -> Json:
    cmd = _SLACK.cmd(f"/focal status {_SLACK.clip(code, CODE_MAX)}")
    hint = MarkdownTextObject(text=_words(language)("status_hint", cmd=cmd))
    return ContextBlock(elements=[hint]).to_dict()


def clear_render_cache() -> None:
    """Forget the blocks built so far (for measurements that must start cold)."""
    for cached in (_section_json, _buttons_json, _hint_json, _header_json):
        cached.cache_clear()


def _line_blocks(line: ReminderLine, message: ReminderMessage, used_ids: set[str]) -> list[Json]:
    view = _LineView.of(line, message)
    if view.about_someone_else:  # no buttons, a hint instead
        return [_section_json(view), _hint_json(view.code, view.language)]
    base = f"focal:{line.deadline.code}"[: BLOCK_ID_MAX - 5]
    block_id, n = base, 1
    while block_id in used_ids:
        n += 1
        block_id = f"{base}:{n}"
    used_ids.add(block_id)
    return [_section_json(view), _buttons_json(view.code, view.language, block_id)]


def _more(codes: list[str], words: _Words, cmd: str) -> SectionBlock:
    """One section for the lines that did not fit: how many, and their codes while room lasts."""
    room = SECTION_MAX - len(words("more", n=len(codes), codes="", cmd=cmd))
    shown: list[str] = []
    for code in codes:
        if len(", ".join([*shown, code, _ELLIPSIS])) > room:
            shown.append(_ELLIPSIS)
            break
        shown.append(code)
    return _section(words("more", n=len(codes), codes=", ".join(shown), cmd=cmd))


def _short(line: ReminderLine) -> str:
    code = _SLACK.clip(line.deadline.code, CODE_MAX)
    if line.about_someone_else:
        code += f" ({_SLACK.clip(line.person_name, NAME_MAX)})"
    return code


def _summary(prefix: str, items: list[str]) -> str:
    text = prefix
    for i, item in enumerate(items):
        sep = " — " if i == 0 else ", "
        if len(text) + len(sep) + len(item) + len(", …") > TEXT_MAX:
            return text + (", …" if i else "")
        text += sep + item
    return text


def render_reminder(message: ReminderMessage) -> Rendered:
    words = _words(message.recipient.language)
    headline = _headline(message, words)
    blocks: list[Json] = [_header_json(headline)]
    used_ids: set[str] = set()
    for i, line in enumerate(message.lines):
        later = len(message.lines) - i - 1
        if len(blocks) + 2 + (1 if later else 0) > MAX_BLOCKS:
            rest = message.lines[i:]
            only_others = all(r.about_someone_else for r in rest)
            cmd = _SLACK.cmd("/focal status CODE" if only_others else "/focal deadlines")
            blocks.append(_more([_short(r) for r in rest], words, cmd).to_dict())
            break
        blocks.extend(_line_blocks(line, message, used_ids))
    items = []
    for line in message.lines:
        left = _time_left(line.due_at, message.now, words)
        late = line.due_at < message.now
        items.append(f"{_short(line)} {left if late else words('due_in', left=left)}")
    return Rendered(_summary(f"Focal: {_SLACK.esc(headline)}", items), tuple(blocks))


# ---------------------------------------------------------------- digest


def _digest_line(line: DigestLine, digest: Digest, m: _Markup, *, overdue: bool) -> str:
    words, language = _words(digest.language), digest.language
    head = _titled(line.deadline, language, m, TITLE_MAX)
    if line.meeting is not None:
        head += f" ({m.clip(line.meeting.code, CODE_MAX)})"
    parts = [
        f"{words('due')} {_when(line.due_at, digest.timezone, words)}",
        _time_left(line.due_at, digest.now, words),
    ]
    if overdue:
        parts.append(words("submitted_of", n=line.submitted, of=line.assigned))
    else:
        parts.append(words("submitted", n=line.submitted))
        parts.append(words("missing", n=len(line.missing)))
    if line.not_applicable:
        parts.append(words("excused", n=line.not_applicable))
    if overdue and line.missing:
        parts.append(words("missing_names", names=m.clip(", ".join(line.missing), NAMES_MAX)))
    return f"• {head}\n    " + " · ".join(parts)


def _digest_groups(digest: Digest, m: _Markup) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each group's heading, and its lines with their deadline codes."""
    words = _words(digest.language)
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for key, lines in (("overdue", digest.overdue), ("due_soon", digest.due_soon)):
        overdue = key == "overdue"
        rows = [(_digest_line(x, digest, m, overdue=overdue), x.deadline.code) for x in lines]
        if rows:
            groups.append((m.bold(words(key, n=len(lines), days=digest.window_days)), rows))
    return groups


def _digest_headline(digest: Digest) -> str:
    words = _words(digest.language)
    return words("digest", day=_day(digest.day, words))


def _digest_blocks(digest: Digest) -> list[Block]:
    """Lines packed into sections of at most 3000 characters, groups divided, ≤ 50 blocks."""
    words = _words(digest.language)
    packed: list[tuple[str, list[str]] | None] = []  # None: a divider
    for heading, rows in _digest_groups(digest, _SLACK):
        if packed:
            packed.append(None)
        text, codes = heading, list[str]()
        for row, code in rows:
            if len(text) + 1 + len(row) > SECTION_MAX:
                packed.append((text, codes))
                text, codes = row, []
            else:
                text += "\n" + row
            codes.append(code)
        packed.append((text, codes))
    blocks: list[Block] = []
    for i, item in enumerate(packed):
        if len(blocks) + 1 + (1 if i < len(packed) - 1 else 0) > MAX_BLOCKS - 1:
            rest = [_SLACK.clip(c, CODE_MAX) for p in packed[i:] if p is not None for c in p[1]]
            blocks.append(_more(rest, words, _SLACK.cmd("/focal status CODE")))
            break
        if item is None:
            blocks.append(DividerBlock())
        else:
            blocks.append(_section(item[0]))
    return blocks


def render_digest(digest: Digest) -> Rendered:
    words = _words(digest.language)
    headline = _digest_headline(digest)
    nothing = words("nothing", days=digest.window_days)
    if digest.empty:
        blocks = (_header(headline).to_dict(), _section(nothing).to_dict())
        return Rendered(f"{headline}: {nothing}", blocks)
    counts = words(
        "counts", n=len(digest.overdue), soon=len(digest.due_soon), days=digest.window_days
    )
    models = (_header(headline), *_digest_blocks(digest))
    return Rendered(f"{headline}: {counts}", tuple(block.to_dict() for block in models))


# ---------------------------------------------------------------- review

NOTE_MAX = 2000  # a reviewer's note: at most core.commands.MAX_REASON, kept whole


def _review_headline(notice: ReviewNotice, words: _Words, m: _Markup) -> str:
    decision = "accepted" if notice.accepted else "returned"
    key = f"review_{decision}_for" if notice.about_someone_else else f"review_{decision}"
    return words(
        key,
        code=m.clip(notice.deadline.code, CODE_MAX),
        n=notice.version,
        name=m.clip(notice.person_name, NAME_MAX),
    )


def _review_rows(notice: ReviewNotice, words: _Words, m: _Markup) -> list[str]:
    language = notice.recipient.language
    rows = [_titled(notice.deadline, language, m, TITLE_MAX)]
    if notice.meeting is not None:
        rows.append(
            f"{words('meeting')}: {_titled(notice.meeting, language, m, MEETING_TITLE_MAX)}"
        )
    reviewer = m.clip(notice.reviewer, NAME_MAX) if notice.reviewer else words("the_office")
    when = _when(notice.now, notice.recipient.timezone, words)
    rows.append(words("reviewed_by", name=reviewer, when=when))
    if notice.note:
        rows.append(f"{m.bold(words('note'))}: {m.clip(notice.note, NOTE_MAX)}")
    return rows


def _resubmit(notice: ReviewNotice, words: _Words, m: _Markup) -> str | None:
    if notice.accepted:
        return None
    return words("resubmit", cmd=m.cmd(f"/focal submit {m.clip(notice.deadline.code, CODE_MAX)}"))


def render_review(notice: ReviewNotice) -> Rendered:
    """A direct message: which version, accepted or returned, by whom, the note, what next."""
    words = _words(notice.recipient.language)
    headline = _review_headline(notice, words, _PLAIN)
    blocks: list[Block] = [
        _header(headline),
        _section("\n".join(_review_rows(notice, words, _SLACK))),
    ]
    hint = _resubmit(notice, words, _SLACK)
    if hint is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=hint)]))
    text = _SLACK.clip(f"Focal: {headline}", TEXT_MAX)
    return Rendered(text, tuple(block.to_dict() for block in blocks))


def _review_plain(notice: ReviewNotice) -> str:
    words = _words(notice.recipient.language)
    parts = [f"Focal: {_review_headline(notice, words, _PLAIN)}"]
    parts.append("\n".join(_review_rows(notice, words, _PLAIN)))
    hint = _resubmit(notice, words, _PLAIN)
    if hint is not None:
        parts.append(hint)
    return "\n\n".join(parts) + "\n"


# ----------------------------------------------------------------- plain


def render_plain(message: ReminderMessage | Digest | ReviewNotice) -> str:
    """The console form: every line in full, no mrkdwn."""
    if isinstance(message, ReviewNotice):
        return _review_plain(message)
    if isinstance(message, Digest):
        words = _words(message.language)
        parts = [_digest_headline(message)]
        if message.empty:
            parts.append(words("nothing", days=message.window_days))
        for heading, rows in _digest_groups(message, _PLAIN):
            parts.append("\n".join([heading, *(row for row, _ in rows)]))
        return "\n\n".join(parts) + "\n"
    words = _words(message.recipient.language)
    parts = [f"Focal: {_headline(message, words)}"]
    parts.extend(_line_text(_LineView.of(line, message), _PLAIN) for line in message.lines)
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- shared


def local_time(at: datetime, timezone: str, language: str) -> str:
    """``Thu 3 Sep 2026, 17:00 (Asia/Ho_Chi_Minh)`` in the reader's words."""
    return _when(at, timezone, _words(language))


def time_left(due_at: datetime, now: datetime, language: str) -> str:
    """``in 3 days`` / ``2 days overdue``; ``còn 3 ngày`` / ``quá hạn 2 ngày``."""
    return _time_left(due_at, now, _words(language))


def escape(text: str, limit: int | None = None) -> str:
    """``text`` safe in Slack mrkdwn, cut to ``limit`` characters with … when given."""
    return _SLACK.clip(text, limit) if limit is not None else _SLACK.esc(text)
