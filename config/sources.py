"""Where calendars come from: the entries of ``FOCAL_SOURCES``, read as bytes.

An entry is a YAML file (calendar or roster), an iCalendar file, or an iCalendar URL
(``http``, ``https`` or ``webcal``). An iCalendar entry may end with ``#group=CODE&kind=KIND``:
the fragment is never sent to the server, and says what ``focal import-ics --group --kind``
would. URLs are fetched with a timeout and a size limit; every failure is one clear message.
"""

from __future__ import annotations

import enum
import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core.model import MeetingKind

TIMEOUT_SECONDS = 30.0
MAX_BYTES = 20 * 1024 * 1024
_YAML = (".yaml", ".yml")


class SourceError(Exception):
    """A source could not be read. ``transient``: trying again later may help."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class SourceType(enum.StrEnum):
    YAML = "yaml"
    ICS_FILE = "ics-file"
    ICS_URL = "ics-url"


@dataclass(frozen=True, slots=True)
class Source:
    location: str  # a path or a URL, without the options fragment
    type: SourceType
    group: str | None = None
    kind: MeetingKind | None = None

    @property
    def is_url(self) -> bool:
        return self.type is SourceType.ICS_URL


def is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme.lower() in {"http", "https", "webcal"}


def parse_source(entry: str) -> Source:
    """One entry of ``FOCAL_SOURCES``; raises ``SourceError`` for an unknown option."""
    location, _, fragment = entry.strip().partition("#")
    options = urllib.parse.parse_qs(fragment, keep_blank_values=True) if fragment else {}
    unknown = sorted(set(options) - {"group", "kind"})
    if unknown:
        raise SourceError(f"{entry}: unknown option {unknown[0]!r} (use #group=CODE&kind=KIND)")
    group = options.get("group", [None])[-1] or None
    kind = None
    if options.get("kind"):
        value = options["kind"][-1]
        try:
            kind = MeetingKind(value)
        except ValueError:
            kinds = ", ".join(k.value for k in MeetingKind)
            raise SourceError(f"{entry}: unknown kind {value!r} (one of {kinds})") from None
    if is_url(location):
        return Source(location, SourceType.ICS_URL, group, kind)
    if location.lower().endswith(_YAML):
        if fragment:
            raise SourceError(f"{entry}: options apply to iCalendar sources only")
        return Source(location, SourceType.YAML)
    return Source(location, SourceType.ICS_FILE, group, kind)


def read_source(
    location: str, *, timeout: float = TIMEOUT_SECONDS, limit: int = MAX_BYTES
) -> bytes:
    """The bytes of a file or URL; raises ``SourceError`` with one clear line."""
    if is_url(location):
        return fetch_url(location, timeout=timeout, limit=limit)
    path = Path(location)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise SourceError(f"{location}: no such file") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise SourceError(f"{location}: cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise SourceError(f"{location}: larger than {limit // (1024 * 1024)} MB")
    return data


def fetch_url(url: str, *, timeout: float = TIMEOUT_SECONDS, limit: int = MAX_BYTES) -> bytes:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() == "webcal":  # a subscription link: the same resource over HTTPS
        parts = parts._replace(scheme="https")
    target = urllib.parse.urlunsplit(parts)
    request = urllib.request.Request(  # noqa: S310 - the scheme is http or https, checked above
        target, headers={"User-Agent": "Focal calendar import", "Accept": "text/calendar, */*"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data: bytes = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the answer's connection
        transient = exc.code >= 500 or exc.code == 429  # noqa: PLR2004
        raise SourceError(
            f"{url}: the server answered HTTP {exc.code} {exc.reason}", transient=transient
        ) from None
    except urllib.error.URLError as exc:
        raise SourceError(f"{url}: {_why(exc.reason, parts.hostname)}", transient=True) from None
    except TimeoutError:
        raise SourceError(f"{url}: no answer within {timeout:g} s", transient=True) from None
    except http.client.HTTPException as exc:
        raise SourceError(
            f"{url}: the answer broke off ({type(exc).__name__})", transient=True
        ) from None
    except (ConnectionError, OSError) as exc:
        raise SourceError(f"{url}: {_why(exc, parts.hostname)}", transient=True) from None
    if len(data) > limit:
        raise SourceError(f"{url}: larger than {limit // (1024 * 1024)} MB")
    return data


def _why(reason: object, host: str | None) -> str:
    if isinstance(reason, socket.gaierror):
        return f"cannot find the server {host!r} (DNS: {reason.strerror})"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "no answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(reason, ssl.SSLError):
        return f"the secure connection failed ({reason.reason or reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return f"cannot connect ({reason.strerror})"
    return f"cannot connect ({reason})"
