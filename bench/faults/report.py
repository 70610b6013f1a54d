"""What one scenario showed, and the table of all of them (rich on the terminal, Markdown in
bench/results/faults-<time>/summary.md).

Every figure says where it comes from: the clients' ledger (bookings confirmed, errors by
status, recovery), the database (invariants, PIN delays from the outbox's own times), the
receivers (messages by id) or the service's log (errors logged).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from checks import Channel, Findings
from driver import Ledger
from rich.console import Console
from rich.table import Table


@dataclass
class Outcome:
    name: str
    what: str
    load_from: float  # Unix times
    fault_at: float
    fault_end: float
    load_to: float
    ledger: Ledger
    findings: Findings
    pin_delays: list[tuple[float, float]]  # (queued at, sent at) of every PIN text sent
    room_probe: str  # what a booking-path request without admission got afterwards
    logged_errors: int
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def recovery_s(self) -> float | None:
        """From the fault's end to the first booking confirmed to a request sent after it
        (a request in flight on a worker that dies a moment later shows nothing)."""
        after = [c.at for c in self.ledger.confirmed if c.sent >= self.fault_end]
        return min(after) - self.fault_end if after else None

    @property
    def longest_gap_s(self) -> float:
        """The longest time without a confirmed booking while the load ran."""
        times = sorted([self.load_from, *(c.at for c in self.ledger.confirmed), self.load_to])
        return max(b - a for a, b in itertools.pairwise(times))

    def errors(self) -> Counter[str]:
        return Counter(f"{e.status or 'no answer'} {e.code}".strip() for e in self.ledger.events)

    def pins_late(self) -> tuple[float, float, float]:
        """PIN texts: median and longest seconds from queued to sent, and the longest wait
        after the fault's end of any PIN queued before it (how soon the backlog went out)."""
        delays = [sent - queued for queued, sent in self.pin_delays]
        end = self.fault_end
        backlog = [max(0.0, sent - end) for queued, sent in self.pin_delays if queued < end]
        if not delays:
            return float("nan"), float("nan"), float("nan")
        return statistics.median(delays), max(delays), max(backlog, default=0.0)


@dataclass(frozen=True)
class Broken:
    """A scenario the harness could not finish (its error), so nothing was measured."""

    name: str
    what: str
    error: str


Row = Outcome | Broken


def held(r: Row) -> bool:
    """Whether the invariants held (a broken scenario proves nothing)."""
    return isinstance(r, Outcome) and r.findings.invariants_hold


def _s(x: float | None) -> str:
    return "never" if x is None else ("–" if x != x else f"{x:.1f}")


def _errors(outcome: Outcome, top: int = 4) -> str:
    counts = outcome.errors()
    if not counts:
        return "none"
    shown = [f"{n}× {kind}" for kind, n in counts.most_common(top)]
    rest = sum(counts.values()) - sum(n for _, n in counts.most_common(top))
    return ", ".join(shown) + (f", {rest} more" if rest else "")


def _booked(o: Outcome) -> str:
    refused = f" ({o.findings.replays_refused} refused)" if o.findings.replays_refused else ""
    return (
        f"{len(o.ledger.confirmed)} ({o.findings.stored} stored, {o.ledger.replays} replayed"
        f"{refused}, {o.ledger.gave_up} gave up)"
    )


def _invariants(f: Findings) -> str:
    """The SQL checks; messages have columns of their own."""
    broken = [
        (f.over_capacity, "over capacity"),
        (f.seat_drift, "seat drift"),
        (f.missing, "confirmed but missing"),
        (f.half, "half"),
        (f.double_booked, "double"),
    ]
    text = ", ".join(f"{n} {what}" for n, what in broken if n)
    return text or "hold"


def _channel(c: Channel) -> str:
    late = c.waiting + c.unrecorded
    text = f"{c.lost} lost, {c.duplicated} dup, {late} late"
    if c.duplicated > c.in_flight:
        text += f" (dup beyond the {c.in_flight} in flight)"
    if c.parked:
        text += f", {c.parked} parked"
    if c.unknown:
        text += f", {c.unknown} unknown"
    return f"{text} / {c.queued}"


HEAD = (
    "scenario",
    "booked",
    "client-visible errors (by status)",
    "recovery s",
    "longest gap s",
    "invariants",
    "SMS",
    "e-mail",
    "PIN s p50/max/after",
    "room after",
    "errors logged",
    "notes",
)


def row(o: Row) -> list[str]:
    if isinstance(o, Broken):
        return [o.name, "–", f"harness error: {o.error}", *["–"] * (len(HEAD) - 3)]
    p50, worst, after = o.pins_late()
    notes = "; ".join(f"{k}: {v}" for k, v in o.notes.items())
    return [
        o.name,
        _booked(o),
        _errors(o),
        _s(o.recovery_s),
        _s(o.longest_gap_s),
        _invariants(o.findings),
        _channel(o.findings.sms),
        _channel(o.findings.mail),
        f"{_s(p50)} / {_s(worst)} / {_s(after)}",
        o.room_probe,
        str(o.logged_errors),
        notes,
    ]


def print_table(outcomes: Sequence[Row]) -> None:
    table = Table(*HEAD, title="Fault suite: one row per scenario", show_lines=True)
    for o in outcomes:
        table.add_row(*row(o))
    Console(width=220).print(table)


def markdown(outcomes: Sequence[Row], meta: dict[str, Any]) -> str:
    lines = ["# Fault suite", "", *(f"- {k}: {v}" for k, v in meta.items()), ""]
    lines += ["| " + " | ".join(HEAD) + " |", "|" + " --- |" * len(HEAD)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row(o)) + " |" for o in outcomes]
    lines += ["", "Scenarios:", ""]
    lines += [f"- **{o.name}**: {o.what}" for o in outcomes]
    return "\n".join(lines) + "\n"
