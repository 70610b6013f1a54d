"""The centre console's tests use the API tests' fixtures (bookings made over HTTP)."""

from tests.integration.api.conftest import get_token, svc  # noqa: F401 (fixtures)
