"""Block Kit rendering of reminders, the coordinators' digest and review notices. Pure.

Every function here is a function of its input: no clock (``now`` comes with the message),
no I/O. Blocks are built from ``slack_sdk.models`` so that slack_sdk's own limit checks run
when they are serialised. Times are shown in the reader's timezone, words in their language.

Reminder lines are the exception in one respect: a run renders tens of thousands of them, and
``to_dict()`` costs about 35 µs for a section and 150 µs for a row of buttons (its checks walk
every attribute of every object), more than posting the message does. So ``slack_sdk.models``
build each shape once (a mrkdwn section, a language's three buttons) and a line fills in its
text, its deadline code and its block id, checked against slack_sdk's own limits for those
fields. tests/unit/test_slack_messages.py holds the filled-in blocks equal to what
``to_dict()`` gives for the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bots.slack.wording import (
    BLOCK_ID_MAX,
    CODE_MAX,
    ELLIPSIS,
    HEADER_MAX,
    MAX_BLOCKS,
    MEETING_TITLE_MAX,
    NAME_MAX,
    NAMES_MAX,
    PLAIN,
    SECTION_MAX,
    SLACK,
    TEXT_MAX,
    TITLE_MAX,
    Markup,
    Words,
    code_title,
    left_text,
    local_day,
    local_when,
    titled,
    words_in,
)
from core.notices import Digest, ReviewNotice
from core.reminders import ReminderKind

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from core.notices import DigestLine, ReminderLine, ReminderMessage

#: Fixed action ids of the reminder buttons; the bot (bots/slack/app.py) answers them.
SUBMIT_ACTION = "focal_submit"
SNOOZE_ACTION = "focal_remind_tomorrow"
NOT_APPLICABLE_ACTION = "focal_not_applicable"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message as Slack takes it. ``blocks`` went through slack_sdk's models (``to_dict()``
    checks Slack's limits); they may be shared with other messages, so they are read-only."""

    text: str  # the notification and accessibility fallback
    blocks: tuple[Json, ...]

    def blocks_json(self) -> list[Json]:
        return list(self.blocks)


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=PLAIN.clip(text, HEADER_MAX)))


@lru_cache(maxsize=256)
def _header_json(text: str) -> Json:
    return _header(text).to_dict()


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


# ------------------------------------------------------------- reminders


def _headline(message: ReminderMessage, words: Words) -> str:
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


def _line_text(view: _LineView, m: Markup) -> str:
    words = words_in(view.language)
    when = local_when(view.due_at, view.timezone, words)
    left = left_text(view.due_at, view.now, words)
    lead = words(
        f"lead_{view.kind}",
        when=when,
        name=m.clip(view.person_name, NAME_MAX),
        code=m.clip(view.code, CODE_MAX),
        left=left,
    )
    rows = [m.bold(lead), code_title(view.code, view.title, m, TITLE_MAX)]
    if view.meeting_code is not None:
        meeting = code_title(view.meeting_code, view.meeting_title or "", m, MEETING_TITLE_MAX)
        rows.append(f"{words('meeting')}: {meeting}")
    rows.append(f"{words('due')}: {when} — {left}")
    return "\n".join(rows)


def _buttons(code: str, words: Words, block_id: str) -> ActionsBlock:
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
#: What the shapes are built with; each line puts its own values in their place.
_SHAPE_TEXT, _SHAPE_CODE, _SHAPE_BLOCK_ID = "-", "-", "-"


def _too_long(what: str, value: str, limit: int) -> SlackObjectFormationError:
    return SlackObjectFormationError(f"{what} must be at most {limit} characters: {value[:40]!r}…")


@lru_cache(maxsize=1)
def _section_shape() -> Json:
    return _section(_SHAPE_TEXT).to_dict()


def mrkdwn_section(text: str) -> Json:
    """``SectionBlock(text=MarkdownTextObject(text=text)).to_dict()``, at the cost of a dict."""
    if not text:
        raise SlackObjectFormationError("a section needs text")
    if len(text) > SectionBlock.text_max_length:
        raise _too_long("section text", text, SectionBlock.text_max_length)
    shape = _section_shape()
    return {**shape, "text": {**shape["text"], "text": text}}


@lru_cache(maxsize=2)
def _buttons_shape(language: str) -> Json:
    return _buttons(_SHAPE_CODE, words_in(language), _SHAPE_BLOCK_ID).to_dict()


def reminder_buttons(code: str, language: str, block_id: str) -> Json:
    """``_buttons(code, words_in(language), block_id).to_dict()``, at the cost of a few dicts."""
    if not code:
        raise SlackObjectFormationError("a button needs a value")
    if len(code) > ButtonElement.value_max_length:
        raise _too_long("button value", code, ButtonElement.value_max_length)
    if not block_id or len(block_id) > Block.block_id_max_length:
        raise _too_long("block_id", block_id, Block.block_id_max_length)
    shape = _buttons_shape(language)
    elements = [{**element, "value": code} for element in shape["elements"]]
    return {**shape, "block_id": block_id, "elements": elements}


@lru_cache(maxsize=_LINES_KEPT)
def _section_json(view: _LineView) -> Json:
    """A line's text as sent, once per distinct line.

    A run tells many people about the same input in the same words; the cached dictionaries
    are shared between messages, so nothing may change them.
    """
    return mrkdwn_section(_line_text(view, SLACK))


@lru_cache(maxsize=_LINES_KEPT // 2)
def _buttons_json(code: str, language: str, block_id: str) -> Json:
    return reminder_buttons(code, language, block_id)


@lru_cache(maxsize=1024)
def _hint_json(code: str, language: str) -> Json:
    cmd = SLACK.cmd(f"/focal status {SLACK.clip(code, CODE_MAX)}")
    hint = MarkdownTextObject(text=words_in(language)("status_hint", cmd=cmd))
    return ContextBlock(elements=[hint]).to_dict()


def clear_render_cache() -> None:
    """Forget the blocks built so far (for measurements that must start cold)."""
    for cached in (
        _section_json,
        _buttons_json,
        _hint_json,
        _header_json,
        _section_shape,
        _buttons_shape,
    ):
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


def _more(codes: list[str], words: Words, cmd: str) -> SectionBlock:
    """One section for the lines that did not fit: how many, and their codes while room lasts."""
    room = SECTION_MAX - len(words("more", n=len(codes), codes="", cmd=cmd))
    shown: list[str] = []
    for code in codes:
        if len(", ".join([*shown, code, ELLIPSIS])) > room:
            shown.append(ELLIPSIS)
            break
        shown.append(code)
    return _section(words("more", n=len(codes), codes=", ".join(shown), cmd=cmd))


def _short(line: ReminderLine) -> str:
    code = SLACK.clip(line.deadline.code, CODE_MAX)
    if line.about_someone_else:
        code += f" ({SLACK.clip(line.person_name, NAME_MAX)})"
    return code


def _summary(prefix: str, items: Iterable[str]) -> str:
    """``prefix — item, item, …`` within ``TEXT_MAX``; items are made only while they fit."""
    text = prefix
    for i, item in enumerate(items):
        sep = " — " if i == 0 else ", "
        if len(text) + len(sep) + len(item) + len(", …") > TEXT_MAX:
            return text + (", …" if i else "")
        text += sep + item
    return text


def render_reminder(message: ReminderMessage) -> Rendered:
    words = words_in(message.recipient.language)
    headline = _headline(message, words)
    blocks: list[Json] = [_header_json(headline)]
    used_ids: set[str] = set()
    for i, line in enumerate(message.lines):
        later = len(message.lines) - i - 1
        if len(blocks) + 2 + (1 if later else 0) > MAX_BLOCKS:
            rest = message.lines[i:]
            only_others = all(r.about_someone_else for r in rest)
            cmd = SLACK.cmd("/focal status CODE" if only_others else "/focal deadlines")
            blocks.append(_more([_short(r) for r in rest], words, cmd).to_dict())
            break
        blocks.extend(_line_blocks(line, message, used_ids))

    def item(line: ReminderLine) -> str:
        left = left_text(line.due_at, message.now, words)
        late = line.due_at < message.now
        return f"{_short(line)} {left if late else words('due_in', left=left)}"

    items = (item(line) for line in message.lines)
    return Rendered(_summary(f"Focal: {SLACK.esc(headline)}", items), tuple(blocks))


# ---------------------------------------------------------------- digest


def _digest_line(line: DigestLine, digest: Digest, m: Markup, *, overdue: bool) -> str:
    words, language = words_in(digest.language), digest.language
    head = titled(line.deadline, language, m, TITLE_MAX)
    if line.meeting is not None:
        head += f" ({m.clip(line.meeting.code, CODE_MAX)})"
    parts = [
        f"{words('due')} {local_when(line.due_at, digest.timezone, words)}",
        left_text(line.due_at, digest.now, words),
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


def _digest_groups(digest: Digest, m: Markup) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each group's heading, and its lines with their deadline codes."""
    words = words_in(digest.language)
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for key, lines in (("overdue", digest.overdue), ("due_soon", digest.due_soon)):
        overdue = key == "overdue"
        rows = [(_digest_line(x, digest, m, overdue=overdue), x.deadline.code) for x in lines]
        if rows:
            groups.append((m.bold(words(key, n=len(lines), days=digest.window_days)), rows))
    return groups


def _digest_headline(digest: Digest) -> str:
    words = words_in(digest.language)
    return words("digest", day=local_day(digest.day, words))


def _digest_blocks(digest: Digest) -> list[Block]:
    """Lines packed into sections of at most 3000 characters, groups divided, ≤ 50 blocks."""
    words = words_in(digest.language)
    packed: list[tuple[str, list[str]] | None] = []  # None: a divider
    for heading, rows in _digest_groups(digest, SLACK):
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
            rest = [SLACK.clip(c, CODE_MAX) for p in packed[i:] if p is not None for c in p[1]]
            blocks.append(_more(rest, words, SLACK.cmd("/focal status CODE")))
            break
        if item is None:
            blocks.append(DividerBlock())
        else:
            blocks.append(_section(item[0]))
    return blocks


def render_digest(digest: Digest) -> Rendered:
    words = words_in(digest.language)
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


def _review_headline(notice: ReviewNotice, words: Words, m: Markup) -> str:
    decision = "accepted" if notice.accepted else "returned"
    key = f"review_{decision}_for" if notice.about_someone_else else f"review_{decision}"
    return words(
        key,
        code=m.clip(notice.deadline.code, CODE_MAX),
        n=notice.version,
        name=m.clip(notice.person_name, NAME_MAX),
    )


def _review_rows(notice: ReviewNotice, words: Words, m: Markup) -> list[str]:
    language = notice.recipient.language
    rows = [titled(notice.deadline, language, m, TITLE_MAX)]
    if notice.meeting is not None:
        rows.append(f"{words('meeting')}: {titled(notice.meeting, language, m, MEETING_TITLE_MAX)}")
    reviewer = m.clip(notice.reviewer, NAME_MAX) if notice.reviewer else words("the_office")
    when = local_when(notice.now, notice.recipient.timezone, words)
    rows.append(words("reviewed_by", name=reviewer, when=when))
    if notice.note:
        rows.append(f"{m.bold(words('note'))}: {m.clip(notice.note, NOTE_MAX)}")
    return rows


def _resubmit(notice: ReviewNotice, words: Words, m: Markup) -> str | None:
    if notice.accepted:
        return None
    return words("resubmit", cmd=m.cmd(f"/focal submit {m.clip(notice.deadline.code, CODE_MAX)}"))


def render_review(notice: ReviewNotice) -> Rendered:
    """A direct message: which version, accepted or returned, by whom, the note, what next."""
    words = words_in(notice.recipient.language)
    headline = _review_headline(notice, words, PLAIN)
    blocks: list[Block] = [
        _header(headline),
        _section("\n".join(_review_rows(notice, words, SLACK))),
    ]
    hint = _resubmit(notice, words, SLACK)
    if hint is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=hint)]))
    text = SLACK.clip(f"Focal: {headline}", TEXT_MAX)
    return Rendered(text, tuple(block.to_dict() for block in blocks))


def _review_plain(notice: ReviewNotice) -> str:
    words = words_in(notice.recipient.language)
    parts = [f"Focal: {_review_headline(notice, words, PLAIN)}"]
    parts.append("\n".join(_review_rows(notice, words, PLAIN)))
    hint = _resubmit(notice, words, PLAIN)
    if hint is not None:
        parts.append(hint)
    return "\n\n".join(parts) + "\n"


# ----------------------------------------------------------------- plain


def render_plain(message: ReminderMessage | Digest | ReviewNotice) -> str:
    """The console form: every line in full, no mrkdwn."""
    if isinstance(message, ReviewNotice):
        return _review_plain(message)
    if isinstance(message, Digest):
        words = words_in(message.language)
        parts = [_digest_headline(message)]
        if message.empty:
            parts.append(words("nothing", days=message.window_days))
        for heading, rows in _digest_groups(message, PLAIN):
            parts.append("\n".join([heading, *(row for row, _ in rows)]))
        return "\n\n".join(parts) + "\n"
    words = words_in(message.recipient.language)
    parts = [f"Focal: {_headline(message, words)}"]
    parts.extend(_line_text(_LineView.of(line, message), PLAIN) for line in message.lines)
    return "\n\n".join(parts) + "\n"
