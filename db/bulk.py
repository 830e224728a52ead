"""Many rows in at once, a row already stored (same unique key) left as it is.

Planning can store a hundred thousand reminders in one go. Through SQLAlchemy's per-value
type processing that costs seconds: four datetimes a row each pass two Python calls. Here
the values are converted once per *distinct* value (a plan has a few hundred distinct
instants) and handed to the driver as they are: ``executemany`` on SQLite, ``COPY`` into a
temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` on PostgreSQL.
Other backends take SQLAlchemy's own path.

Every datetime given here must be aware; it is stored as naive UTC, like ``UTCDateTime``.
Column defaults set in Python are not applied: give a value for every NOT NULL column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy import Connection, Table

_SQLITE_CHUNK = 5_000  # rows per executemany: bounded memory for the converted rows


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


def _converter(render: Callable[[datetime], Any]) -> Callable[[Any], Any]:
    memo: dict[datetime, Any] = {}

    def convert(value: Any) -> Any:  # noqa: ANN401 - any column's value
        if not isinstance(value, datetime):
            return value
        found = memo.get(value)
        if found is None:
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"naive datetime {value!r} given where an aware time is required")
            found = memo[value] = render(value.astimezone(UTC).replace(tzinfo=None))
        return found

    return convert


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
    convert = _converter(_sqlite_text)
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    marks = ", ".join("?" for _ in columns)
    statement = (  # identifiers from the table's own metadata, quoted; values are parameters
        f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT ({quote(key)}) DO NOTHING"
    )
    for start in range(0, len(rows), _SQLITE_CHUNK):
        chunk = [tuple(map(convert, r)) for r in rows[start : start + _SQLITE_CHUNK]]
        connection.exec_driver_sql(statement, chunk)


def _postgresql(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    key: str,
) -> None:
    convert = _converter(lambda value: value)
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
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(map(convert, row)))
        cursor.execute(
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {staging} "  # noqa: S608
            f"ON CONFLICT ({quote(key)}) DO NOTHING"
        )
        cursor.execute(f"DROP TABLE {staging}")
