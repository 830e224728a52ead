"""``/focal status CODE``: who has submitted, who has not, who is excused, in the reader's words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.slack.replies import duration
from bots.slack.wording import escape, local_time, time_left
from core.model import Language
from core.status import EntryState
from services.status import AccessRefusedError, UnknownDeadlineError, submission_status

if TYPE_CHECKING:
    from datetime import datetime

    from core.status import Entry
    from services.ports import UnitOfWork
    from services.status import StatusReport

_NAME_MAX, _REASON_MAX, _NOTE_MAX = 100, 300, 200
_SECTION_MAX = 3500  # a reply stays readable; the command line has the whole matrix

# Each phrase in English, then Vietnamese.
_WORDS: dict[str, tuple[str, str]] = {
    "head": ("*{code}* — {title}", "*{code}* — {title}"),
    "due": ("Due {when} ({left})", "Hạn nộp {when} ({left})"),
    "counts": (
        "{submitted} of {assigned} submitted · {missing} missing · {na} not applicable",
        "Đã nộp {submitted}/{assigned} · còn thiếu {missing} · {na} không áp dụng",
    ),
    "only_yours": (
        "_Only the people of the groups you chair are shown._",
        "_Chỉ hiển thị thành viên các nhóm do bạn làm chủ tịch._",
    ),
    EntryState.SUBMITTED: ("*Submitted*", "*Đã nộp*"),
    EntryState.MISSING: ("*Not submitted*", "*Chưa nộp*"),
    EntryState.NOT_APPLICABLE: ("*Not applicable*", "*Không áp dụng*"),
    EntryState.WITHDRAWN: ("*No longer assigned*", "*Không còn được giao*"),
    "version": ("v{n}, {when}", "bản {n}, {when}"),
    "on_time": ("on time", "đúng hạn"),
    "late": ("{late} late", "muộn {late}"),
    "by": ("by {name} on their behalf", "do {name} nộp thay"),
    "accepted": ("accepted", "đã chấp nhận"),
    "returned": ("returned", "đã trả lại"),
    "more": ("…and {n} more: `focal status {code}`", "…và {n} người khác: `focal status {code}`"),
    "unknown": (
        "There is no deadline `{code}`. `{cmd} deadlines` lists yours.",
        "Không có hạn nộp `{code}`. `{cmd} deadlines` liệt kê các hạn nộp của bạn.",
    ),
    "refused": (
        (
            "Only the chairs of the groups that owe *{code}* and the coordinators can see its "
            "status. `{cmd} deadlines` shows your own."
        ),
        (
            "Chỉ chủ tịch các nhóm được giao *{code}* và điều phối viên mới xem được tình trạng "
            "này. `{cmd} deadlines` cho biết tình trạng của bạn."
        ),
    ),
}


def _w(key: str, language: str, **values: object) -> str:
    return _WORDS[key][int(language == Language.VI)].format(**values)


def _line(entry: Entry, report: StatusReport, language: str, timezone: str) -> str:
    name = escape(entry.name, _NAME_MAX)
    latest = entry.latest
    if entry.state is EntryState.SUBMITTED and latest is not None:
        when = local_time(latest.submitted_at, timezone, language)
        parts = [_w("version", language, n=latest.number, when=when)]
        late = latest.late_by(report.due_at)
        parts.append(
            _w("late", language, late=duration(late, language)) if late else _w("on_time", language)
        )
        if latest.on_behalf:
            parts.append(_w("by", language, name=escape(latest.submitted_by_name, _NAME_MAX)))
        if latest.status.value in {"accepted", "returned"}:
            review = _w(latest.status.value, language)
            if latest.reviewer_note:
                review += f": {escape(latest.reviewer_note, _NOTE_MAX)}"
            parts.append(review)
        return f"• {name} — " + " · ".join(parts)
    if entry.state is EntryState.NOT_APPLICABLE and entry.not_applicable_reason:
        return f"• {name} — {escape(entry.not_applicable_reason, _REASON_MAX)}"
    return f"• {name}"


def render_status(report: StatusReport, *, language: str, timezone: str, now: datetime) -> str:
    record = report.deadline
    title = record.deadline.title_in(language)
    c = report.counts
    rows = [
        _w("head", language, code=escape(report.code, 80), title=escape(title, 200)),
        _w(
            "due",
            language,
            when=local_time(report.due_at, timezone, language),
            left=time_left(report.due_at, now, language),
        ),
        _w(
            "counts",
            language,
            submitted=c.submitted,
            assigned=c.assigned,
            missing=c.missing,
            na=c.not_applicable,
        ),
    ]
    if not report.everyone:
        rows.append(_w("only_yours", language))
    used = sum(len(r) for r in rows)
    for state in EntryState:
        entries = [e for e in report.lines if e.state is state]
        if not entries:
            continue
        rows.append(_w(state, language))
        for i, entry in enumerate(entries):
            line = _line(entry, report, language, timezone)
            if used + len(line) > _SECTION_MAX:
                rows.append(_w("more", language, n=len(entries) - i, code=escape(report.code, 80)))
                break
            rows.append(line)
            used += len(line)
    return "\n".join(rows)


def status_text(
    code: str,
    *,
    uow: UnitOfWork,
    actor: str,
    language: str,
    timezone: str,
    cmd: str,
    now: datetime,
) -> str:
    """The reply to ``/focal status CODE`` (runs in a worker: it reads the database)."""
    try:
        report = submission_status(code, uow=uow, actor=actor)
    except UnknownDeadlineError:
        return _w("unknown", language, code=escape(code, 80), cmd=cmd)
    except AccessRefusedError:
        return _w("refused", language, code=escape(code, 80), cmd=cmd)
    return render_status(report, language=language, timezone=timezone, now=now)
