"""YAML files and text to the core's line-numbered tree (``core.source``).

Every scalar stays text (``NO`` is Norway, ``2026-09-22`` a string the core parses), empty
values and ``~``/``null`` become ``None``; duplicate keys and YAML syntax errors are
reported as ``LoadError``s with their line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from core.source import LoadError, MapNode, Node, Scalar, SeqNode

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

MAX_NODES = 200_000  # a calendar has hundreds; this stops alias bombs, not real files
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


class YamlSourceError(Exception):
    def __init__(self, errors: list[LoadError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def parse_yaml(text: str, file: str) -> Node:
    """Parse ``text``; raise ``YamlSourceError`` naming the line of any syntax error."""
    text = text.removeprefix("\ufeff")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = " ".join(filter(None, [exc.context, exc.problem]))
        raise YamlSourceError([LoadError(file, line, "yaml", reason or "not valid YAML")]) from exc
    except yaml.YAMLError as exc:
        raise YamlSourceError([LoadError(file, 1, "yaml", str(exc))]) from exc
    if root is None:
        return Scalar(None, 1)
    errors: list[LoadError] = []
    if _count_nodes(root) > MAX_NODES:
        raise YamlSourceError(
            [
                LoadError(
                    file,
                    1,
                    "yaml",
                    f"more than {MAX_NODES} values (aliases "
                    "expanding without end?); split the file",
                )
            ]
        )
    node = _convert(root, file, errors)
    if errors:
        raise YamlSourceError(errors)
    return node


def _count_nodes(root: yaml.Node) -> int:
    """Nodes as the tree would expand them, counting each alias again; stops past MAX_NODES."""
    count, stack = 0, [(root, frozenset[int]())]
    while stack and count <= MAX_NODES:
        node, path = stack.pop()
        count += 1
        if id(node) in path:
            continue  # a self-reference: _convert reports it
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, path | {id(node)}) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((value, path | {id(node)}) for _, value in node.value)
    return count


def _convert(
    node: yaml.Node, file: str, errors: list[LoadError], inside: frozenset[int] = frozenset()
) -> Node:
    line = node.start_mark.line + 1
    if id(node) in inside:  # an alias to a node that contains it: the tree would be infinite
        errors.append(LoadError(file, line, "yaml", "an alias (*) may not refer to its own parent"))
        return Scalar(None, line)
    inside |= {id(node)}
    if isinstance(node, yaml.ScalarNode):
        plain = node.style is None
        value = node.value
        return Scalar(None if plain and value in _NULLS else value, line)
    if isinstance(node, yaml.SequenceNode):
        return SeqNode(tuple(_convert(item, file, errors, inside) for item in node.value), line)
    if isinstance(node, yaml.MappingNode):
        entries: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(LoadError(file, key_line, "yaml", "a key must be plain text"))
                continue
            key = key_node.value
            if key == "<<":
                errors.append(
                    LoadError(file, key_line, "yaml", "merge keys (<<) are not supported")
                )
                continue
            if key in entries:
                errors.append(
                    LoadError(
                        file, key_line, key, f"duplicate key (first at line {key_lines[key]})"
                    )
                )
                continue
            entries[key] = _convert(value_node, file, errors, inside)
            key_lines[key] = key_line
        return MapNode(entries, key_lines, line)
    errors.append(LoadError(file, line, "yaml", "unsupported YAML node"))  # pragma: no cover
    return Scalar(None, line)


def read_documents(files: Sequence[Path]) -> tuple[list[tuple[str, Node]], list[LoadError]]:
    """Read and parse each YAML file, named by its resolved path; every unreadable file is an
    error (``FILE:0: file: reason``), not an exception."""
    documents: list[tuple[str, Node]] = []
    errors: list[LoadError] = []
    for path in files:
        name = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            errors.append(LoadError(name, 0, "file", "no such file"))
            continue
        except (IsADirectoryError, PermissionError) as exc:
            errors.append(LoadError(name, 0, "file", f"cannot be read ({exc.strerror})"))
            continue
        except UnicodeDecodeError as exc:
            errors.append(LoadError(name, 0, "file", f"is not UTF-8 text (byte {exc.start})"))
            continue
        try:
            documents.append((str(path.resolve()), parse_yaml(text, str(path.resolve()))))
        except YamlSourceError as exc:
            errors += exc.errors
    return documents, errors
