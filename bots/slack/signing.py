"""Slack's request signature (v0), for whoever speaks to the app as Slack does.

Slack signs each request with the app's signing secret: ``X-Slack-Signature`` is ``v0=`` and
the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, ``X-Slack-Request-Timestamp`` the Unix time
it was sent. Bolt checks both before anything else (the timestamp within 5 minutes). ``focal
demo`` signs its ``/focal`` requests with this; the tests' Slack (``tests/slack_http.py``) too,
and a unit test holds it to Slack's published example.
"""

from __future__ import annotations

import hashlib
import hmac

FORM = "application/x-www-form-urlencoded"


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    """Slack's request signature: ``v0=`` and the HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, *, secret: str, timestamp: int, content_type: str = FORM
) -> dict[str, str]:
    """The headers of a request Slack signed: its timestamp, signature and content type."""
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, secret=secret, timestamp=timestamp),
        "Content-Type": content_type,
    }
