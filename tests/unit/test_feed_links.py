"""What ``/focal calendar`` says, and the HTTP details of feed answers (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from bots.slack.feed_links import calendar_text, group_feed_url, person_feed_url, webcal
from bots.web.feeds import _accepts_gzip, _not_modified, redact_feed_keys
from services.feed_access import FeedAccess, RenderedFeed, looks_like_token

KEY = "k" * 43
SINCE = datetime(2026, 8, 20, 3, 0, tzinfo=UTC)


def test_links() -> None:
    https = person_feed_url("https://focal.example.gov.vn/", KEY)
    assert https == f"https://focal.example.gov.vn/feeds/{KEY}.ics"
    assert webcal(https) == f"webcal://focal.example.gov.vn/feeds/{KEY}.ics"
    assert webcal("http://127.0.0.1:8000/feeds/x.ics") == "webcal://127.0.0.1:8000/feeds/x.ics"
    assert group_feed_url("https://f.example/base", "A&B", KEY) == (
        f"https://f.example/base/feeds/groups/A%26B.ics?token={KEY}"
    )


def test_a_new_link_in_english_and_vietnamese() -> None:
    access = FeedAccess(KEY, SINCE, ("AWGESC",), revoked=True)
    english = calendar_text(
        access,
        language="en",
        public_url="https://f.example",
        timezone="Asia/Ho_Chi_Minh",
        cmd="/focal",
    )
    assert english.startswith("Your old calendar link no longer works")
    assert f"https://f.example/feeds/{KEY}.ics" in english
    assert f"webcal://f.example/feeds/{KEY}.ics" in english
    assert f"• AWGESC: https://f.example/feeds/groups/AWGESC.ics?token={KEY}" in english
    vietnamese = calendar_text(
        access,
        language="vi",
        public_url="https://f.example",
        timezone="Asia/Ho_Chi_Minh",
        cmd="/focal",
    )
    assert vietnamese.startswith("Đường dẫn lịch cũ của bạn đã ngừng hoạt động")


def test_an_existing_link_is_not_shown_again() -> None:
    text = calendar_text(
        FeedAccess(None, SINCE, ()),
        language="en",
        public_url="https://f.example",
        timezone="Asia/Ho_Chi_Minh",
        cmd="/focal",
    )
    assert "/feeds/" not in text
    assert "`/focal calendar reset`" in text
    assert "Thu 20 Aug 2026, 10:00" in text


@pytest.mark.parametrize(
    ("token", "ok"),
    [(KEY, True), ("short", False), ("k" * 43 + "/", False), ("k" * 129, False), ("", False)],
)
def test_what_looks_like_a_key(token: str, ok: bool) -> None:
    assert looks_like_token(token) is ok


def request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


FEED = RenderedFeed(b"BEGIN:VCALENDAR\r\n", '"abc"', datetime(2026, 8, 20, 3, 0, tzinfo=UTC))


def test_conditional_requests() -> None:
    assert _not_modified(request(If_None_Match='"abc"'), FEED)
    assert _not_modified(request(If_None_Match='W/"abc"'), FEED), "weak comparison"
    assert _not_modified(request(If_None_Match='"abc-gzip"'), FEED)
    assert _not_modified(request(If_None_Match="*"), FEED)
    assert not _not_modified(request(If_None_Match='"abd"'), FEED)
    assert _not_modified(request(If_Modified_Since="Thu, 20 Aug 2026 03:00:00 GMT"), FEED)
    assert not _not_modified(request(If_Modified_Since="Thu, 20 Aug 2026 02:59:59 GMT"), FEED)
    assert not _not_modified(request(If_Modified_Since="yesterday"), FEED)
    both = request(If_None_Match='"old"', If_Modified_Since="Thu, 20 Aug 2026 03:00:00 GMT")
    assert not _not_modified(both, FEED), "If-None-Match wins"


def test_gzip_is_given_only_when_accepted() -> None:
    assert _accepts_gzip(request(Accept_Encoding="gzip, deflate, br"))
    assert _accepts_gzip(request(Accept_Encoding="br;q=1.0, gzip;q=0.8"))
    assert not _accepts_gzip(request(Accept_Encoding="gzip;q=0"))
    assert not _accepts_gzip(request(Accept_Encoding="identity"))
    assert not _accepts_gzip(request())


def test_keys_are_redacted_from_request_lines() -> None:
    line = f'127.0.0.1:5 - "GET /feeds/{KEY}.ics HTTP/1.1" 200'
    assert redact_feed_keys(line) == '127.0.0.1:5 - "GET /feeds/….ics HTTP/1.1" 200'
    group = f"GET /feeds/groups/AWGESC.ics?token={KEY}&x=1"
    assert redact_feed_keys(group) == "GET /feeds/groups/AWGESC.ics?token=…&x=1"
    assert redact_feed_keys("GET /healthz") == "GET /healthz"
