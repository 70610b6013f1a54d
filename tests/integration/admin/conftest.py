"""Fixtures of the admin API tests: an admin's bearer token, and the reference tables these
tests change (vaccines, cohorts, the campaign, contingents' phone shares) put back after each
test, since on PostgreSQL they outlive it (tests/conftest.py resets the mutable tables only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, insert, select, update

from kontingent.app import Services
from kontingent.schema import campaigns, cohort_vaccines, cohorts, contingents, vaccines
from kontingent.staff.model import Role
from tests.integration.api.conftest import get_token, svc
from tests.integration.staff.conftest import ACCOUNTS, PASSWORD, add_accounts

__all__ = ["get_token", "svc"]  # the API tests' fixtures, used here too

Client = AsyncTestClient[Litestar]
KEPT = (vaccines, campaigns, cohorts, cohort_vaccines)


@pytest.fixture(autouse=True)
async def kept_reference(services: Services) -> AsyncIterator[None]:
    async with services.db.read() as conn:
        before = {t.name: (await conn.execute(select(t))).mappings().all() for t in KEPT}
        shares = (
            await conn.execute(select(contingents.c.id, contingents.c.phone_share_percent))
        ).all()
    yield
    async with services.db.write() as conn:
        await conn.execute(delete(cohort_vaccines))
        await conn.execute(delete(cohorts))
        codes = [r["code"] for r in before["vaccines"]]
        await conn.execute(delete(vaccines).where(vaccines.c.code.not_in(codes)))
        for row in before["vaccines"]:
            await conn.execute(update(vaccines).where(vaccines.c.code == row["code"]).values(**row))
        for row in before["campaigns"]:
            await conn.execute(update(campaigns).where(campaigns.c.id == row["id"]).values(**row))
        await conn.execute(insert(cohorts), [dict(r) for r in before["cohorts"]])
        await conn.execute(insert(cohort_vaccines), [dict(r) for r in before["cohort_vaccines"]])
        for cid, percent in shares:
            await conn.execute(
                update(contingents)
                .where(contingents.c.id == cid)
                .values(phone_share_percent=percent)
            )


@pytest.fixture
async def admin(client: Client, services: Services) -> dict[str, str]:
    """The headers of an admin's API token."""
    await add_accounts(services)
    answer = await client.post(
        "/api/v1/auth/token",
        json={"username": ACCOUNTS[Role.admin].username, "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def audit_rows(services: Services, prefix: str) -> list[dict[str, Any]]:
    from kontingent.staff.tables import audit_log

    async with services.db.read() as conn:
        query = (
            select(audit_log).where(audit_log.c.action.startswith(prefix)).order_by(audit_log.c.id)
        )
        return [dict(r) for r in (await conn.execute(query)).mappings()]
