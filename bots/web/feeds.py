"""The calendar feeds over HTTP: ``GET /feeds/{token}.ics`` and ``GET /feeds/groups/{code}.ics``.

Answers carry a strong ``ETag`` (from the body) and ``Last-Modified`` (the data's last change);
``If-None-Match`` (or, without it, ``If-Modified-Since``) gets ``304``. An unknown or revoked
token, or a group the token's owner may not read, is ``404`` alike (nothing says which). When
the database cannot be reached the answer is ``503`` with ``Retry-After``, never a calendar.
A client that accepts gzip gets the body compressed once and kept with it.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from db.engine import build_read_session_factory
from db.uow import SqlAlchemyUnitOfWork
from services.feed_access import FeedCache
from services.feeds import FeedNotFoundError, FeedStoreConflictError

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from config.wiring import App
    from services.feed_access import RenderedFeed

log = logging.getLogger("focal.feeds")

P = ParamSpec("P")
T = TypeVar("T")

CONTENT_TYPE = "text/calendar; charset=utf-8"
#: Clients may keep a feed this long without asking; after that they ask with its ETag.
MAX_AGE = 300
RETRY_AFTER = 60


_KEY_IN_PATH = re.compile(r"(/feeds/)[^/?\s]+(\.ics)|([?&]token=)[^&\s]+")


def redact_feed_keys(text: str) -> str:
    """A request line with the feed keys it carries replaced by ``…`` (for logs)."""
    return _KEY_IN_PATH.sub(lambda m: f"{m[1]}…{m[2]}" if m[1] else f"{m[3]}…", text)


class RedactFeedKeys(logging.Filter):
    """Keeps feed keys out of uvicorn's access log (a key is as good as a password)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_feed_keys(a) if isinstance(a, str) else a for a in record.args
            )
        return True


def _etags(header: str) -> set[str]:
    """The entity tags in an ``If-None-Match`` header (weak ones compared weakly)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _not_modified(request: Request, feed: RenderedFeed) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        return "*" in tags or feed.etag in tags or feed.gzip_etag in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    return when.tzinfo is not None and feed.stamp <= when


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def feed_response(request: Request, feed: RenderedFeed) -> Response:
    gzipped = _accepts_gzip(request)
    headers = {
        "ETag": feed.gzip_etag if gzipped else feed.etag,
        "Last-Modified": email.utils.format_datetime(feed.stamp, usegmt=True),
        "Cache-Control": f"private, max-age={MAX_AGE}",
        "Vary": "Accept-Encoding",
    }
    if _not_modified(request, feed):
        return Response(status_code=304, headers=headers)
    headers["Content-Type"] = CONTENT_TYPE
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return Response(feed.gzipped(), headers=headers)
    return Response(feed.body, headers=headers)


def _unavailable() -> Response:
    return PlainTextResponse(
        "The calendar is unavailable just now; try again in a minute.\n",
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"},
    )


def _not_found() -> Response:
    return PlainTextResponse(
        "No such calendar feed: the link is wrong or was replaced (/focal calendar).\n",
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )


def feed_routes(focal: App) -> list[Route]:
    """The feed routes over one in-process cache; the work runs on two worker threads."""
    reader = build_read_session_factory(focal.engine)
    cache = FeedCache(
        focal.uow,
        office_timezone=focal.settings.timezone,
        reader=lambda: SqlAlchemyUnitOfWork(reader),
    )
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="focal-feeds")

    async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))

    async def answer(request: Request, get: Callable[[], RenderedFeed]) -> Response:
        try:
            feed = await run(get)
        except FeedNotFoundError:
            return _not_found()
        except (DBAPIError, FeedStoreConflictError) as error:
            log.warning("feed unavailable: %s", type(error).__name__)
            return _unavailable()
        except SQLAlchemyError:
            log.exception("feed failed")
            return _unavailable()
        return feed_response(request, feed)

    async def person(request: Request) -> Response:
        token = request.path_params["token"]
        return await answer(request, lambda: cache.person_feed(token, now=focal.clock.now()))

    async def group(request: Request) -> Response:
        code, token = request.path_params["code"], request.query_params.get("token", "")
        return await answer(request, lambda: cache.group_feed(code, token, now=focal.clock.now()))

    return [
        Route("/feeds/groups/{code}.ics", group, methods=["GET"]),
        Route("/feeds/{token}.ics", person, methods=["GET"]),
    ]
