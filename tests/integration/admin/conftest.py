"""The release tests leave no one waiting: the waitlist is no table the fixtures reset, and an
entry left on PostgreSQL would get its SMS in a later test's scheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kontingent.app import Services
from kontingent.schema import waitlist


@pytest.fixture(autouse=True)
async def no_waitlist(services: Services) -> AsyncIterator[None]:
    async with services.db.write() as conn:
        await conn.execute(waitlist.delete())
    yield
    async with services.db.write() as conn:
        await conn.execute(waitlist.delete())
