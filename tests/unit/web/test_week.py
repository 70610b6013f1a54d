"""The week view's reading of the query and its links (kontingent.web.week), no I/O."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from kontingent.clock import BERLIN
from kontingent.i18n import Translator
from kontingent.inventory.model import FreeSlot
from kontingent.inventory.week import DayState, Week, WeekDay
from kontingent.web.week import DayChoice, Links, part_seats, week_view

DAY = date(2026, 1, 14)


def test_the_query_is_read_and_what_cannot_be_used_is_dropped() -> None:
    assert DayChoice.of({}) == DayChoice()
    asked = DayChoice.of({"day": "2026-01-14", "part": "evening", "week": "2026-01-19"})
    assert asked == DayChoice(DAY, "evening", date(2026, 1, 19))
    for query in (
        {"day": "14.01.2026"},
        {"day": "20260114"},  # ISO's basic form: not how the page writes days
        {"day": "2026-01-14x"},
        {"day": "2026-02-30"},
        {"week": "next"},
        {"day": "2026-01-14", "part": "night"},
        {"part": "morning"},  # a part needs a day
    ):
        choice = DayChoice.of(query)
        assert choice.dropped, query
    assert DayChoice.of({"day": "2026-01-14", "part": "night"}).day == DAY
    assert DayChoice.of({"day": "2026-01-14xyz"}).day is None


def test_a_day_outside_the_week_shown_is_dropped_with_its_part() -> None:
    choice = DayChoice(DAY, "morning")
    assert choice.within(DAY, DAY) == choice
    assert choice.within(DAY + timedelta(days=1), DAY + timedelta(days=7)) == DayChoice(
        dropped=True
    )


def test_links_keep_the_persons_choice_and_lead_on_to_the_next_step() -> None:
    links = Links("MOD", 2, 7)

    def parts(url: str) -> tuple[str, dict[str, str], str]:
        split = urlsplit(url)
        return split.path, dict(parse_qsl(split.query)), split.fragment

    base = {"vaccine": "MOD", "persons": "2", "centre": "7"}
    assert parts(links(day=DAY)) == ("/choose", {**base, "day": "2026-01-14"}, "parts")
    assert parts(links(day=DAY, part="evening"))[2] == "offers"
    assert parts(links(week=DAY)) == ("/choose", {**base, "week": "2026-01-14"}, "week")
    assert dict(parse_qsl(urlsplit(Links("BNT", 1, None)(week=DAY)).query)) == {
        "vaccine": "BNT",
        "week": "2026-01-14",
    }
    assert DayChoice(DAY, "morning").hidden() == {"day": "2026-01-14", "part": "morning"}


def test_only_days_with_something_free_are_links_and_the_chosen_one_is_current() -> None:
    monday = date(2026, 1, 12)
    states = [DayState.PAST, DayState.TOO_SOON, DayState.FREE, DayState.FULL, DayState.CLOSED]
    states += [DayState.FREE, DayState.NOT_BOOKABLE]
    days = [
        WeekDay(monday + timedelta(days=i), s, 12 if s is DayState.FREE else 0)
        for i, s in enumerate(states)
    ]
    week = Week(monday, days, None, monday + timedelta(days=7))
    view = week_view(week, DayChoice(DAY), Links("BNT", 1, None), Translator("de"))
    assert view.title == "Woche von Mo., 12. Jan. bis So., 18. Jan."
    assert [(c.label, c.status, c.href is not None, c.current) for c in view.days] == [
        ("Mo., 12. Jan.", "vorbei", False, False),
        ("Di., 13. Jan.", "zu kurzfristig", False, False),
        ("Mi., 14. Jan.", "12 frei", True, True),
        ("Do., 15. Jan.", "ausgebucht", False, False),
        ("Fr., 16. Jan.", "geschlossen (Feiertag)", False, False),
        ("Sa., 17. Jan.", "12 frei", True, False),
        ("So., 18. Jan.", "nicht buchbar", False, False),
    ]
    assert view.previous is None and view.next is not None
    english = week_view(week, DayChoice(), Links("BNT", 1, None), Translator("en"))
    assert english.days[2].label == "Wed 14 Jan" and english.days[2].status == "12 free"


def test_seats_per_part_of_day_count_slots_after_the_lead_time_with_room_for_all() -> None:
    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 1, 14, hour, minute, tzinfo=BERLIN)

    slots = [
        FreeSlot(1, at(8), 5),  # before the lead time
        FreeSlot(2, at(11, 40), 3),
        FreeSlot(3, at(12), 1),  # too few for two
        FreeSlot(4, at(16, 59), 2),
        FreeSlot(5, at(17), 4),
    ]
    assert part_seats(slots, at(10), 1) == {"morning": 3, "afternoon": 3, "evening": 4}
    assert part_seats(slots, at(10), 2) == {"morning": 3, "afternoon": 2, "evening": 4}
