"""Feed tokens, and the rendered feeds the HTTP app serves, kept warm in memory.

A token is 256 random bits (``secrets.token_urlsafe(32)``); only its SHA-256 is stored, one
active token a person. ``/focal calendar`` issues it once; ``/focal calendar reset`` revokes it
and issues another (the old link answers 404 from then on).

``FeedCache`` keeps each rendered feed with the data version it was built at and the instant
its content changes by itself (a due deadline turning overdue). Each request reads the version
with the token in one query, so a change anywhere is seen at once; only then is the feed built
again, and rendered again only if its content differs. Nothing is served without that query:
when the database cannot be reached the caller gets its error, never a cached copy.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from core.feeds import feed_etag, render_feed
from services.feeds import FeedNotFoundError, build_group_feed, build_person_feed

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from services.feeds import BuiltFeed
    from services.ports import UnitOfWork

_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


# ------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class FeedAccess:
    """What ``/focal calendar`` answers: a new token (shown once), or when the current one was
    issued; the groups whose feeds the person may read; whether an older link was revoked."""

    token: str | None
    since: datetime
    groups: tuple[str, ...]
    revoked: bool = False


def feed_access(handle: str, *, reset: bool, uow: UnitOfWork, now: datetime) -> FeedAccess:
    """Issue ``handle``'s feed token if they have none (or ``reset``: revoke it, issue another)."""
    for _ in range(3):
        try:
            with uow:
                owner = uow.feeds.person(handle)
                if owner is None:
                    raise FeedNotFoundError(f"no person {handle!r} in the roster")
                groups = tuple(uow.feeds.member_group_codes(owner.person_id))
                since = uow.feeds.active_token_since(owner.person_id)
                if since is not None and not reset:
                    return FeedAccess(None, since, groups)
                revoked = uow.feeds.revoke_tokens(owner.person_id, now=now) > 0
                token = secrets.token_urlsafe(TOKEN_BYTES)
                uow.feeds.add_token(owner.person_id, token_hash(token), now=now)
                uow.commit()
                return FeedAccess(token, now, groups, revoked=revoked)
        except IntegrityError:  # a second request issued one at the same moment
            continue
    raise FeedNotFoundError(f"could not issue a feed token for {handle!r}")


# -------------------------------------------------------------------- cache


@dataclass(slots=True)
class RenderedFeed:
    body: bytes
    etag: str
    stamp: datetime
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'

    def gzipped(self) -> bytes:
        """The body gzip-compressed (once; no file name or time in the header: reproducible)."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


@dataclass(slots=True)
class _Entry:
    """A rendered feed, the data version it was built at and until when it holds; the content
    digest stands for the feed itself (a big feed's objects weigh more than its bytes)."""

    version: int
    valid_until: datetime | None
    digest: str
    rendered: RenderedFeed

    @property
    def size(self) -> int:
        return len(self.rendered.body) + len(self.rendered.gzipped())

    def fresh(self, version: int, now: datetime) -> bool:
        return self.version == version and (self.valid_until is None or now <= self.valid_until)


class FeedCache:
    """Rendered feeds by scope and language, least recently used dropped past ``max_bytes``."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        office_timezone: str,
        reader: Callable[[], UnitOfWork] | None = None,
        max_bytes: int = 128 * 1024 * 1024,
    ) -> None:
        """``reader``: units of work for the per-request lookup, which only reads (on SQLite,
        one that takes no write lock, so that warm answers go on while a load writes)."""
        self.uow = uow
        self.reader = reader or uow
        self.office_timezone = office_timezone
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, int, str], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def person_feed(self, token: str, *, now: datetime) -> RenderedFeed:
        """``GET /feeds/{token}.ics``; ``FeedNotFoundError`` for an unknown or revoked token."""
        if not looks_like_token(token):
            raise FeedNotFoundError("no such feed")
        with self.reader() as uow:
            found = uow.feeds.token_owner(token_hash(token))
        if found is None:
            raise FeedNotFoundError("no such feed")
        version, owner = found
        key = ("person", owner.person_id, owner.language)
        return self._serve(
            key, version, now, lambda: build_person_feed(owner, uow=self.uow(), now=now)
        )

    def group_feed(self, code: str, token: str, *, now: datetime) -> RenderedFeed:
        """``GET /feeds/groups/{code}.ics?token=``: for the group's members and coordinators."""
        if not looks_like_token(token):
            raise FeedNotFoundError("no such feed")
        with self.reader() as uow:
            found = uow.feeds.group_access(token_hash(token), code)
        if found is None or not found[3]:
            raise FeedNotFoundError("no such feed")
        version, owner, group, _ = found
        key = ("group", group.group_id, owner.language)
        return self._serve(
            key,
            version,
            now,
            lambda: build_group_feed(
                group,
                language=owner.language,
                office_timezone=self.office_timezone,
                uow=self.uow(),
                now=now,
            ),
        )

    def _serve(
        self,
        key: tuple[str, int, str],
        version: int,
        now: datetime,
        build: Callable[[], BuiltFeed],
    ) -> RenderedFeed:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.fresh(version, now):
                self._entries.move_to_end(key)
                return entry.rendered
        built = build()
        same = entry is not None and (entry.digest, entry.rendered.stamp) == (
            built.digest,
            built.feed.stamp,
        )
        if entry is not None and same:
            rendered = entry.rendered  # other data changed, not this feed
        else:
            body = render_feed(built.feed)
            rendered = RenderedFeed(body, feed_etag(body), built.feed.stamp)
            rendered.gzipped()  # most clients ask for it: made once, here, off the event loop
        self._keep(key, _Entry(version, built.valid_until, built.digest, rendered))
        return rendered

    def _keep(self, key: tuple[str, int, str], entry: _Entry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            if entry.size > self.max_bytes:
                return
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size
