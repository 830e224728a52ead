"""Many rows in at once (a row already stored, same unique key, left as it is), and out.

Planning can store a hundred thousand reminders in one go, and read as many. Through
SQLAlchemy's per-value type processing that costs seconds: four datetimes a row each pass
two Python calls. Here the values are converted once per *distinct* value (a plan has a few
hundred distinct instants) and handed to the driver as they are: ``executemany`` on SQLite,
``COPY`` into a temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` on
PostgreSQL. Other backends take SQLAlchemy's own path.

Every datetime given here must be aware; it is stored as naive UTC, like ``UTCDateTime``.
Column defaults set in Python are not applied: give a value for every NOT NULL column.

Reading is the same in reverse: ``raw(column)`` selects a ``UTCDateTime`` column as the
driver gives it (text on SQLite, a naive datetime on PostgreSQL) and ``UTCReader`` turns each
distinct value into an aware UTC datetime once, where the column type would do it per row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, insert, type_coerce
from sqlalchemy.types import NullType, TypeDecorator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from psycopg import Cursor
    from sqlalchemy import Column, ColumnElement, Connection, Table
    from sqlalchemy.orm import QueryableAttribute

_CHUNK = 5_000  # rows converted at a time: bounded memory for the converted rows


def insert_ignoring(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    key: str,
) -> None:
    """Insert ``rows`` (values in ``columns`` order); a row whose ``key`` exists is skipped."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "sqlite":
        _sqlite(connection, table, columns, rows, key=key)
    elif dialect == "postgresql":
        _postgresql(connection, table, columns, rows, key=key)
    else:  # pragma: no cover - the two supported backends are above
        values = [dict(zip(columns, r, strict=True)) for r in rows]
        connection.execute(insert(table).prefix_with("OR IGNORE"), values)


def insert_new(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    parts: Iterable[Sequence[tuple[Any, ...]]],
    *,
    key: str,
) -> int:
    """Insert rows none of which can be stored yet (no row with their ``key`` exists, and no
    other writer adds such keys), a part at a time; returns how many.

    On PostgreSQL the parts go straight into the table through one binary ``COPY``, which the
    server stores as they arrive: it works on one part while the next is being made. A key
    already there fails the ``COPY`` and with it the transaction. Elsewhere each part goes
    through ``insert_ignoring``.
    """
    count = 0
    if connection.dialect.name != "postgresql":
        for rows in parts:
            insert_ignoring(connection, table, columns, rows, key=key)
            count += len(rows)
        return count
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        types = _pg_types(cursor, table, columns)
        with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for rows in parts:
                for start in range(0, len(rows), _CHUNK):
                    for row in _converted(table, columns, rows[start : start + _CHUNK], _same):
                        copy.write_row(row)
                count += len(rows)
    return count


def _pg_types(cursor: Cursor[Any], table: Table, columns: Sequence[str]) -> list[int]:
    """The type of each column, as PostgreSQL names it (its OID), for binary ``COPY``."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
        [table.name],
    )
    found = dict(cursor.fetchall())
    return [found[name] for name in columns]


def raw(column: ColumnElement[Any] | QueryableAttribute[Any]) -> ColumnElement[Any]:
    """``column`` as the driver returns it, without its type's conversion (see ``UTCReader``)."""
    return type_coerce(column, NullType())


class UTCReader(dict[object, datetime]):
    """``reader[value]``: a ``raw`` value of a NOT NULL UTC column as an aware UTC datetime,
    converted once per distinct value."""

    def __missing__(self, value: object) -> datetime:
        # SQLite: text as SQLAlchemy's DateTime stores it; PostgreSQL: a naive datetime
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(at, datetime) or at.tzinfo is not None:
            raise TypeError(f"{value!r} is not a stored UTC instant")
        found = self[value] = at.replace(tzinfo=UTC)
        return found


class _Rendered(dict[object, Any]):
    """A datetime column's values as the driver takes them, rendered once per distinct value."""

    def __init__(self, render: Callable[[datetime], Any]) -> None:
        super().__init__()
        self._render = render

    def __missing__(self, value: object) -> Any:  # noqa: ANN401 - whatever the driver takes
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given where an aware time is required")
        found = self[value] = self._render(value.astimezone(UTC).replace(tzinfo=None))
        return found


def _converted(
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    render: Callable[[datetime], Any],
) -> list[tuple[Any, ...]]:
    """``rows`` with the values of the table's datetime columns rendered, column by column."""
    by_column = list(zip(*rows, strict=True))
    for i, name in enumerate(columns):
        if _is_datetime(table.c[name]):
            by_column[i] = tuple(map(_Rendered(render).__getitem__, by_column[i]))
    return list(zip(*by_column, strict=True))


def _is_datetime(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind.impl_instance if isinstance(kind, TypeDecorator) else kind, DateTime)


def _same(value: datetime) -> datetime:
    return value


def _sqlite_text(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME storage format, so the ORM reads these rows back unchanged
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    key: str,
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    marks = ", ".join("?" for _ in columns)
    statement = (  # identifiers from the table's own metadata, quoted; values are parameters
        f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({quote(key)}) DO NOTHING"
    )
    for start in range(0, len(rows), _CHUNK):
        chunk = _converted(table, columns, rows[start : start + _CHUNK], _sqlite_text)
        connection.exec_driver_sql(statement, chunk)


def _postgresql(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    key: str,
) -> None:
    # identifiers from the table's own metadata, quoted; values travel as COPY data
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    target, staging = quote(table.name), quote(f"_incoming_{table.name}")
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {target} WITH NO DATA"
        )
        # binary COPY, each value dumped for its column's type: the fastest way in
        types = _pg_types(cursor, table, columns)
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for start in range(0, len(rows), _CHUNK):
                for row in _converted(table, columns, rows[start : start + _CHUNK], _same):
                    copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {staging} "  # noqa: S608
            f"ON CONFLICT ({quote(key)}) DO NOTHING"
        )
        cursor.execute(f"DROP TABLE {staging}")
