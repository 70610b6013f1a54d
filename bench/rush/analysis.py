"""What a rush run means: fairness of the admission order, rates, step latencies, and the
database checks that must come out 0.

Fairness: among people whose queue join was answered before the opening, the waiting room
shuffles, so the rank correlation between arrival order and admission order should be near
0; among those who joined after the opening it queues in order of arrival, so it should be
near 1. Joins in flight across the opening instant belong to neither group and are counted
apart. The admission order is read three ways: the ticket's score (the store admits lowest
score first, so this is the order itself), and two views of it from the client, which also
depend on when it polled: its place when first seen after the opening, and the time it saw
its admission.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dataset
from kontingent.waiting_room import tokens

Person = dict[str, Any]


def load_people(folder: Path) -> tuple[list[Person], Counter[str]]:
    people: list[Person] = []
    kinds: Counter[str] = Counter()
    for path in sorted(folder.glob("people-*.jsonl")):
        people += [json.loads(line) for line in path.read_text().splitlines() if line]
    for path in sorted(folder.glob("kinds-*.json")):
        kinds.update(json.loads(path.read_text()))
    return people, kinds


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rho: Pearson's correlation of the ranks."""
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / (vx * vy) ** 0.5 if vx and vy else float("nan")


def kendall(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Kendall's tau-a in O(n log n) (Knight): the share of concordant minus discordant pairs.
    Ties (none expected: times and positions are distinct) count as neither."""
    n = len(xs)
    if n < 2:
        return float("nan")
    ys_by_x = [y for _, y in sorted(zip(xs, ys, strict=True))]
    discordant = _inversions(ys_by_x)
    pairs = n * (n - 1) // 2
    return (pairs - 2 * discordant) / pairs


def _inversions(values: list[float]) -> int:
    """Pairs i < j with values[i] > values[j], counted by merge sort."""
    count, width, items = 0, 1, list(values)
    while width < len(items):
        merged: list[float] = []
        for lo in range(0, len(items), 2 * width):
            left, right = items[lo : lo + width], items[lo + width : lo + 2 * width]
            i = j = 0
            while i < len(left) and j < len(right):
                if right[j] < left[i]:
                    merged.append(right[j])
                    count += len(left) - i
                    j += 1
                else:
                    merged.append(left[i])
                    i += 1
            merged += left[i:] + right[j:]
        items, width = merged, width * 2
    return count


@dataclass(frozen=True)
class Fairness:
    group: str
    people: int
    spearman: float
    kendall: float


def add_scores(people: Sequence[Person], secret: str) -> None:
    """Each person's ticket score as `score`: the store admits in the order of the scores,
    so this is the admission order itself, free of when each client happened to poll."""
    for p in people:
        if p.get("ticket"):
            p["score"] = tokens.ticket_score(secret, p["ticket"])


def fairness(
    people: Sequence[Person], opening: float, order: Callable[[Person], float | None]
) -> tuple[list[Fairness], int]:
    """Rank correlation of arrival order with `order` (the admission order), for those who
    joined before and after the opening; and how many joins straddled the opening."""
    joined = [p for p in people if p.get("joined_at") is not None and order(p) is not None]
    before = [p for p in joined if p["joined_at"] < opening]
    after = [p for p in joined if p["joined_sent"] > opening]
    out = []
    for name, group in (("joined before opening", before), ("joined after opening", after)):
        xs = [p["joined_sent"] for p in group]
        ys = [float(order(p) or 0) for p in group]
        out.append(Fairness(name, len(group), spearman(xs, ys), kendall(xs, ys)))
    return out, len(joined) - len(before) - len(after)


def per_second(times: Sequence[float]) -> tuple[float, float]:
    """(mean rate over the span of `times`, the busiest single second)."""
    if len(times) < 2:
        return float(len(times)), float(len(times))
    span = max(times) - min(times)
    peak = Counter(int(t) for t in times).most_common(1)[0][1]
    return len(times) / span if span else float(len(times)), float(peak)


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def clicker_advantage(people: Sequence[Person], opening: float) -> dict[str, dict[str, float]]:
    """Among those who arrived before the opening: the share booked and the median seconds from
    opening to booking, for people pressing reload and for patient people."""
    out: dict[str, dict[str, float]] = {}
    early = [p for p in people if p.get("arrived") is not None and p["arrived"] < opening]
    for name, flag in (("aggressive reloaders", True), ("patient people", False)):
        group = [p for p in early if p["aggressive"] is flag]
        booked = [p["booked_at"] - opening for p in group if p.get("booked_at")]
        out[name] = {
            "people": len(group),
            "booked share": len(booked) / len(group) if group else float("nan"),
            "median s to booking": statistics.median(booked) if booked else float("nan"),
        }
    return out


def locust_steps(stats_csv: Path) -> list[dict[str, str]]:
    with stats_csv.open() as f:
        return [row for row in csv.DictReader(f) if row["Name"] != "Aggregated"]


async def check_database(
    schema: str, people: Sequence[Person], other_201s: int = 0
) -> list[tuple[str, int]]:
    """(check, count) pairs; every count must be 0. `other_201s`: bookings answered 201 to
    the load generator, whose codes are not recorded."""
    conn = await dataset.connect(schema)
    try:
        over, drift = await dataset.seat_invariants(conn)
        rows = await conn.fetch(BOOKINGS_SQL)
    finally:
        await conn.close()
    stored = {r["code"]: r for r in rows}
    half = sum(1 for r in rows if not _complete(r))
    lost = sum(1 for p in people if p.get("code") and not _matches(stored.get(p["code"]), p))
    seen = {p["code"] for p in people if p.get("code")}
    unseen = sum(1 for code in stored if code not in seen) - other_201s
    return [
        ("slots over capacity", over),
        ("slots whose seat count differs from their appointments", drift),
        ("201s seen by clients but not stored complete (lost)", lost),
        ("bookings without all appointments, persons or outbox rows (half)", half),
        ("bookings stored that no client saw a 201 for", unseen),
    ]


# One row per booking: its persons, appointments and confirmation rows in the outbox (the
# SMS names the code, after the vaccine in parentheses since the SMS names it, and a couple's
# says "Impftermine für 2 Personen gebucht"; each e-mail names it in the subject).
# Two string literals split by a newline are one in SQL.
BOOKINGS_SQL = """
SELECT b.code, b.status,
       (SELECT count(*) FROM persons p WHERE p.booking_id = b.id) AS persons,
       (SELECT count(DISTINCT p.email) FROM persons p
         WHERE p.booking_id = b.id AND p.email IS NOT NULL) AS emails,
       (SELECT array_agg(a.slot_id ORDER BY a.slot_id) FROM appointments a
         WHERE a.booking_id = b.id AND a.status = 'booked') AS slots,
       (SELECT v.doses FROM vaccines v WHERE v.code = b.vaccine_code) AS doses,
       coalesce(o.sms, 0) AS sms, coalesce(o.mails, 0) AS mails
FROM bookings b
LEFT JOIN (
    SELECT coalesce(substring(body FROM 'Impftermine?(?: für \\d+ Personen)? gebucht'
                                         '(?: \\([^)]*\\))?\\. Code ([A-Z0-9-]+)\\.'),
                    substring(subject FROM 'Code ([A-Z0-9-]+)$')) AS code,
           count(*) FILTER (WHERE channel = 'sms') AS sms,
           count(*) FILTER (WHERE channel = 'email') AS mails
    FROM outbox GROUP BY 1
) o ON o.code = b.code
"""


def _complete(row: Any) -> bool:
    slots = row["slots"] or []
    return (
        row["persons"] >= 1
        and len(slots) == row["persons"] * row["doses"]
        and row["sms"] == 1
        and row["mails"] == row["emails"]
    )


def _matches(row: Any, person: Person) -> bool:
    """The booking a client got a 201 for is stored, booked, with every slot it asked for."""
    return (
        row is not None
        and row["status"] == "booked"
        and _complete(row)
        and row["persons"] == person["persons"]
        and sorted(row["slots"]) == sorted(person["slot_ids"])
    )


async def outbox_pending(schema: str) -> int:
    conn = await dataset.connect(schema)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL"
            )
        )
    finally:
        await conn.close()
