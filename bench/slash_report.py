"""What ``bench/slash.py`` found, printed: the acknowledgements against the target (and against
the floor: an empty app under the same server, with the same clients), the app process's own
measures and profiles, the replies, and the submissions in the database."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.reminders import _ok, _table, console
from bots.slack.replies import phrase
from core.model import Language

if TYPE_CHECKING:
    from collections.abc import Sequence

TARGET_P99_MS, SLACK_LIMIT_S = 150.0, 3.0


@dataclass(frozen=True)
class Options:
    clients: int
    requests: int
    warmup: int
    submissions: int
    mix: float  # share of submits
    think: float  # seconds between one client's requests
    pace: str  # ack: the next request once this one is answered; reply: once replied to
    floor: bool  # measure an empty app first
    tuning: dict[str, float]  # the app process's; see slash_app.serve_app


@dataclass(frozen=True)
class Sent:
    kind: str  # submit, deadlines
    handle: str
    code: str | None
    url: str  # its response URL
    at: float  # wall clock when sent
    status: int  # 0: no answer
    elapsed: float
    measured: bool


@dataclass
class Result:
    backend: str
    sizes: dict[str, str]
    sent: list[Sent]
    seconds: float  # the measured phase
    probe: dict[str, Any]  # the app process's own measures (slash_app.Probe)
    replies: dict[str, Any]
    stored: dict[str, int]
    floor: list[Sent] = field(default_factory=list)  # the empty app's acknowledgements


def failure_texts() -> set[str]:
    """The replies that tell the person nothing was recorded."""
    return {phrase(k, lang.value) for k in ("failed", "database_down") for lang in Language}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ms(values: Sequence[float]) -> list[str]:
    return [f"{percentile(values, q) * 1000:.1f}" for q in (0.5, 0.95, 0.99, 1.0)]


def print_result(r: Result, options: Options) -> None:
    sizes = _table(f"{r.backend}: stored", "what", "count")
    for what, value in r.sizes.items():
        sizes.add_row(what, value)
    console.print(sizes)
    measured = [s for s in r.sent if s.measured]
    rate = len(measured) / r.seconds if r.seconds else float("nan")
    table = _table(
        f"{r.backend}: acknowledgements, {options.clients} clients, {len(measured):,} requests "
        f"in {r.seconds:.1f} s ({rate:.0f}/s), ms",
        "requests", "n", "p50", "p95", "p99", "max", "> 3 s", "not 200",
        f"p99 <= {TARGET_P99_MS:g}",
    )  # fmt: skip
    for name, group in (
        ("all", measured),
        ("/focal submit", [s for s in measured if s.kind == "submit"]),
        ("/focal deadlines", [s for s in measured if s.kind == "deadlines"]),
    ):
        if not group:
            continue
        elapsed = [s.elapsed for s in group]
        slow = sum(e > SLACK_LIMIT_S for e in elapsed)
        bad = sum(s.status != 200 for s in group)  # noqa: PLR2004
        ok = percentile(elapsed, 0.99) * 1000 <= TARGET_P99_MS and not slow
        table.add_row(
            name, f"{len(group):,}", *_ms(elapsed), str(slow),
            f"{bad / max(1, len(group)):.1%}", _ok(ok),
        )  # fmt: skip
    floor = [s.elapsed for s in r.floor if s.measured]
    if floor:
        table.add_row("the floor: an empty app, same server", f"{len(floor):,}", *_ms(floor))
    server, lag = r.probe["server"], r.probe["lag"]
    table.add_row("in the app: ASGI call to answer", f"{len(server):,}", *_ms(server))
    table.add_row("in the app: event loop late to wake", f"{len(lag):,}", *_ms(lag))
    console.print(table)
    if floor:
        p99 = percentile([s.elapsed for s in measured], 0.99)
        console.print(
            f"  p99 against the floor's: {p99 / percentile(floor, 0.99):.2f}x "
            f"({p99 * 1000:.1f} / {percentile(floor, 0.99) * 1000:.1f} ms; the floor is what "
            f"the machine, uvicorn and the clients cost before Focal does anything)",
            markup=False,
        )
    cpu, n = r.probe["cpu"], len(server)
    console.print(
        f"  CPU in the app process while sending: event loop's thread {cpu['loop']:.2f} s "
        f"({cpu['loop'] / max(1, n) * 1000:.2f} ms a request), whole process "
        f"{cpu['process']:.2f} s, in {cpu['wall']:.2f} s",
        markup=False,
    )
    depth = r.probe["backlog"]
    if depth:
        console.print(
            f"  acknowledged, not yet done (the bot's backlog) while sending: "
            f"median {percentile(depth, 0.5):,.0f}, max {max(depth):,}",
            markup=False,
        )
    print_app(r)
    print_replies(r)
    s = r.stored
    stored = _table(f"{r.backend}: submissions in the database after", "what", "count", "ok")
    stored.add_row("submits sent / acknowledged", f"{s['submits sent']} / {s['acknowledged']}")
    stored.add_row("  replied 'nothing was recorded'", str(s["told nothing was recorded"]))
    stored.add_row("  no reply", str(s["no reply"]), _ok(not s["no reply"]))
    stored.add_row("  receipts", str(s["receipts"]))
    stored.add_row("new rows (= receipts)", str(s["new rows"]), _ok(s["new rows"] == s["receipts"]))
    for what in ("assignments with a gap or extra", "receipts not naming a new version"):
        stored.add_row(what, str(s[what]), _ok(s[what] == 0))
    console.print(stored)


def print_app(r: Result) -> None:
    """Where the app process's time went: the collector's pauses, the services' calls."""
    table = _table(
        f"{r.backend}: in the app process, from the measured phase until the last reply, ms",
        "what", "n", "p50", "p95", "p99", "max", "total, s",
    )  # fmt: skip
    for key, when in (("gc", "while sending"), ("gc_all", "until the last reply")):
        for generation in (0, 1, 2):
            pauses = [s for g, s in r.probe[key] if g == generation]
            table.add_row(f"GC pauses, generation {generation}, {when}", f"{len(pauses):,}",
                          *_ms(pauses), f"{sum(pauses):.2f}")  # fmt: skip
    calls = sorted(r.probe["calls"].items(), key=lambda item: -sum(item[1]))
    for name, seconds in calls:
        table.add_row(f"service call: {name}", f"{len(seconds):,}", *_ms(seconds),
                      f"{sum(seconds):.2f}")  # fmt: skip
    console.print(table)
    for what, n in r.probe["raised"].items():
        console.print(f"  raised {n}x in a service call: {what}", markup=False)
    for where, text in r.probe["profiles"].items():
        console.print(f"{r.backend}: cProfile of the {where}, measured phase", markup=False)
        console.print(text, markup=False, highlight=False)


def print_replies(r: Result) -> None:
    sent_at = {s.url: s.at for s in r.sent if s.status == 200}  # noqa: PLR2004
    first: dict[str, float] = {}
    for url, at, _ in r.replies["accepted"]:
        first.setdefault(url, at)
    failed = failure_texts()
    measured = {s.url for s in r.sent if s.measured}
    times = [first[u] - sent_at[u] for u in sent_at if u in first and u in measured]
    table = _table(f"{r.backend}: replies at the response URLs", "what", "value", "ok")
    got = sum(u in first for u in sent_at)
    table.add_row("expected / received", f"{len(sent_at):,} / {got:,}", _ok(got == len(sent_at)))
    refused = len(r.replies["refused"])
    table.add_row("refused by the stand-in", str(refused), _ok(not refused))
    errors = sum(text in failed for _, _, text in r.replies["accepted"])
    table.add_row("'something went wrong' / 'database down'", str(errors), _ok(not errors))
    table.add_row(
        "reply time p50 / p99 / max, s",
        " / ".join(f"{percentile(times, q):.2f}" for q in (0.5, 0.99, 1.0)),
    )
    last_answer = max((s.at + s.elapsed for s in r.sent), default=float("nan"))
    last_reply = max(first.values(), default=float("nan"))
    table.add_row("last reply, s after the last answer", f"{last_reply - last_answer:.1f}")
    table.add_row("stand-in calls", str(r.replies["calls"]))
    violations = r.replies["violations"]
    table.add_row("stand-in violations", str(len(violations)), _ok(not violations))
    console.print(table)
    for v in violations:
        console.print(f"  {v}", markup=False)
