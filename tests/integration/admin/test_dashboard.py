"""The live dashboard on SQLite and PostgreSQL: its figures equal counts taken in SQL, a
booking shows in them at the next read, and the page carries them for people and for the
script that refreshes it."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from kontingent.admin.dashboard import Dashboard
from kontingent.app import Services
from kontingent.schema import bookings, outbox
from kontingent.staff.audit import Channel
from kontingent.staff.model import Role, SessionKind
from tests.integration.admin.conftest import make_bookings
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.staff.conftest import ACCOUNTS, add_accounts
from tests.support import BIELEFELD

Client = AsyncTestClient[Litestar]


def fresh(services: Services) -> Dashboard:
    """A dashboard that keeps nothing, so each read sees the database as it is now."""
    return Dashboard(
        services.db, services.clock, services.inventory, services.waiting_room, ttl_s=0
    )


async def sql_counts(services: Services) -> tuple[dict[str, int], int]:
    now = services.clock.now()
    since = now.replace(second=0, microsecond=0) - timedelta(minutes=59)
    async with services.db.read() as conn:
        by_channel = dict(
            (
                await conn.execute(
                    select(bookings.c.channel, func.count())
                    .where(bookings.c.created_at >= since)
                    .group_by(bookings.c.channel)
                )
            ).all()
        )
        pending = (
            await conn.execute(
                select(func.count()).where(outbox.c.sent_at.is_(None), outbox.c.parked_at.is_(None))
            )
        ).scalar_one()
    return by_channel, pending


async def browser_session(client: Client, services: Services) -> None:
    """The admin's session cookie, as the login page would set it."""
    admin = ACCOUNTS[Role.admin]
    login = await services.staff.login(
        admin.username, admin.password, SessionKind.browser, Channel.browser, None
    )
    client.cookies.set("kt_staff", login.token)


def pairs_at(snapshot: object, centre_id: int, vaccine: str) -> int:
    free = snapshot.free  # type: ignore[attr-defined]
    return next(f.pairs for f in free if (f.centre_id, f.vaccine) == (centre_id, vaccine))


async def test_the_figures_equal_sql_counts_and_follow_a_booking(services: Services) -> None:
    dashboard = fresh(services)
    before = await dashboard.snapshot()
    assert before.totals == {"web": 0, "phone": 0, "on_site": 0}
    await make_bookings(services)
    after = await dashboard.snapshot()

    by_channel, pending = await sql_counts(services)
    assert after.totals == {"web": by_channel.get("web", 0), "phone": by_channel.get("phone", 0),
                            "on_site": 0} == {"web": 2, "phone": 1, "on_site": 0}  # fmt: skip
    assert sum(o.pending for o in after.outbox) == pending > 0
    assert len(after.minutes) == 60 and after.minutes[-1].counts["web"] == 2
    # Four persons booked a pair each at Bielefeld, BNT.
    assert pairs_at(after, BIELEFELD, "BNT") == pairs_at(before, BIELEFELD, "BNT") - 4
    assert after.forecast.free_pairs == sum(f.pairs for f in after.free)
    assert after.queue.waiting == 0


async def test_the_oldest_waiting_message_and_failures_are_counted(services: Services) -> None:
    await make_bookings(services)
    await services.relay.run_once()  # the dev mailbox takes everything
    snapshot = await fresh(services).snapshot()
    assert sum(o.pending for o in snapshot.outbox) == 0
    assert all(o.oldest_pending_at is None and o.parked == 0 for o in snapshot.outbox)


async def test_the_api_and_the_page_for_admins(
    client: Client, services: Services, app: Litestar
) -> None:
    await add_accounts(services)
    await make_bookings(services)
    admin = await bearer(client, Role.admin)
    answer = await client.get("/api/v1/admin/dashboard", headers=admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["bookings_last_hour"] == {"web": 2, "phone": 1, "on_site": 0}
    assert len(body["bookings_per_minute"]) == 60
    assert body["bookings_per_minute"][-1]["minute"].endswith("+01:00")
    assert {o["channel"] for o in body["outbox"]} == {"sms", "email"}
    assert set(body["forecast"]) == {"free_pairs", "due_pairs", "bookings_per_minute", "gone_at"}
    assert body["queue"]["waiting"] == 0

    await browser_session(client, services)
    page = await client.get("/admin/dashboard")
    assert page.status_code == 200, page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'http-equiv="refresh"' in page.text and "/static/admin-dashboard.js" in page.text
    assert 'data-figure="hour-web">2<' in page.text and "data:image/svg+xml;base64," in page.text
    live = await client.get("/admin/dashboard/live")
    assert live.status_code == 200 and "<html" not in live.text
    assert 'data-figure="hour-phone">1<' in live.text
    assert "script-src 'none'" in live.headers["content-security-policy"]
