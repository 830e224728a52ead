"""The ``/focal`` command text (SPEC.md, "Slack"), parsed. Pure.

``parse_command(text)`` never raises for any text: it returns a command or a
``CommandError`` saying what was wrong and what to type instead. Wording and language are
the Slack edge's; the error carries a reason and its details.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from core.config_files import CODE
from core.source import suggest

#: The longest input text accepted in one submission, in characters (after trimming).
MAX_TEXT = 40_000
#: The longest "not applicable" reason.
MAX_REASON = 2_000

SUBCOMMANDS = ("help", "deadlines", "submit", "status", "na", "calendar")
_CODE = re.compile(CODE)
_ALIASES = {"?": "help", "list": "deadlines", "n/a": "na", "feed": "calendar"}


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class ListDeadlines:
    pass


@dataclass(frozen=True, slots=True)
class Submit:
    """``submit`` (modal), ``submit CODE`` (modal for CODE) or ``submit CODE TEXT`` (direct)."""

    code: str | None = None
    text: str | None = None

    @property
    def opens_modal(self) -> bool:
        return self.text is None


@dataclass(frozen=True, slots=True)
class Status:
    code: str


@dataclass(frozen=True, slots=True)
class NotApplicable:
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Calendar:
    reset: bool = False


Command = Help | ListDeadlines | Submit | Status | NotApplicable | Calendar


class Problem(enum.StrEnum):
    UNKNOWN_SUBCOMMAND = "unknown-subcommand"
    MISSING_CODE = "missing-code"
    BAD_CODE = "bad-code"
    MISSING_REASON = "missing-reason"
    TEXT_TOO_LONG = "text-too-long"
    REASON_TOO_LONG = "reason-too-long"
    UNEXPECTED = "unexpected"  # words after a command that takes none


@dataclass(frozen=True, slots=True)
class CommandError:
    problem: Problem
    subcommand: str = ""
    detail: str = ""  # the offending word, a suggestion, or a length


def _normalise(text: str) -> str:
    """NFC, no control characters but newlines and tabs, trimmed."""
    text = unicodedata.normalize("NFC", text)
    kept = (c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return "".join(kept).strip()


def _split(text: str) -> tuple[str, str]:
    """The first word and the rest, the rest keeping its inner line breaks."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _code(word: str, subcommand: str) -> str | CommandError:
    if not word:
        return CommandError(Problem.MISSING_CODE, subcommand)
    if _CODE.fullmatch(word) is None:
        return CommandError(Problem.BAD_CODE, subcommand, word[:80])
    return word


def _no_arguments(name: str, rest: str, command: Command) -> Command | CommandError:
    return command if not rest else CommandError(Problem.UNEXPECTED, name, rest[:80])


def _calendar(rest: str) -> Command | CommandError:
    if rest.casefold() == "reset":
        return Calendar(reset=True)
    return _no_arguments("calendar", rest, Calendar())


def _submit(rest: str) -> Command | CommandError:
    code_word, body = _split(rest)
    if not code_word:
        return Submit()
    code = _code(code_word, "submit")
    if isinstance(code, CommandError):
        return code
    if len(body) > MAX_TEXT:
        return CommandError(Problem.TEXT_TOO_LONG, "submit", str(len(body)))
    return Submit(code, body or None)


def _status(rest: str) -> Command | CommandError:
    code_word, body = _split(rest)
    code = _code(code_word, "status")
    if isinstance(code, CommandError):
        return code
    return _no_arguments("status", body, Status(code))


def _not_applicable(rest: str) -> Command | CommandError:
    code_word, reason = _split(rest)
    code = _code(code_word, "na")
    if isinstance(code, CommandError):
        return code
    if not reason:
        return CommandError(Problem.MISSING_REASON, "na", code)
    if len(reason) > MAX_REASON:
        return CommandError(Problem.REASON_TOO_LONG, "na", str(len(reason)))
    return NotApplicable(code, reason)


_PARSERS = {
    "help": lambda _rest: Help(),  # "help submit" is help too
    "deadlines": lambda rest: _no_arguments("deadlines", rest, ListDeadlines()),
    "calendar": _calendar,
    "submit": _submit,
    "status": _status,
    "na": _not_applicable,
}


def parse_command(text: str) -> Command | CommandError:
    """Parse what follows ``/focal``; an empty text is ``help``."""
    word, rest = _split(_normalise(text))
    name = _ALIASES.get(word.casefold(), word.casefold()) or "help"
    parser = _PARSERS.get(name)
    if parser is None:
        return CommandError(Problem.UNKNOWN_SUBCOMMAND, "", word[:80] + suggest(word, SUBCOMMANDS))
    return parser(rest)
