"""A parsed configuration file as the core sees it: maps, lists and text, each with its line.

The edge turns YAML into these nodes (every scalar stays text, so ``NO`` is Norway, not
false); the core validates them and reports every problem as ``FILE:LINE: field: reason``.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import enum
    from collections.abc import Iterable, Mapping

E = TypeVar("E", bound="enum.Enum")


@dataclass(frozen=True, slots=True)
class Scalar:
    value: str | None
    line: int


@dataclass(frozen=True, slots=True)
class MapNode:
    entries: Mapping[str, Node]
    key_lines: Mapping[str, int]
    line: int


@dataclass(frozen=True, slots=True)
class SeqNode:
    items: tuple[Node, ...]
    line: int


Node = Scalar | MapNode | SeqNode


@dataclass(frozen=True, slots=True, order=True)
class LoadError:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class LoadErrors(Exception):  # noqa: N818 - a collection of LoadError, named for what it holds
    """Raised with every problem found; nothing has been written."""

    def __init__(self, errors: Iterable[LoadError]) -> None:
        self.errors = tuple(sorted(set(errors)))
        super().__init__("\n".join(str(e) for e in self.errors))


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def suggest(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean X?)`` when a close match exists."""
    by_fold = {c.casefold(): c for c in choices}
    match = difflib.get_close_matches(value.casefold(), list(by_fold), n=1, cutoff=0.6)
    return f" (did you mean {by_fold[match[0]]}?)" if match else ""


def is_timezone(name: str) -> bool:
    return name in _zones()


@dataclass
class Reader:
    """Reads fields of one file, collecting errors instead of stopping at the first."""

    file: str
    errors: list[LoadError] = field(default_factory=list)

    def error(self, line: int, name: str, reason: str) -> None:
        self.errors.append(LoadError(self.file, line, name, reason))

    def mapping(self, node: Node, name: str, allowed: Iterable[str]) -> MapNode | None:
        if not isinstance(node, MapNode):
            self.error(node.line, name, "expected a mapping of fields")
            return None
        allowed = tuple(allowed)
        for key in node.entries:
            if key not in allowed:
                self.error(node.key_lines[key], key, f"unknown field{suggest(key, allowed)}")
        return node

    def sequence(self, node: Node | None, name: str) -> tuple[Node, ...]:
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return ()
        if isinstance(node, SeqNode):
            return node.items
        self.error(node.line, name, "expected a list")
        return ()

    def text(
        self,
        m: MapNode,
        key: str,
        *,
        required: bool = True,
        pattern: str | None = None,
        hint: str = "",
        max_length: int = 500,
    ) -> str | None:
        node = m.entries.get(key)
        if node is None or (
            isinstance(node, Scalar) and (node.value is None or not node.value.strip())
        ):
            if required:
                self.error(node.line if node else m.line, key, "is required")
            return None
        if not isinstance(node, Scalar):
            self.error(node.line, key, "expected a single value")
            return None
        value = (node.value or "").strip()
        if len(value) > max_length:
            self.error(node.line, key, f"longer than {max_length} characters")
            return None
        if pattern and not re.fullmatch(pattern, value):
            self.error(node.line, key, f"{value!r} is not valid{hint}")
            return None
        return value

    def choice(self, m: MapNode, key: str, kind: type[E], *, default: E | None = None) -> E | None:
        value = self.text(m, key, required=default is None)
        if value is None:
            return default
        try:
            return kind(value.lower())
        except ValueError:
            names = [str(member.value) for member in kind]
            self.error(
                self.line(m, key),
                key,
                f"{value!r} is not one of {', '.join(names)}{suggest(value, names)}",
            )
            return None

    def timezone(self, m: MapNode, key: str, *, required: bool = True) -> str | None:
        value = self.text(m, key, required=required)
        if value is not None and not is_timezone(value):
            self.error(
                self.line(m, key),
                key,
                f"unknown timezone {value!r}{suggest(value, _zones())}; use an IANA name "
                "such as Asia/Ho_Chi_Minh",
            )
            return None
        return value

    def translations(self, m: MapNode, key: str) -> dict[str, str]:
        node = m.entries.get(key)
        if node is None:
            return {}
        if not isinstance(node, MapNode):
            self.error(node.line, key, "expected language: text pairs, e.g. {vi: ...}")
            return {}
        out: dict[str, str] = {}
        for language, value in node.entries.items():
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", language):
                self.error(node.key_lines[language], f"{key}.{language}", "not a language code")
            elif not isinstance(value, Scalar) or not value.value or not value.value.strip():
                self.error(value.line, f"{key}.{language}", "expected a non-empty title")
            else:
                out[language] = value.value.strip()
        return out

    def codes(self, m: MapNode, key: str) -> list[tuple[str, int]]:
        """Codes or handles, each with its line; a single code counts as a list of one."""
        node = m.entries.get(key)
        if isinstance(node, Scalar) and node.value and node.value.strip():
            return [(node.value.strip(), node.line)]
        out: list[tuple[str, int]] = []
        for item in self.sequence(node, key):
            if isinstance(item, Scalar) and item.value and item.value.strip():
                out.append((item.value.strip(), item.line))
            else:
                self.error(item.line, key, "expected a code")
        return out

    @staticmethod
    def line(m: MapNode, key: str) -> int:
        node = m.entries.get(key)
        return node.line if node is not None else m.line
