"""Bookings and their raw ceiling measured in alternating rounds, and their ratio per round.

Why rounds: on this shared 2-core machine the cores our phases get swing within a minute
(other people's test runs come and go). Bookings measured for 10 s and the raw ceiling for
8 s a few seconds later saw different machines: in one run the ceiling ran while a load
average of 8 left it 0.9 of a core, and bookings ÷ raw came out 0.65; in others 0.34 to 0.54.
Alternating short rounds (bookings, raw, bookings, raw, ...) gives both the same minutes, and
the ratio of each pair compares two measurements a couple of seconds apart; the spread of the
pairs' ratios says how steady the machine was.

Rounds still swing when other work comes and goes within seconds (in one run at a load
average of 9 the rounds' ratios went from 0.08 to 0.81). So each round also records the cores
that went to work not ours (the machine's busy time less service, PostgreSQL and load
generator), and a pair counts as quiet when both its rounds left less than `QUIET_CORES` to
others. The figure is the median of the quiet pairs when there are at least `MIN_QUIET` of
them, else of all pairs, and says which. The choice looks only at the other work, never at
the ratio. (PostgreSQL's CPU is every PostgreSQL process's: other people's tests on the same
server count as ours, so a quiet pair is also one in which they did not.)

Beside it, the ratio of CPU per booking over all rounds together: what one raw booking costs
the machine (PostgreSQL and its client) ÷ what one booking through the service costs (service,
PostgreSQL, load generator). On a machine whose cores are all busy this is what the rates'
ratio tends to. Per round it is too coarse to use: /proc counts CPU in 10 ms ticks, per
process, and a round reads some 40 PostgreSQL processes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from statistics import median

from loadgen import LoadResult

QUIET_CORES = 0.25
MIN_QUIET = 3
SERVICE_PATH = ("service", "postgres", "load generator")
RAW_PATH = ("postgres", "load generator")


def rounds_of(items: Sequence[object], rounds: int) -> list[list[object]]:
    """`items` cut into `rounds` consecutive parts (each round books its own offers)."""
    size = len(items) // rounds
    return [list(items[i * size : (i + 1) * size]) for i in range(rounds)]


def combined(results: Sequence[LoadResult]) -> LoadResult:
    """One result for several rounds: their requests over their summed measured seconds."""
    samples: dict[int, bytes] = {}
    statuses: Counter[int] = Counter()
    for r in results:
        statuses.update(r.statuses)
        for k, v in r.samples.items():
            samples.setdefault(k, v)
    return LoadResult(
        count=sum(r.count for r in results),
        seconds=sum(r.seconds for r in results),
        statuses=statuses,
        latencies_us=sorted(x for r in results for x in r.latencies_us),
        cpu_s=sum(r.cpu_s for r in results),
        errors=sum(r.errors for r in results),
        samples=samples,
    )


def combined_cpu(cpus: Sequence[dict[str, float]], seconds: Sequence[float]) -> dict[str, float]:
    """Cores per group over several rounds, each round weighted by its length."""
    total = sum(seconds) or 1.0
    return {
        k: sum(c.get(k, 0.0) * s for c, s in zip(cpus, seconds, strict=True)) / total
        for k in cpus[0]
    }


def cpu_per_request(cpu: dict[str, float], rate: float, groups: Sequence[str]) -> float:
    """CPU milliseconds per request of `groups` together."""
    return 1000 * sum(cpu.get(g, 0.0) for g in groups) / rate if rate else float("nan")


def cpu_ratio(
    book_cpu: dict[str, float], book_rate: float, raw_cpu: dict[str, float], raw_rate: float
) -> float:
    """Raw CPU per booking ÷ the service path's CPU per booking."""
    service = cpu_per_request(book_cpu, book_rate, SERVICE_PATH)
    raw = cpu_per_request(raw_cpu, raw_rate, RAW_PATH)
    return raw / service if service else float("nan")


def others(cpu: dict[str, float], ours: Sequence[str]) -> float:
    """Cores the machine spent on work that is not ours during a round."""
    return max(0.0, cpu.get("machine", 0.0) - sum(cpu.get(g, 0.0) for g in ours))


def headline(ratios: Sequence[float], quiet: Sequence[bool]) -> tuple[float, str]:
    """(the ratio to report, how it was chosen)."""
    calm = [r for r, q in zip(ratios, quiet, strict=True) if q]
    if len(calm) >= MIN_QUIET:
        return median(calm), f"median of the {len(calm)} quiet pairs of {len(ratios)}"
    return median(ratios), f"median of all {len(ratios)} pairs (only {len(calm)} quiet)"
