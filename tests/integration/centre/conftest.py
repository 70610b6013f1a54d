"""The centre console as a browser sees it: the agent console's browser (a staff session
through the login form, the CSRF token of the last page), logged in as centre staff."""

from __future__ import annotations

import pytest

from kontingent.app import Services
from kontingent.staff.model import Role
from tests.integration.agent.conftest import Browser, Client
from tests.integration.api.conftest import get_token, svc  # noqa: F401 (fixtures)
from tests.integration.staff.conftest import add_accounts


@pytest.fixture
async def carl(client: Client, svc: Services) -> Browser:  # noqa: F811
    """centre.carl, bound to centre 1 (Bielefeld)."""
    await add_accounts(svc)
    browser = Browser(client)
    await browser.log_in(Role.centre_staff)
    return browser
