"""Statistics on SQLite and PostgreSQL: every figure equals a count taken in SQL straight
from the tables (free appointments from the slots, not from `slot_days`), cohorts' shares
only from an imported population, and the import refuses a bad file whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from kontingent.admin.population import import_population
from kontingent.admin.stats_model import latest_birth_date
from kontingent.app import Services
from kontingent.errors import InvalidInput
from kontingent.inventory.model import local_day
from kontingent.schema import appointments, bookings, districts, persons, population, slots
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.admin.conftest import make_bookings
from tests.integration.admin.test_dashboard import browser_session
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.staff.conftest import add_accounts

Client = AsyncTestClient[Litestar]


async def scalar(services: Services, query: object) -> int:
    async with services.db.read() as conn:
        return int((await conn.execute(query)).scalar_one() or 0)  # type: ignore[call-overload]


async def district_names(services: Services) -> list[str]:
    async with services.db.read() as conn:
        return [r.name for r in await conn.execute(select(districts.c.name))]


def population_csv(names: list[str], older: int = 1000, middle: int = 3000) -> str:
    lines = ["district;age_from;age_to;people"]
    for name in names:
        lines += [f"{name};0;59;50000", f"{name};60;79;{middle}", f"{name};80;;{older}"]
    return "\ufeff" + "\n".join(lines) + "\n"


async def test_the_figures_equal_counts_taken_in_sql(services: Services) -> None:
    await make_bookings(services)
    figures = await services.statistics.figures()
    now = services.clock.now()
    booked = bookings.c.status == "booked"
    appts = (
        select(func.count())
        .select_from(appointments.join(bookings))
        .where(appointments.c.status == "booked", booked)
    )
    assert figures.bookings == await scalar(services, select(func.count()).where(booked)) == 3
    assert figures.persons == await scalar(
        services, select(func.count()).where(persons.c.active)
    ) == 4  # fmt: skip
    assert figures.appointments_booked == await scalar(services, appts) == 8
    assert figures.first_doses == await scalar(services, appts.where(appointments.c.dose == 1))
    assert figures.second_doses == 4
    assert figures.by_channel == {"web": 2, "phone": 1, "on_site": 0}
    free_from_slots = select(func.sum(slots.c.capacity - slots.c.booked)).where(
        slots.c.day >= local_day(now), slots.c.bookable_from <= now
    )
    assert figures.appointments_free == await scalar(services, free_from_slots)
    assert sum(c.appointments_free for c in figures.by_centre) == figures.appointments_free
    assert sum(c.bookings for c in figures.by_centre) == 3
    assert sum(figures.by_vaccine.values()) == 8
    assert not figures.population_imported
    assert all(c.share is None and c.note == "none" for c in figures.cohorts)


async def test_a_cohorts_share_of_its_imported_population(services: Services) -> None:
    names = await district_names(services)
    await make_bookings(services)  # four persons born 1939: 86 years old on T0
    done = await import_population(services.db, services.clock, population_csv(names), "t")
    assert (done.districts, done.groups) == (len(names), 3 * len(names))
    figures = await services.statistics.figures()
    assert figures.population_imported
    today = local_day(services.clock.now())
    for cohort in figures.cohorts:
        born_until = latest_birth_date(today, cohort.min_age)
        query = select(func.count()).where(persons.c.active, persons.c.birth_date <= born_until)
        if cohort.max_age is not None:
            born_after = latest_birth_date(today, cohort.max_age + 1)
            query = query.where(persons.c.birth_date > born_after)
        assert cohort.persons == await scalar(services, query), cohort
        if (cohort.min_age, cohort.max_age) == (80, None):
            assert cohort.population == 1000 * len(names)
            assert cohort.share == pytest.approx(4 / (1000 * len(names)))


async def test_the_import_refuses_a_bad_file_and_changes_nothing(services: Services) -> None:
    names = await district_names(services)
    await import_population(services.db, services.clock, population_csv(names), "t")
    before = await scalar(services, select(func.sum(population.c.people)))
    bad = [
        population_csv(names).replace(";80;;", ";80;x;"),  # not a number
        population_csv(names[:-1]),  # a district missing
        population_csv([*names, "Atlantis"]),  # an unknown one
        population_csv(names).replace(";60;79;", ";60;85;"),  # overlapping groups
        "kreis,alter,anzahl\n",  # another header
    ]
    for text in bad:
        with pytest.raises(InvalidInput):
            await import_population(services.db, services.clock, text, "t")
    assert await scalar(services, select(func.sum(population.c.people))) == before
    async with services.db.read() as conn:
        rows = (
            await conn.execute(
                select(audit_log.c.action).where(audit_log.c.action == "population_imported")
            )
        ).all()
    assert len(rows) == 1


async def test_the_api_and_the_page(client: Client, services: Services) -> None:
    await add_accounts(services)
    await make_bookings(services)
    answer = await client.get("/api/v1/admin/stats", headers=await bearer(client, Role.admin))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {"bookings", "persons", "appointments_booked", "appointments_free", "by_channel",
            "by_centre"} <= set(body)  # fmt: skip
    assert body["by_channel"] == {"web": 2, "phone": 1, "on_site": 0}
    assert (body["bookings"], body["persons"], body["first_doses"]) == (3, 4, 4)
    agent = await client.get("/api/v1/admin/stats", headers=await bearer(client, Role.agent))
    assert agent.status_code == 403
    await browser_session(client, services)
    page = await client.get("/admin/stats")
    assert page.status_code == 200, page.text
    assert 'data-figure="persons">4<' in page.text
    assert 'data-figure="no-population"' in page.text


async def test_vaccinated_per_day_is_what_the_centres_recorded(services: Services) -> None:
    """First doses recorded vaccinated or missed count on their day; a day ahead of today
    counts nowhere yet; recorded appointments still count as appointments booked."""
    made = await make_bookings(services)
    async with services.db.read() as conn:
        rows = (
            await conn.execute(
                select(appointments.c.id, appointments.c.dose, slots.c.day)
                .join(slots, slots.c.id == appointments.c.slot_id)
                .join(bookings, bookings.c.id == appointments.c.booking_id)
                .where(bookings.c.code.in_([b.code for b in made]))
                .order_by(appointments.c.id)
            )
        ).all()
    firsts = [r for r in rows if r.dose == 1]
    second = next(r for r in rows if r.dose == 2)
    recorded = [(firsts[0], "vaccinated"), (firsts[1], "no_show"), (second, "vaccinated")]
    async with services.db.write() as conn:
        for row, status in recorded:
            await conn.execute(
                update(appointments).where(appointments.c.id == row.id).values(status=status)
            )
    last_first_day = max(firsts[0].day, firsts[1].day)
    services.clock.advance(last_first_day - services.clock.now().date() + timedelta(days=1))
    figures = await services.statistics.figures()
    assert sum(v.first for v in figures.vaccinated_by_day) == 1
    assert sum(v.no_show for v in figures.vaccinated_by_day) == 1
    assert sum(v.second for v in figures.vaccinated_by_day) == 0  # its day has not come
    by_day = {v.day: v for v in figures.vaccinated_by_day}
    assert by_day[firsts[0].day].first == 1
    assert figures.appointments_booked == 8  # recorded ones are still appointments booked
