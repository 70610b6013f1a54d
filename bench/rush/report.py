"""The rush report as Markdown: printed, and written to bench/results/rush-<time>/summary.md.

Every figure says which tool measured it: Locust (the simulated crowd, client-side times that
include Locust's own scheduling delay on a busy machine), bench/loadgen.py (queue throughput)
or the database and the SMS box (checks).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import analysis
import throughput

from kontingent.waiting_room.model import poll_after

if TYPE_CHECKING:
    from run import ModeResult

PEOPLE_FIRST_HOUR = 350_000
ADMITTED_STEPS = ("verify: send PIN", "verify: check PIN", "offers", "book")
AIM_QUEUE, AIM_BOOKINGS, AIM_P99_MS = 10_000, 1_000, 200


@dataclass
class Meta:
    args: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    seed_s: float
    total_s: float


def _f(x: float, digits: int = 0) -> str:
    return "–" if x != x else f"{x:,.{digits}f}"  # NaN shows as a dash


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def all_checks_zero(results: Sequence[ModeResult]) -> bool:
    return all(count == 0 for r in results for name, count in r.checks if "no client" not in name)


def render(meta: Meta, results: Sequence[ModeResult]) -> str:
    a = meta.args
    lines = [
        "# Rush benchmark",
        "",
        f"{a['users']:,} simulated people per run (Locust, one process), "
        f"{a['aggressive']:.0%} pressing reload, {a['couples']:.0%} couples, think times × "
        f"{a['think_scale']}, arrivals from {a['before_s']:.0f} s before the opening; admission "
        f"rate {a['admit_rate']:.0f}/s; availability cache {a['availability_ttl']:.0f} s; "
        f"{a['weeks']} week(s) of slots seeded in {meta.seed_s:.0f} "
        f"s; whole benchmark {meta.total_s:.0f} s. Load average before "
        f"{meta.load_before[0]:.1f}, after {meta.load_after[0]:.1f} (2 cores).",
        "",
    ]
    lines += _throughput(results)
    lines += _comparison(results)
    lines += _steps(results)
    lines += _fairness(results)
    lines += _errors(results)
    lines += _extrapolation(meta, results)
    return "\n".join(lines)


def _throughput(results: Sequence[ModeResult]) -> list[str]:
    rows = []
    for r in results:
        hello = next((m.result.rate for m in r.throughput if m.name == throughput.HELLO), None)
        for m in r.throughput:
            res = m.result
            statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(res.statuses.items()))
            rows.append(
                [
                    m.name,
                    f"**{_f(res.rate)}**",
                    _f(res.rate / hello, 3) if hello else "–",
                    f"{res.percentile(50):.1f} / {res.percentile(99):.1f}",
                    statuses + (f", broken: {res.errors}" if res.errors else ""),
                    _f(m.ms_per_request("service"), 3),
                    _f(m.ms_per_request("redis"), 3),
                    ", ".join(f"{k} {v:.2f}" for k, v in m.cpu.items()),
                ]
            )
    if not rows:
        return []
    head = ["phase (bench/loadgen.py)", "per second", "÷ hello world", "p50 / p99 ms", "answers"]
    head += ["service CPU ms/req", "Redis CPU ms/req", "cores used"]
    return ["## Queue throughput (bench/loadgen.py, waiting room on)", "", *_table(head, rows)]


def _booked_times(r: ModeResult) -> list[float]:
    return [p["booked_at"] for p in r.people if p.get("booked_at")]


def _comparison(results: Sequence[ModeResult]) -> list[str]:
    rows: list[list[str]] = []

    def row(name: str, values: Sequence[str]) -> None:
        rows.append([name, *values])

    row("people who booked", [f"{len(_booked_times(r)):,} of {len(r.people):,}" for r in results])
    rates = [analysis.per_second(_booked_times(r)) for r in results]
    row(
        "bookings/s: mean over the booking span / busiest second",
        [f"{m:.0f} / {p:.0f}" for m, p in rates],
    )
    admitted = [[p["admitted_at"] for p in r.people if p.get("admitted_at")] for r in results]
    row("people admitted/s: mean / busiest second", [
        "–" if not t else "{:.0f} / {:.0f}".format(*analysis.per_second(t)) for t in admitted
    ])  # fmt: skip
    row("median s from opening to booking", [_median_to_booking(r) for r in results])
    row("p99 s from opening to booking", [_pct_to_booking(r, 99) for r in results])
    for group in ("aggressive reloaders", "patient people"):
        row(f"early {group}: booked share / median s to booking", [
            _clicker(analysis.clicker_advantage(r.people, r.opening)[group]) for r in results
        ])  # fmt: skip
    row("outcomes", ["; ".join(f"{k} {v:,}" for k, v in _outcomes(r)) for r in results])
    row("PIN SMS delay p50 / p99 s", [_pin_delay(r) for r in results])
    row("outbox left undelivered after the drain wait", [f"{r.outbox_left:,}" for r in results])
    row(
        "booking SMS delivered to the SMS box",
        [f"{r.sms.get('booking_texts', 0):,}" for r in results],
    )
    for i, (name, _) in enumerate(results[0].checks):
        row(f"**{name}**", [f"**{r.checks[i][1]}**" for r in results])
    if any(r.dashboard for r in results):
        row("dashboard polls during the crowd: answered / failed / median / p99 ms", [
            "–" if not r.dashboard else "{polls:.0f} / {failed:.0f} / {median_ms:.0f} / "
            "{p99_ms:.0f}".format(**r.dashboard)
            for r in results
        ])  # fmt: skip
    row(
        "cores used during the run",
        [", ".join(f"{k} {v:.2f}" for k, v in r.cpu.items()) for r in results],
    )
    head = ["Locust crowd, client-side", *(r.mode for r in results)]
    return ["## The rush, with and without the waiting room", "", *_table(head, rows)]


def _outcomes(r: ModeResult) -> list[tuple[str, int]]:
    return Counter(p["outcome"] for p in r.people).most_common()


def _to_booking(r: ModeResult) -> list[float]:
    return [p["booked_at"] - r.opening for p in r.people if p.get("booked_at")]


def _median_to_booking(r: ModeResult) -> str:
    values = _to_booking(r)
    return _f(statistics.median(values), 1) if values else "–"


def _pct_to_booking(r: ModeResult, p: float) -> str:
    return _f(analysis.percentile(_to_booking(r), p), 1)


def _clicker(stats: dict[str, float]) -> str:
    median = _f(stats["median s to booking"], 1)
    return f"{stats['booked share']:.0%} / {median} s ({stats['people']:.0f})"


def _pin_delay(r: ModeResult) -> str:
    delays = [p["pin_delay_s"] for p in r.people if p.get("pin_delay_s") is not None]
    return f"{_f(analysis.percentile(delays, 50), 2)} / {_f(analysis.percentile(delays, 99), 2)}"


def _steps(results: Sequence[ModeResult]) -> list[str]:
    names = [s["Name"] for s in results[0].steps]
    rows = []
    for name in names:
        cells = [name + (" (admitted step)" if name in ADMITTED_STEPS else "")]
        for r in results:
            s = next((x for x in r.steps if x["Name"] == name), None)
            if s is None:
                cells.append("–")
                continue
            cells.append(
                f"{int(s['Request Count']):,} req, {int(s['Failure Count']):,} failed, "
                f"p50 {s['50%']} / p99 **{s['99%']}** ms"
            )
        rows.append(cells)
    head = ["step (Locust, client-side ms)", *(r.mode for r in results)]
    note = (
        "Locust's times include its own scheduling delay: one Python process shares the two "
        "cores with the service, PostgreSQL and Redis. 'failed' counts timeouts, 5xx, 429 and "
        "unexpected 4xx; a 409 slot_taken (fresh offers given) and a 404 from the SMS box "
        "(PIN not there yet) are expected answers."
    )
    return ["## Each step", "", note, "", *_table(head, rows)]


def _fairness(results: Sequence[ModeResult]) -> list[str]:
    on = next((r for r in results if r.mode == "waiting room on"), None)
    if on is None:
        return []
    lines = ["## Fairness of the admission order (waiting room on)", ""]
    for label, key in (
        ("the ticket's score, by which the store admits", "score"),
        ("position when first seen after the opening", "open_position"),
        ("time admission was seen by the client", "admitted_at"),
    ):
        groups, straddled = analysis.fairness(on.people, on.opening, lambda p, k=key: p.get(k))
        rows = [[g.group, g.people, _f(g.spearman, 3), _f(g.kendall, 3)] for g in groups]
        lines += [
            f"Admission order = {label}; {straddled} joins in flight at the opening left out.",
            "",
        ]
        lines += _table(["arrival order vs admission order", "people", "Spearman", "Kendall"], rows)
    return lines


def _errors(results: Sequence[ModeResult]) -> list[str]:
    lines = ["## Errors and refusals by kind (Locust, step | status code)", ""]
    for r in results:
        rows = [[k, f"{v:,}"] for k, v in Counter(r.kinds).most_common(15)]
        lines += [f"{r.mode}:", "", *_table(["kind", "count"], rows or [["none", "0"]])]
    return lines


def _extrapolation(meta: Meta, results: Sequence[ModeResult]) -> list[str]:
    on = next((r for r in results if r.mode == "waiting room on"), None)
    if on is None or not _booked_times(on):
        return []
    booked = len(_booked_times(on))
    per_person = {k: 1000 * v * on.seconds / booked for k, v in on.cpu.items()}
    joins = next((m for m in on.throughput if m.name == "queue joins"), None)
    polls = next((m for m in on.throughput if m.name == "queue polls"), None)
    lines = ["## Extrapolation to 350,000 people in the first hour", ""]
    lines.append(
        "CPU per booked person over the whole waiting-room run (join, polls, PIN, offers, "
        "booking, relay; an upper bound: work spent on requests whose clients gave up, and on "
        "logging their errors, counts too): "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in per_person.items() if k != "machine")
        + "."
    )
    if joins and polls:
        lines.append(
            f"Queue: {joins.ms_per_request('service'):.3f} ms service + "
            f"{joins.ms_per_request('redis'):.3f} ms Redis per join, "
            f"{polls.ms_per_request('service'):.3f} + {polls.ms_per_request('redis'):.3f} ms per "
            "poll (bench/loadgen.py phases)."
        )
    lines.append("")
    return lines + sizing(per_person, joins, polls)


def sizing(per_person: dict[str, float], joins: Any, polls: Any) -> list[str]:
    """Cores for an admission rate A, plus the queue traffic of those still waiting."""
    waiting, peak_joins = 300_000, 1_500
    rows = []
    for rate in (PEOPLE_FIRST_HOUR / 3600, 200.0, 500.0):
        polls_per_s = polls_of(waiting, rate)
        service = rate * per_person.get("service", 0) / 1000
        database = rate * per_person.get("postgres", 0) / 1000
        redis = rate * per_person.get("redis", 0) / 1000
        if joins and polls:
            queue_rps = polls_per_s
            service += queue_rps * polls.ms_per_request("service") / 1000
            service += peak_joins * joins.ms_per_request("service") / 1000
            redis += queue_rps * polls.ms_per_request("redis") / 1000
            redis += peak_joins * joins.ms_per_request("redis") / 1000
        minutes = PEOPLE_FIRST_HOUR / rate / 60
        rows.append(
            [
                f"{rate:.0f}/s",
                f"{minutes:.0f} min",
                f"{polls_per_s:,.0f}",
                f"{service:.1f}",
                f"{database:.1f}",
                f"{redis:.1f}",
                f"{max(1, int(service / 1.6 + 0.999))} × 2-core",
            ]
        )
    head = ["admitted people/s", "all 350,000 through in", "polls/s", "service cores"]
    head += ["PostgreSQL cores"]
    head += ["Redis cores", "service hosts (80% busy)"]
    note = (
        f"Assumed: {waiting:,} people waiting at the peak, each polling as the room's "
        f"`poll_after` tells them (summed over their places in line); {peak_joins:,} joins/s "
        "in the opening minute. PostgreSQL is one primary: its cores must fit one host."
    )
    return [*_table(head, rows), note, ""]


def polls_of(waiting: int, rate: float) -> float:
    """Polls per second of `waiting` people who each come back after `poll_after`."""
    middle = _NoJitter()
    return sum(1 / poll_after(rank, rate, 0.0, middle) for rank in range(waiting))


class _NoJitter:
    """The middle of poll_after's +-20% jitter."""

    def uniform(self, low: float, high: float) -> float:
        return (low + high) / 2
