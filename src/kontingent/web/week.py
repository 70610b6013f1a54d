"""The offers page's choice of day and part of day: a week of days with what is free on each,
paged week by week, then the parts of the chosen day.

Invariants kept here:
- Everything is a plain link (GET, no script): a day, a part of day and each page of weeks.
  Every link carries the person's choice as the filter form sends it (vaccine, two persons)
  and the centre a link asked for, so following one never changes what is offered.
- Only a day (or part) with something free is a link; every other day says why not in words
  (booked out, closed, too soon, past, not bookable). The chosen day and part carry
  aria-current, so a screen reader says which is chosen, not only the colour.
- What the query asks that cannot be read or lies outside the pages of weeks is dropped,
  and the page says so; it never answers an error page for a hand-edited link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from kontingent.eligibility.service import EligibilityAnswer
from kontingent.i18n import N_, Translator
from kontingent.inventory.cache import Availability
from kontingent.inventory.model import Centre, FreeSlot, Vaccine
from kontingent.inventory.pairing import PARTS, DayRanges, minute_of_day
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.service import Inventory
from kontingent.inventory.week import DayState, Week, WeekDay, read_week
from kontingent.web.views import When, first_dose_limit, home_centre

if TYPE_CHECKING:
    from kontingent.web.page import Portal

STATE_TEXT = {
    DayState.FULL: N_("week.full"),
    DayState.CLOSED: N_("week.closed"),
    DayState.PAST: N_("week.past"),
    DayState.TOO_SOON: N_("week.too_soon"),
    DayState.NOT_BOOKABLE: N_("week.not_bookable"),
}
PART_TEXT = {
    "morning": N_("part.morning"),
    "afternoon": N_("part.afternoon"),
    "evening": N_("part.evening"),
}


@dataclass(frozen=True, slots=True)
class DayChoice:
    """What the query asks of the week view; `dropped`: something asked could not be used."""

    day: date | None = None
    part: str | None = None
    week: date | None = None
    dropped: bool = False

    @classmethod
    def of(cls, query: Mapping[str, str]) -> DayChoice:
        day, bad_day = _date(query.get("day"))
        week, bad_week = _date(query.get("week"))
        part = query.get("part") or None
        bad_part = part is not None and (part not in PARTS or day is None)
        return cls(day, None if bad_part else part, week, bad_day or bad_week or bad_part)

    def within(self, first: date, last: date) -> DayChoice:
        """The choice with a day outside [first, last] dropped (and its part with it)."""
        if self.day is None or first <= self.day <= last:
            return self
        return DayChoice(None, None, self.week, dropped=True)

    def hidden(self) -> dict[str, str]:
        """The choice as the filter form's hidden fields, so a new vaccine keeps the day."""
        fields = {"day": self.day, "part": self.part, "week": self.week}
        return {k: str(v) for k, v in fields.items() if v is not None}


def _date(text: str | None) -> tuple[date | None, bool]:
    """(the day, whether `text` was something else than one written as YYYY-MM-DD)."""
    if not text:
        return None, False
    try:
        return (date.fromisoformat(text), False) if len(text) == 10 else (None, True)
    except ValueError:
        return None, True


@dataclass(frozen=True, slots=True)
class Cell:
    """A day or a part of day as shown: a link when something is free there."""

    label: str
    status: str
    state: str
    href: str | None
    current: bool = False


@dataclass(frozen=True, slots=True)
class WeekView:
    title: str
    hint: str  # what the numbers count
    days: list[Cell]
    previous: str | None
    next: str | None
    day_title: str | None = None  # the chosen day, in full
    parts: list[Cell] = field(default_factory=list)


class Links:
    """The page's own links with the person's choice kept (see the module's invariants)."""

    def __init__(self, vaccine: str, persons: int, centre: int | None) -> None:
        self.base: dict[str, str] = {"vaccine": vaccine}
        if persons == 2:
            self.base["persons"] = "2"
        if centre is not None:
            self.base["centre"] = str(centre)

    def __call__(self, **params: date | str | None) -> str:
        """A link to the page with these choices; its fragment is where the reader goes on
        (a phone's screen shows the next choice, not the page's top again)."""
        query = {**self.base, **{k: str(v) for k, v in params.items() if v is not None}}
        to = "offers" if "part" in params else "parts" if "day" in params else "week"
        return f"/choose?{urlencode(query)}#{to}"


def free_text(free: int, t: Translator) -> str:
    return t.plural("week.free", "week.free.plural", free)


def day_cell(day: WeekDay, choice: DayChoice, links: Links, t: Translator) -> Cell:
    chosen = day.day == choice.day
    if day.state is DayState.FREE:
        status = free_text(day.free, t)
        return Cell(t.day_short(day.day), status, day.state, links(day=day.day), chosen)
    return Cell(t.day_short(day.day), t(STATE_TEXT[day.state]), day.state, None, chosen)


def week_view(
    week: Week,
    choice: DayChoice,
    links: Links,
    t: Translator,
    parts: Sequence[Cell] = (),
    one_dose: bool = False,
) -> WeekView:
    end = week.start + timedelta(days=len(week.days) - 1)
    return WeekView(
        t("week.title", first=t.day_short(week.start), last=t.day_short(end)),
        t("week.hint.one") if one_dose else t("week.hint"),
        [day_cell(d, choice, links, t) for d in week.days],
        links(week=week.previous) if week.previous else None,
        links(week=week.next) if week.next else None,
        t.day(choice.day) if choice.day else None,
        list(parts),
    )


def part_seats(slots: Sequence[FreeSlot], earliest: datetime, persons: int) -> dict[str, int]:
    """Free seats per part of day of the slots a first dose may take (after the lead time,
    with room for all persons): one day's reading, which its offers read anyway."""
    seats = dict.fromkeys(PARTS, 0)
    for slot in slots:
        if slot.free >= persons and slot.starts_at >= earliest:
            minute = minute_of_day(slot.starts_at)
            part = next(p for p, (lo, hi) in PARTS.items() if lo <= minute < hi)
            seats[part] += slot.free
    return seats


def part_cells(
    reading: Availability,
    day: WeekDay,
    choice: DayChoice,
    earliest: datetime,
    persons: int,
    links: Links,
    t: Translator,
) -> list[Cell]:
    """The whole day, then each part: free seats in a part are capped at the day's count
    (a first dose needs a second one, and the day's count says how many there are)."""
    whole = Cell(
        t("part.all"),
        free_text(day.free, t) if day.state is DayState.FREE else t(STATE_TEXT[day.state]),
        day.state,
        links(day=day.day),
        choice.part is None,
    )
    cells = [whole]
    for part, seats in part_seats(reading.free, earliest, persons).items():
        free = min(seats, day.free)
        state = DayState.FREE if free >= persons and day.state is DayState.FREE else DayState.FULL
        status = free_text(free, t) if state is DayState.FREE else t(STATE_TEXT[DayState.FULL])
        href = links(day=day.day, part=part) if state is DayState.FREE else None
        cells.append(Cell(t(PART_TEXT[part]), status, state, href, choice.part == part))
    return cells


async def week_choice(
    inventory: Inventory,
    catalogue: Catalogue,
    centre: Centre,
    vaccine: Vaccine,
    persons: int,
    first_days: DayRanges | None,
    choice: DayChoice,
    links: Links,
    t: Translator,
) -> tuple[WeekView, DayChoice, When]:
    """The week view for the home centre, the choice as it can be used, and the offers' wish:
    the chosen day and part, or a later week's first day to look from."""
    asked = choice.day or choice.week
    week = await read_week(inventory, catalogue, centre, vaccine, asked, persons, first_days)
    choice = choice.within(week.start, week.start + timedelta(days=len(week.days) - 1))
    parts: list[Cell] = []
    if choice.day is not None:
        day = week.days[(choice.day - week.start).days]
        if day.state is DayState.FREE:
            async with inventory.reads(centre.id, vaccine.code, catalogue) as reads:
                reading = await reads.slots(day.day)
            earliest = inventory.earliest_start()
            parts = part_cells(reading, day, choice, earliest, persons, links, t)
        elif choice.part is not None:
            choice = DayChoice(choice.day, None, choice.week, choice.dropped)
    since = week.start if choice.day is None and week.previous is not None else None
    when = When(choice.day, choice.part, since)
    view = week_view(week, choice, links, t, parts, one_dose=vaccine.doses == 1)
    return view, choice, when


async def page_week(
    portal: Portal,
    answer: EligibilityAnswer,
    catalogue: Catalogue,
    code: str,
    persons: int,
    first_centre: int | None,
    days: DayChoice,
) -> tuple[WeekView, DayChoice, When]:
    """The week view of the centre whose offers come first (see views.home_centre)."""
    home = home_centre(catalogue, answer.district_id, answer.decision.centres, first_centre)
    first_days = first_dose_limit(catalogue, answer, code, portal.now)
    links = Links(code, persons, first_centre)
    return await week_choice(
        portal.services.inventory,
        catalogue,
        home,
        catalogue.vaccines[code],
        persons,
        first_days,
        days,
        links,
        portal.t,
    )


def offers_title(when: When, t: Translator) -> str | None:
    if when.day is not None and when.part is not None:
        return t("week.offers.part", day=t.day(when.day), part=t(PART_TEXT[when.part]))
    if when.day is not None:
        return t("week.offers.day", day=t.day(when.day))
    if when.since is not None:
        return t("week.offers.since", day=t.day(when.since))
    return None
