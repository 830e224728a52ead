"""The ports services depend on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from types import TracebackType

    from db.repositories import (
        AssignmentRepository,
        AuditRepository,
        CalendarRepository,
        RosterRepository,
    )


class UnitOfWork(Protocol):
    roster: RosterRepository
    calendar: CalendarRepository
    assignments: AssignmentRepository
    audit: AuditRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def flush(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
