"""What the bot answers to ``/focal`` and its buttons and modals, in English or Vietnamese. Pure.

Every refusal says what was wrong and what to do instead, in one message. Texts are Slack mrkdwn;
anything a person typed is escaped before it is shown back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bots.slack.wording import escape, local_time, time_left
from core.commands import MAX_REASON, MAX_TEXT, CommandError
from core.commands import Problem as CommandProblem
from core.model import Language
from services.deadlines import Standing
from services.submissions import Problem

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from services.deadlines import MyDeadline
    from services.submissions import Receipt

_CODE_MAX, _TITLE_MAX = 80, 150
_SUGGESTION = re.compile(r"^(?P<word>.*?)(?: \(did you mean (?P<match>.+)\?\))?$", re.DOTALL)

# (English, Vietnamese). Placeholders are filled with escaped text.
_PHRASES: dict[str, tuple[str, str]] = {
    "help": (
        (
            "*Focal* — your inputs for the meetings the office follows.\n"
            "• `{cmd} deadlines` — what you owe, when, and where it stands\n"
            "• `{cmd} submit CODE text` — submit your input (a new version each time)\n"
            "• `{cmd} submit` or `{cmd} submit CODE` — submit in a form\n"
            "• `{cmd} status CODE` — who has submitted (chairs and coordinators)\n"
            "• `{cmd} na CODE reason` — the input does not apply to you\n"
            "• `{cmd} calendar` — your private calendar link; `{cmd} calendar reset` for a new one"
        ),
        (
            "*Focal* — các đầu vào của bạn cho các cuộc họp mà văn phòng theo dõi.\n"
            "• `{cmd} deadlines` — việc cần nộp, hạn nộp và tình trạng\n"
            "• `{cmd} submit MÃ nội dung` — nộp đầu vào (mỗi lần nộp là một bản mới)\n"
            "• `{cmd} submit` hoặc `{cmd} submit MÃ` — nộp qua biểu mẫu\n"
            "• `{cmd} status MÃ` — ai đã nộp (chủ tịch nhóm và điều phối viên)\n"
            "• `{cmd} na MÃ lý do` — đầu vào không áp dụng với bạn\n"
            "• `{cmd} calendar` — đường dẫn lịch riêng của bạn; `{cmd} calendar reset` để đổi"
        ),
    ),
    "no_deadlines": (
        "You owe no inputs at the moment.",
        "Hiện bạn không có đầu vào nào cần nộp.",
    ),
    "deadlines_head": ("*Your inputs* ({n})", "*Đầu vào của bạn* ({n})"),
    "deadline_line": (
        "• *{code}* — {title}\n    due {when} · {left} · {standing}",
        "• *{code}* — {title}\n    hạn nộp {when} · {left} · {standing}",
    ),
    Standing.DUE: ("not submitted yet", "chưa nộp"),
    Standing.OVERDUE: ("*overdue*, not submitted", "*quá hạn*, chưa nộp"),
    Standing.SUBMITTED: ("submitted (v{v})", "đã nộp (bản {v})"),
    Standing.ACCEPTED: ("accepted (v{v})", "đã được chấp nhận (bản {v})"),
    Standing.RETURNED: ("returned for changes (v{v})", "được trả lại để chỉnh sửa (bản {v})"),
    Standing.NOT_APPLICABLE: ("not applicable", "không áp dụng"),
    Standing.CANCELLED: ("meeting cancelled", "cuộc họp đã bị hủy"),
    "receipt_on_time": (
        "Received *{code}* v{v} — on time. Thank you.",
        "Đã nhận *{code}* bản {v} — đúng hạn. Xin cảm ơn.",
    ),
    "receipt_late": (
        "Received *{code}* v{v} — {late} late.",
        "Đã nhận *{code}* bản {v} — muộn {late}.",
    ),
    "receipt_for": (
        " Recorded as {name}'s input, submitted by you on their behalf.",
        " Ghi nhận là đầu vào của {name}, do bạn nộp thay.",
    ),
    "na_done": (
        "*{code}* is recorded as not applicable to you; the coordinators will see your reason.",
        "Đã ghi nhận *{code}* không áp dụng với bạn; điều phối viên sẽ thấy lý do của bạn.",
    ),
    "snoozed": (
        "I will remind you of *{code}* on {when}.",
        "Tôi sẽ nhắc bạn về *{code}* vào {when}.",
    ),
    "opening_form": ("Opening the form…", "Đang mở biểu mẫu…"),
    "nothing_to_submit": (
        "You have no input to submit at the moment. `{cmd} deadlines` shows what you owe.",
        "Hiện bạn không có đầu vào nào để nộp. `{cmd} deadlines` cho biết bạn cần nộp gì.",
    ),
    # refusals -------------------------------------------------------------------------
    "unknown_subcommand": (
        "`{cmd} {word}` is not a Focal command{did} Type `{cmd} help` for the list.",
        "`{cmd} {word}` không phải là lệnh của Focal{did} Gõ `{cmd} help` để xem danh sách.",
    ),
    "did_you_mean": (" — did you mean `{match}`?", " — có phải bạn muốn gõ `{match}`?"),
    CommandProblem.MISSING_CODE: (
        "Which input? Type `{cmd} {sub} CODE…`; `{cmd} deadlines` lists your codes.",
        "Đầu vào nào? Gõ `{cmd} {sub} MÃ…`; `{cmd} deadlines` liệt kê các mã của bạn.",
    ),
    CommandProblem.BAD_CODE: (
        (
            "`{detail}` is not a deadline code (codes look like `ASOEN37-WORKPLANS`). "
            "`{cmd} deadlines` lists yours."
        ),
        (
            "`{detail}` không phải là mã hạn nộp (mã có dạng `ASOEN37-WORKPLANS`). "
            "`{cmd} deadlines` liệt kê các mã của bạn."
        ),
    ),
    CommandProblem.MISSING_REASON: (
        "Please give a reason: `{cmd} na {detail} why it does not apply`.",
        "Vui lòng nêu lý do: `{cmd} na {detail} lý do không áp dụng`.",
    ),
    CommandProblem.TEXT_TOO_LONG: (
        (
            "That input is {detail} characters; at most {max_text:,} fit in one submission. "
            "Shorten it, or put the full document behind a link (`{cmd} submit` opens a form with "
            "a "
            "link field). Nothing was recorded."
        ),
        (
            "Đầu vào dài {detail} ký tự; mỗi lần nộp tối đa {max_text:,} ký tự. Hãy rút gọn, hoặc "
            "đưa tài liệu đầy đủ vào một đường dẫn (`{cmd} submit` mở biểu mẫu có ô đường dẫn). "
            "Chưa có gì được ghi nhận."
        ),
    ),
    CommandProblem.REASON_TOO_LONG: (
        "That reason is {detail} characters; at most {max_reason:,} fit. Nothing was recorded.",
        "Lý do dài {detail} ký tự; tối đa {max_reason:,} ký tự. Chưa có gì được ghi nhận.",
    ),
    CommandProblem.UNEXPECTED: (
        "`{cmd} {sub}` takes nothing after it (got `{detail}`). Type `{cmd} help` for the list.",
        "`{cmd} {sub}` không cần thêm gì phía sau (nhận được `{detail}`). Gõ `{cmd} help`.",
    ),
    Problem.UNKNOWN_DEADLINE: (
        "There is no deadline `{detail}`{did} `{cmd} deadlines` lists yours. Nothing recorded.",
        (
            "Không có hạn nộp `{detail}`{did} `{cmd} deadlines` liệt kê các hạn nộp của bạn. "
            "Chưa có gì được ghi nhận."
        ),
    ),
    Problem.CLOSED: (
        (
            "*{detail}* is closed (its meeting is over or it was withdrawn). Nothing was recorded; "
            "please send late material to the coordinators directly."
        ),
        (
            "*{detail}* đã đóng (cuộc họp đã kết thúc hoặc hạn nộp đã bị rút). Chưa có gì được ghi "
            "nhận; vui lòng gửi tài liệu muộn trực tiếp cho điều phối viên."
        ),
    ),
    Problem.CANCELLED: (
        "The meeting of *{detail}* is cancelled, so no input is needed. Nothing was recorded.",
        "Cuộc họp của *{detail}* đã bị hủy nên không cần đầu vào. Chưa có gì được ghi nhận.",
    ),
    Problem.NOT_ASSIGNED: (
        (
            "You do not owe *{code}*. `{cmd} deadlines` lists what you owe; if this is wrong, ask "
            "the coordinators. Nothing was recorded."
        ),
        (
            "Bạn không được giao *{code}*. `{cmd} deadlines` liệt kê những gì bạn cần nộp; nếu có "
            "nhầm lẫn, hãy hỏi điều phối viên. Chưa có gì được ghi nhận."
        ),
    ),
    Problem.EMPTY: (
        (
            "There is nothing to record: add your text after the code (`{cmd} submit CODE your "
            "text`), or type `{cmd} submit CODE` for a form."
        ),
        (
            "Không có nội dung để ghi nhận: thêm nội dung sau mã (`{cmd} submit MÃ nội dung`), "
            "hoặc gõ `{cmd} submit MÃ` để mở biểu mẫu."
        ),
    ),
    Problem.TOO_LONG: (
        "That is {detail} characters; at most {max_text:,} fit. Nothing was recorded.",
        "Nội dung dài {detail} ký tự; tối đa {max_text:,} ký tự. Chưa có gì được ghi nhận.",
    ),
    Problem.UNKNOWN_PERSON: (
        (
            "Focal does not know you yet: your Slack e-mail is not in the office's roster. Ask the "
            "coordinators to add you. Nothing was recorded."
        ),
        (
            "Focal chưa có thông tin của bạn: e-mail Slack của bạn không có trong danh sách của "
            "văn "
            "phòng. Hãy đề nghị điều phối viên bổ sung. Chưa có gì được ghi nhận."
        ),
    ),
    Problem.NOT_YOURS: (
        (
            "*{code}* of {detail} is not yours to submit: only the focal point, an alternate of "
            "the "
            "same group or a coordinator may. Nothing was recorded."
        ),
        (
            "Bạn không thể nộp *{code}* thay cho {detail}: chỉ đầu mối, người thay thế trong cùng "
            "nhóm hoặc điều phối viên mới được nộp. Chưa có gì được ghi nhận."
        ),
    ),
    "several_owners": (
        (
            "You may submit *{code}* for {names}: use `{cmd} submit {code}` and pick whose input "
            "it is. Nothing was recorded."
        ),
        (
            "Bạn có thể nộp *{code}* cho {names}: dùng `{cmd} submit {code}` và chọn người. "
            "Chưa có gì được ghi nhận."
        ),
    ),
    "database_down": (
        (
            "Focal cannot reach its database just now, so nothing was recorded. Please try again "
            "in a few minutes."
        ),
        (
            "Focal tạm thời không kết nối được cơ sở dữ liệu nên chưa có gì được ghi nhận. Vui "
            "lòng "
            "thử lại sau ít phút."
        ),
    ),
    "failed": (
        (
            "Something went wrong on Focal's side and nothing was recorded. Please try again; if "
            "it "
            "keeps failing, tell the coordinators."
        ),
        (
            "Đã có lỗi phía Focal và chưa có gì được ghi nhận. Vui lòng thử lại; nếu vẫn lỗi, hãy "
            "báo điều phối viên."
        ),
    ),
    # the modals ------------------------------------------------------------------------
    "modal_title": ("Submit input", "Nộp đầu vào"),
    "modal_submit": ("Submit", "Nộp"),
    "modal_cancel": ("Cancel", "Hủy"),
    "modal_deadline": ("Input", "Đầu vào"),
    "modal_deadline_hint": ("Choose an input", "Chọn đầu vào"),
    "modal_text": ("Your input", "Nội dung"),
    "modal_link": ("Link (optional)", "Đường dẫn (không bắt buộc)"),
    "modal_for": ("{code} — for {name}", "{code} — cho {name}"),
    "na_title": ("Not applicable", "Không áp dụng"),
    "na_reason": ("Why does {code} not apply to you?", "Vì sao {code} không áp dụng với bạn?"),
    "modal_empty": ("Please write your input.", "Vui lòng nhập nội dung."),
    "modal_too_long": (
        "At most {max_text:,} characters ({n:,} now).",
        "Tối đa {max_text:,} ký tự (hiện có {n:,}).",
    ),
    "modal_bad_link": (
        "A link starts with https:// or http://",
        "Đường dẫn phải bắt đầu bằng https:// hoặc http://",
    ),
    "modal_reason_empty": ("Please give a reason.", "Vui lòng nêu lý do."),
}


def _vi(language: str) -> bool:
    return language == Language.VI


def phrase(key: str, language: str, **values: object) -> str:
    return _PHRASES[key][int(_vi(language))].format(**values)


def help_text(language: str, *, cmd: str) -> str:
    return phrase("help", language, cmd=cmd)


def _code(code: str) -> str:
    return escape(code, _CODE_MAX)


def deadlines_text(
    deadlines: Sequence[MyDeadline], *, language: str, timezone: str, now: datetime
) -> str:
    if not deadlines:
        return phrase("no_deadlines", language)
    lines = [phrase("deadlines_head", language, n=len(deadlines))]
    for mine in deadlines:
        owed = mine.owed
        lines.append(
            phrase(
                "deadline_line",
                language,
                code=_code(owed.deadline.code),
                title=escape(owed.deadline.title_in(language), _TITLE_MAX),
                when=local_time(owed.due_at, timezone, language),
                left=time_left(owed.due_at, now, language),
                standing=phrase(mine.standing, language, v=owed.version),
            )
        )
    return "\n".join(lines)


def duration(delta: timedelta, language: str) -> str:
    """``2 days 3 hours`` / ``2 ngày 3 giờ``: the two largest units, at least a minute."""
    minutes = max(1, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    units = (
        ((days, "ngày"), (hours, "giờ"), (mins, "phút"))
        if _vi(language)
        else ((days, "day"), (hours, "hour"), (mins, "minute"))
    )
    parts: list[str] = []
    for amount, unit in units:
        if amount and len(parts) < 2:  # noqa: PLR2004 - the two largest units
            plural = "" if _vi(language) or amount == 1 else "s"
            parts.append(f"{amount} {unit}{plural}")
        elif parts:
            break
    return " ".join(parts)


def receipt_text(receipt: Receipt, *, language: str, owner_name: str) -> str:
    code = _code(receipt.deadline)
    late = receipt.late_by
    text = (
        phrase(
            "receipt_late", language, code=code, v=receipt.version, late=duration(late, language)
        )
        if late is not None
        else phrase("receipt_on_time", language, code=code, v=receipt.version)
    )
    if receipt.on_behalf:
        text += phrase("receipt_for", language, name=escape(owner_name, 100))
    return text


def not_applicable_text(code: str, *, language: str) -> str:
    return phrase("na_done", language, code=_code(code))


def snoozed_text(code: str, at: datetime, *, language: str, timezone: str) -> str:
    return phrase("snoozed", language, code=_code(code), when=local_time(at, timezone, language))


def _shown(detail: str) -> str:
    """A detail as shown: a count with its thousands separated, other text escaped."""
    return f"{int(detail):,}" if detail.isdigit() else escape(detail, _CODE_MAX)


def _did_you_mean(detail: str, language: str, prefix: str = "") -> tuple[str, str]:
    """The offending word and a translated " — did you mean …" (core says it in English)."""
    found = _SUGGESTION.match(detail)
    word, match = (found["word"], found["match"]) if found else (detail, None)
    did = phrase("did_you_mean", language, match=prefix + escape(match)) if match else "."
    return escape(word, _CODE_MAX), did


def command_error_text(error: CommandError, *, language: str, cmd: str) -> str:
    if error.problem is CommandProblem.UNKNOWN_SUBCOMMAND:
        word, did = _did_you_mean(error.detail, language, f"{cmd} ")
        return phrase("unknown_subcommand", language, cmd=cmd, word=word, did=did)
    return phrase(
        error.problem,
        language,
        cmd=cmd,
        sub=error.subcommand,
        detail=_shown(error.detail),
        max_text=MAX_TEXT,
        max_reason=MAX_REASON,
    )


def refusal_text(problem: Problem, detail: str, *, code: str, language: str, cmd: str) -> str:
    """A refused submission, "not applicable" or reminder request."""
    if problem is Problem.UNKNOWN_DEADLINE:
        word, did = _did_you_mean(detail, language)
        return phrase(problem, language, cmd=cmd, detail=word, did=did)
    person = detail.split(" / ", 1)[0] if " / " in detail else detail
    return phrase(
        problem,
        language,
        cmd=cmd,
        code=_code(code),
        detail=_shown(person if problem is Problem.NOT_YOURS else detail),
        max_text=MAX_TEXT,
    )
