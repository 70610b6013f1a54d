"""person key by look-alike skeleton: re-key the active persons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000

`persons.person_key` now folds look-alike letters together (Unicode TR39 skeleton, see
booking/model.py), so `Erіka` with a Cyrillic і is `Erika`. Active persons get their key
anew; inactive ones (cancelled bookings) are outside the unique index and keep theirs.

Two active persons of a campaign may share a key only now (one booked as `Erika`, one as
`Erіka`). The migration must not fail on them, and it cancels nobody's appointment: the
earliest (lowest person id) takes the key; each later one keeps a key of its own, the shared key
and `|dup:<person id>`, and is logged with its booking code for staff to review. A new booking
of that person is refused against the earliest one all the same.

Keys are set in two steps, first to a unique placeholder, so that no statement ever sees two
rows holding one key in between. The downgrade puts the keys of 0004 back (they were finer, so
they cannot collide).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

from kontingent.booking.model import PERSON_KEY_LENGTH, person_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")  # where alembic reports each step
Keyer = Callable[[str, str, date], str]
BATCH = 5_000  # rows per executemany, so a large table is not one huge parameter list


def _old_key(first_name: str, last_name: str, birth_date: date) -> str:
    """The person key of 0004 and before: case, accents and spacing folded, nothing more."""

    def fold(name: str) -> str:
        decomposed = unicodedata.normalize("NFKD", name.casefold())
        return "".join(ch for ch in decomposed if ch.isalpha()).replace("ß", "ss")

    return f"{fold(first_name)}|{fold(last_name)}|{birth_date.isoformat()}"


def _active(conn: Any) -> list[Any]:
    query = sa.text(
        "SELECT p.id, p.campaign_id, p.first_name, p.last_name, p.birth_date, b.code "
        "FROM persons p JOIN bookings b ON b.id = p.booking_id "
        "WHERE p.active ORDER BY p.id"
    )
    rows: list[Any] = conn.execute(query).all()
    return rows


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _new_keys(rows: Iterable[Any], keyer: Keyer) -> dict[int, str]:
    """Person id -> key; the earliest person keeps a shared key, later ones get a suffix."""
    keys: dict[int, str] = {}
    taken: set[tuple[int, str]] = set()
    for row in rows:
        key = keyer(row.first_name, row.last_name, _as_date(row.birth_date))
        if (row.campaign_id, key) in taken:
            log.warning(
                "person %s (booking %s) looks like an earlier active person of campaign %s: "
                "kept, with a key of its own; review the booking",
                row.id,
                row.code,
                row.campaign_id,
            )
            suffix = f"|dup:{row.id}"
            key = key[: PERSON_KEY_LENGTH - len(suffix)] + suffix
        taken.add((row.campaign_id, key))
        keys[row.id] = key
    return keys


def _rekey(keyer: Keyer) -> None:
    conn = op.get_bind()
    keys = _new_keys(_active(conn), keyer)
    update = sa.text("UPDATE persons SET person_key = :key WHERE id = :id")
    ids = list(keys)
    for step in (lambda i: f"#rekey:{i}", keys.__getitem__):
        for start in range(0, len(ids), BATCH):
            conn.execute(update, [{"id": i, "key": step(i)} for i in ids[start : start + BATCH]])


def upgrade() -> None:
    _rekey(person_key)


def downgrade() -> None:
    _rekey(_old_key)
