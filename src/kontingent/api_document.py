"""The API's OpenAPI document, built and completed the first time someone asks for it.

Invariants kept here:
- Nothing builds the document while an app is made: Litestar's OpenAPI plugin builds it on
  first access of `app.openapi_schema`, and `create_app` no longer touches it. Building it and
  walking it cost about a quarter of a test's app (cProfile: ~0.19 s of ~0.84 s), and most
  apps (one per test) never serve it.
- Whatever serves the document serves it completed: the router that owns the JSON document and
  the /docs page runs `complete_before_serving` before each of its handlers, which writes the
  error answers (error_docs) and the request bodies (request_docs) into it before Litestar's
  handler first renders it (Litestar caches the rendered dict, so it must be complete by then).
  The document served is the one `create_app` used to complete eagerly, byte for byte.
- Completed once per built document: the document completed last is remembered in the app's
  state, and a document Litestar rebuilds (it drops its copy when a route is registered later)
  is completed again.
- The router's catch-all for unknown paths under /api/v1 answers 404 without building it.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.openapi.spec import OpenAPI

from kontingent.error_docs import document_errors
from kontingent.request_docs import document_request_bodies

COMPLETED = "openapi_completed"  # app.state key: the document object completed last
UNKNOWN_PATHS = "/{path:str}"  # the path of Litestar's 404 handler in the OpenAPI router


def completed_document(app: Litestar) -> OpenAPI:
    """`app.openapi_schema` with the error answers and request bodies written in."""
    openapi = app.openapi_schema
    if app.state.get(COMPLETED) is not openapi:
        document_errors(openapi)
        document_request_bodies(app)
        app.state[COMPLETED] = openapi
    return openapi


async def complete_before_serving(request: Request[Any, Any, Any]) -> None:
    """`before_request` of the OpenAPI router. A coroutine so Litestar does not hop to its
    thread pool for it (see app.answer_options)."""
    if UNKNOWN_PATHS not in request.route_handler.paths:
        completed_document(request.app)
