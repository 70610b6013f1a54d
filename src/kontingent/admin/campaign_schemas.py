"""Wire formats of `/api/v1/admin/campaign`: the booking window, the waiting room, the phone
share (API.md is silent on these; the names follow the `campaigns` table, `kontingent
waiting-room set` and `kontingent phone-share`).

A PATCH names only what it changes; `"waiting_room": {"opens_at": null}` removes the room's
opening minute (a scheduled room then admits at once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from kontingent.admin.campaign_model import MAX_RATE, MIN_RATE
from kontingent.admin.campaign_service import CampaignChange, CampaignView
from kontingent.admin.cohorts_schemas import Opening
from kontingent.inventory.schemas import berlin, maybe_berlin

Aware = Annotated[datetime, msgspec.Meta(tz=True, description="with its offset")]
Rate = Annotated[float, msgspec.Meta(ge=MIN_RATE, le=MAX_RATE, description="admissions per second")]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
Mode = Literal["off", "scheduled", "auto"]
T = TypeVar("T")


class WaitingRoomIn(msgspec.Struct, forbid_unknown_fields=True):
    mode: Mode | UnsetType = UNSET
    opens_at: Opening | UnsetType | None = UNSET
    rate: Rate | UnsetType = UNSET


class CampaignPatch(msgspec.Struct, forbid_unknown_fields=True):
    booking_from: Aware | UnsetType = UNSET
    booking_until: Aware | UnsetType = UNSET
    waiting_room: WaitingRoomIn | UnsetType = UNSET
    # Re-spread over every contingent's slots starting after the release lead.
    phone_share_percent: Percent | UnsetType = UNSET

    def change(self) -> CampaignChange:
        room = self.waiting_room if isinstance(self.waiting_room, WaitingRoomIn) else None
        room = room or WaitingRoomIn()
        return CampaignChange(
            booking_from=_given(self.booking_from),
            booking_until=_given(self.booking_until),
            mode=_given(room.mode),
            opens_at=_given(room.opens_at),
            clear_opening=room.opens_at is None,  # an explicit null, not left out
            rate=_given(room.rate),
            phone_share_percent=_given(self.phone_share_percent),
        )


def _given(value: T | UnsetType) -> T | None:
    return None if isinstance(value, UnsetType) else value


class WaitingRoomOut(msgspec.Struct):
    mode: str
    opens_at: datetime | None
    rate: float
    guarding: bool  # whether verification and booking need an admission now
    waiting: int
    paused: bool  # its store unreachable: admission paused


class PhoneShareOut(msgspec.Struct):
    percents: list[int]  # the shares the contingents have now, each once
    new_contingents_percent: int  # KONTINGENT_PHONE_SHARE_PERCENT
    release_hours: float  # KONTINGENT_PHONE_RELEASE_HOURS: reserves go to everyone then


class CampaignOut(msgspec.Struct):
    id: int
    name: str
    booking_from: datetime
    booking_until: datetime
    waiting_room: WaitingRoomOut
    phone_share: PhoneShareOut

    @classmethod
    def of(cls, view: CampaignView) -> CampaignOut:
        room = view.room
        return cls(
            view.id, view.name, berlin(view.window.booking_from),
            berlin(view.window.booking_until),
            WaitingRoomOut(room.mode, maybe_berlin(room.opens_at), room.rate, view.guarding,
                           view.waiting, view.paused),
            PhoneShareOut(view.share_percents, view.new_share_percent, view.release_hours),
        )  # fmt: skip
