"""What a load changes: desired values from the files against what the store holds."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

T = TypeVar("T")


class Action(enum.StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    RESTORED = "restored"  # back in a file after being pruned
    UNCHANGED = "unchanged"
    MISSING = "missing"  # gone from its file; kept until --prune
    REMOVED = "removed"  # pruned


@dataclass(frozen=True, slots=True)
class Stored(Generic[T]):
    """A value as the store holds it, with the file it came from."""

    value: T
    source: str | None = None
    removed: bool = False


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    def as_json(self) -> list[Any]:
        return [plain(self.old), plain(self.new)]


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    key: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    note: str | None = None

    @property
    def writes(self) -> bool:
        return self.action not in {Action.UNCHANGED, Action.MISSING}

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.field: f.as_json() for f in self.fields}
        if self.note:
            out["note"] = self.note
        return out


def plain(value: Any) -> Any:  # noqa: ANN401, PLR0911 - a dispatch on the value's type
    """A JSON-friendly rendering of a field value (for the audit log and reports)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def field_changes(old: Any, new: Any) -> tuple[FieldChange, ...]:  # noqa: ANN401
    """The fields of two dataclass values of one type that differ."""
    changes = []
    for f in dataclasses.fields(new):
        before, after = getattr(old, f.name), getattr(new, f.name)
        if before != after:
            changes.append(FieldChange(f.name, before, after))
    return tuple(changes)


def diff(
    entity: str,
    desired: Mapping[str, tuple[T, str]],
    current: Mapping[str, Stored[T]],
    *,
    loaded_sources: Collection[str],
    prune: bool,
) -> list[Change]:
    """Compare ``desired`` (key -> (value, source file)) against ``current``.

    Items of ``current`` that came from one of ``loaded_sources`` and are absent from
    ``desired`` are MISSING, or REMOVED when ``prune``.
    """
    changes: list[Change] = []
    for key, (value, source) in desired.items():
        stored = current.get(key)
        if stored is None:
            changes.append(Change(entity, key, Action.ADDED))
            continue
        fields = field_changes(stored.value, value)
        if stored.source != source:
            fields += (FieldChange("source", stored.source, source),)
        if stored.removed:
            changes.append(Change(entity, key, Action.RESTORED, fields))
        elif fields:
            changes.append(Change(entity, key, Action.CHANGED, fields))
        else:
            changes.append(Change(entity, key, Action.UNCHANGED))
    for key, stored in current.items():
        if key in desired or stored.removed or stored.source not in loaded_sources:
            continue
        changes.append(Change(entity, key, Action.REMOVED if prune else Action.MISSING))
    return changes
