"""Wire formats of contingent releases (names fixed by API.md, "Administration")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from kontingent.admin.releases_model import ReleaseWish
from kontingent.admin.releases_repository import Release
from kontingent.inventory.schemas import berlin, maybe_berlin

CentreId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class ReleaseIn(msgspec.Struct, forbid_unknown_fields=True):
    vaccine: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    first_day: date
    last_day: date
    centre_ids: Annotated[list[CentreId], msgspec.Meta(min_length=1, max_length=500)] | None = None
    # The release minute with its offset; null: now.
    at: datetime | None = None
    # Lanes per centre given to this vaccine; null: each centre's own lanes.
    lanes: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    phone_share_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None

    def wish(self) -> ReleaseWish:
        ids = None if self.centre_ids is None else tuple(sorted(set(self.centre_ids)))
        return ReleaseWish(
            self.vaccine, ids, self.first_day, self.last_day, self.at, self.lanes,
            self.phone_share_percent,
        )  # fmt: skip


class ReleaseCentreOut(msgspec.Struct):
    centre_id: int
    contingent_id: int | None
    slots: int
    seats: int
    phone_seats: int


class ReleaseOut(msgspec.Struct):
    id: int
    status: str  # scheduled, done or cancelled
    released_slots: int
    released_seats: int
    phone_seats: int
    executed_at: datetime | None
    vaccine: str
    centre_ids: list[int] | None  # null: every centre
    first_day: date
    last_day: date
    at: datetime
    created_at: datetime
    created_by: str
    cancelled_at: datetime | None
    cancelled_by: str | None
    centres: list[ReleaseCentreOut]

    @classmethod
    def of(cls, r: Release) -> ReleaseOut:
        ids = None if r.all_centres else [c.centre_id for c in r.centres]
        return cls(
            r.id, r.status, r.slots, r.seats, r.phone_seats, maybe_berlin(r.executed_at),
            r.vaccine_code, ids, r.first_day, r.last_day, berlin(r.release_at),
            berlin(r.created_at), r.created_by, maybe_berlin(r.cancelled_at), r.cancelled_by,
            [ReleaseCentreOut(c.centre_id, c.contingent_id, c.slots, c.seats, c.phone_seats)
             for c in r.centres],
        )  # fmt: skip


class ReleasePage(msgspec.Struct):
    items: list[ReleaseOut]  # newest first
    next: str | None  # the URL of the next (older) page; null on the last one
