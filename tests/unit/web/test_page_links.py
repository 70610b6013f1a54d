"""`route_path`: links back to a page come from its route, each parameter percent-encoded."""

from __future__ import annotations

from typing import Any

from litestar import Request

from kontingent.web.page import route_path


def request(**scope: Any) -> Request[Any, Any, Any]:
    return Request({"type": "http", "method": "GET", "headers": [], **scope})  # type: ignore[typeddict-item]


def test_hardening_4_route_parameters_cannot_add_slashes_or_hosts() -> None:
    """Stops a parameter such as `//evil.com` from turning a page's own link into another site's."""
    for evil, encoded in (
        ("//evil.com", "%2F%2Fevil.com"),
        ("\\\\evil.com", "%5C%5Cevil.com"),
        ("x/../../y", "x%2F..%2F..%2Fy"),
        ("a?b#c", "a%3Fb%23c"),
    ):
        found = route_path(
            request(
                path_template="/manage/{code}/rebook",
                path_params={"code": evil},
                route_handler=object(),
            )
        )
        assert found == f"/manage/{encoded}/rebook"


def test_without_a_route_there_is_no_path_to_link_to() -> None:
    assert route_path(request(path="//evil.com/")) is None
    assert route_path(request(path="/x", path_template="/x")) is None  # no handler: no route
