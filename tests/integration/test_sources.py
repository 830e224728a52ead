"""Calendar sources: files and URLs read as bytes over real HTTP on 127.0.0.1, every failure one
clear message; ``FOCAL_SOURCES`` entries and their ``#group=…&kind=…`` options."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from config.sources import SourceError, SourceType, parse_source, read_source
from core.model import MeetingKind

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BODY = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow.ics":
            time.sleep(1.5)
        if self.path == "/missing.ics":
            self.send_error(404, "Not Found")
            return
        if self.path == "/broken.ics":
            self.send_error(503, "Service Unavailable")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def message(location: str, **kwargs: float) -> SourceError:
    with pytest.raises(SourceError) as caught:
        read_source(location, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_a_url_is_read_as_bytes(server: str) -> None:
    assert read_source(f"http://{server}/asean.ics") == BODY


def test_http_errors_timeouts_and_refusals_are_one_clear_line(server: str) -> None:
    missing = message(f"http://{server}/missing.ics")
    assert str(missing) == f"http://{server}/missing.ics: the server answered HTTP 404 Not Found"
    assert not missing.transient
    down = message(f"http://{server}/broken.ics")
    assert "HTTP 503" in str(down)
    assert down.transient
    slow = message(f"http://{server}/slow.ics", timeout=0.3)
    assert "no answer" in str(slow)
    assert slow.transient
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    refused = message(f"http://127.0.0.1:{closed}/x.ics")
    assert str(refused) == f"http://127.0.0.1:{closed}/x.ics: 127.0.0.1 refused the connection"


def test_webcal_is_fetched_over_https(server: str) -> None:
    # the local server speaks plain HTTP: the TLS handshake fails, which proves https was used
    failed = message(f"webcal://{server}/asean.ics")
    assert "the secure connection failed" in str(failed)


def test_sizes_and_files(server: str, tmp_path: Path) -> None:
    assert "larger than" in str(message(f"http://{server}/asean.ics", limit=10))
    path = tmp_path / "partner.ics"
    path.write_bytes(BODY)
    assert read_source(str(path)) == BODY
    assert str(message(str(tmp_path / "none.ics"))) == f"{tmp_path / 'none.ics'}: no such file"
    assert "cannot be read" in str(message(str(tmp_path)))


def test_source_entries_and_their_options() -> None:
    url = parse_source(" https://asean.example.org/cal.ics#group=AWGESC&kind=working-group ")
    assert (url.location, url.type, url.group, url.kind) == (
        "https://asean.example.org/cal.ics",
        SourceType.ICS_URL,
        "AWGESC",
        MeetingKind.WORKING_GROUP,
    )
    assert parse_source("config/roster.yaml").type is SourceType.YAML
    assert parse_source("partner.ics").type is SourceType.ICS_FILE
    with pytest.raises(SourceError, match="unknown kind 'party'"):
        parse_source("partner.ics#kind=party")
    with pytest.raises(SourceError, match="unknown option 'colour'"):
        parse_source("partner.ics#colour=red")
