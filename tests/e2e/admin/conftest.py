"""The admin console's browser tests run against a server of their own (the portal's
fixtures, package-scoped, so this package starts its own): they change cohorts and the
waiting room, which the portal's pages must not meet."""

from __future__ import annotations

from tests.e2e.portal.conftest import axe_source, browser, server

__all__ = ["axe_source", "browser", "server"]
