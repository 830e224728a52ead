"""What ``/focal calendar`` answers: the private feed links, in English or Vietnamese. Pure.

A new link is shown once, when it is issued: only a hash of it is kept, so a later
``/focal calendar`` can say when the current link was made, not show it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from bots.slack.wording import escape, local_time

if TYPE_CHECKING:
    from services.feed_access import FeedAccess

#: Each phrase in English, then in Vietnamese.
_PHRASES: dict[str, tuple[str, str]] = {
    "new": (
        (
            "*Your private calendar feed* — your meetings and your inputs, with their status.\n"
            "Subscribe in Google Calendar, Outlook or Thunderbird with:\n{https}\n"
            "or open it in Apple Calendar (and other calendar apps) with:\n{webcal}\n"
            "Keep it to yourself: anyone with the link can read it. "
            "`{cmd} calendar reset` replaces it."
        ),
        (
            "*Lịch riêng của bạn* — các cuộc họp và đầu vào của bạn, kèm tình trạng.\n"
            "Đăng ký trong Google Calendar, Outlook hoặc Thunderbird bằng:\n{https}\n"
            "hoặc mở trong Apple Calendar (và các ứng dụng lịch khác) bằng:\n{webcal}\n"
            "Hãy giữ riêng đường dẫn này: ai có nó cũng xem được lịch. "
            "`{cmd} calendar reset` để thay đường dẫn mới."
        ),
    ),
    "revoked": (
        "Your old calendar link no longer works; calendars subscribed to it stop updating. ",
        (
            "Đường dẫn lịch cũ của bạn đã ngừng hoạt động; các lịch đã đăng ký bằng nó sẽ "
            "không cập nhật nữa. "
        ),
    ),
    "groups": (
        "\nYour groups' calendars (with the same key):\n{lines}",
        "\nLịch của các nhóm của bạn (cùng khóa):\n{lines}",
    ),
    "exists": (
        (
            "You already have a private calendar link (made {since}). Focal keeps no readable "
            "copy of it, so it cannot be shown again: `{cmd} calendar reset` gives you a new "
            "link and switches the old one off."
        ),
        (
            "Bạn đã có đường dẫn lịch riêng (tạo lúc {since}). Focal không lưu bản đọc được "
            "của đường dẫn nên không thể hiện lại: `{cmd} calendar reset` sẽ tạo đường dẫn "
            "mới và tắt đường dẫn cũ."
        ),
    ),
}


def _say(key: str, language: str, **values: object) -> str:
    return _PHRASES[key][int(language == "vi")].format(**values)


def person_feed_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/feeds/{token}.ics"


def group_feed_url(public_url: str, code: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/feeds/groups/{quote(code, safe='')}.ics?token={token}"


def webcal(url: str) -> str:
    """The same address under ``webcal:``, which opens the reader's calendar app."""
    return urlunsplit(urlsplit(url)._replace(scheme="webcal"))


def calendar_text(
    access: FeedAccess, *, language: str, public_url: str, timezone: str, cmd: str
) -> str:
    if access.token is None:
        since = local_time(access.since, timezone, language)
        return _say("exists", language, since=since, cmd=cmd)
    https = person_feed_url(public_url, access.token)
    text = _say("new", language, https=https, webcal=webcal(https), cmd=cmd)
    if access.revoked:
        text = _say("revoked", language) + text
    if access.groups:
        lines = "\n".join(
            f"• {escape(code)}: {group_feed_url(public_url, code, access.token)}"
            for code in access.groups
        )
        text += _say("groups", language, lines=lines)
    return text
