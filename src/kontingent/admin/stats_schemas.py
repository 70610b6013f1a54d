"""Wire format of `GET /api/v1/admin/stats` (the names API.md gives, and what it leaves open:
doses, per vaccine, and each cohort's share of its population)."""

from __future__ import annotations

from datetime import date

import msgspec

from kontingent.admin.dashboard_schemas import ChannelCounts
from kontingent.admin.stats_model import Figures


class CentreStatsOut(msgspec.Struct):
    centre_id: int
    name: str
    bookings: int
    appointments_booked: int
    appointments_free: int


class CohortStatsOut(msgspec.Struct):
    id: int
    name: str
    min_age: int
    max_age: int | None
    persons: int
    population: int | None
    share: float | None
    # Why there is no share: "none" (no population imported), "groups_do_not_align",
    # "empty" (nobody of that age in the import).
    note: str | None


class VaccinatedDayOut(msgspec.Struct):
    day: date
    first_doses: int
    second_doses: int
    due: int
    no_show: int
    no_show_rate: float


class StatsOut(msgspec.Struct):
    bookings: int
    persons: int
    appointments_booked: int
    appointments_free: int
    first_doses: int
    second_doses: int
    by_channel: ChannelCounts
    by_centre: list[CentreStatsOut]
    by_vaccine: dict[str, int]
    cohorts: list[CohortStatsOut]
    population_imported: bool
    # The last 14 days: people vaccinated per dose, appointments due and missed (centre/).
    vaccinated_by_day: list[VaccinatedDayOut]

    @classmethod
    def of(cls, f: Figures) -> StatsOut:
        return cls(
            f.bookings, f.persons, f.appointments_booked, f.appointments_free,
            f.first_doses, f.second_doses, ChannelCounts(**f.by_channel),
            [
                CentreStatsOut(c.centre_id, c.name, c.bookings, c.appointments_booked,
                               c.appointments_free)
                for c in f.by_centre
            ],
            f.by_vaccine,
            [
                CohortStatsOut(c.cohort_id, c.name, c.min_age, c.max_age, c.persons,
                               c.population, None if c.share is None else round(c.share, 4),
                               c.note)
                for c in f.cohorts
            ],
            f.population_imported,
            [
                VaccinatedDayOut(v.day, v.first, v.second, v.due, v.no_show,
                                 round(v.no_show_rate, 4))
                for v in f.vaccinated_by_day
            ],
        )  # fmt: skip
