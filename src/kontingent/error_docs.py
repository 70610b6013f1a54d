"""The error answers of the JSON API, written into its OpenAPI document.

Every error the API gives has one shape, `{"error": {"code", "message", "details"}}` (see
`app._error`); Litestar's generated document knew only its own 400 body. Here every
operation gets the statuses it can answer with, each described by that one shape, so clients
and the schema fuzz test (tests/integration/api/test_fuzz.py) can hold the API to it.
"""

from __future__ import annotations

from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

ERROR_SCHEMA = "Error"
# What any operation may answer: bad input, unknown things, rate limits, overload.
COMMON = {
    400: "malformed request (e.g. a body that is not JSON)",
    404: "no such path or thing",
    405: "the path does not take this method",
    422: "a field is missing or wrong; `details` names it",
    429: "rate limited: wait as long as the Retry-After header says",
    503: "overloaded, paused or the database unavailable: wait as long as Retry-After says",
}
# What operations with a JSON body may answer on top.
BODIES = {415: "the body was not sent as Content-Type: application/json"}
# What changing operations may answer on top.
WRITES = {
    401: "verify the phone first and send its token",
    403: "not allowed (e.g. no admission from the waiting room, or a page of a foreign origin)",
    409: "a conflict with the current state (e.g. slot taken, already booked)",
}

# What staff operations (tag "staff", staff/guards.py) may answer on top, reads included.
STAFF = {
    401: "no live staff token (send Authorization: Bearer TOKEN from POST /api/v1/auth/token), "
    "or a wrong user name or password",
    403: "the token's role (or centre) may not do this",
}


def _error_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["error"],
        properties={
            "error": Schema(
                type=OpenAPIType.OBJECT,
                required=["code", "message", "details"],
                properties={
                    "code": Schema(type=OpenAPIType.STRING, description="stable, for programs"),
                    "message": Schema(type=OpenAPIType.STRING, description="what to fix"),
                    "details": Schema(type=OpenAPIType.OBJECT, additional_properties=True),
                },
                additional_properties=False,
            )
        },
        additional_properties=False,
        description="Every error answer of the API has this shape.",
        examples=[
            {
                "error": {
                    "code": "slot_taken",
                    "message": "an appointment of this offer was taken meanwhile: choose one "
                    "of the fresh offers",
                    "details": {"offers": []},
                }
            }
        ],
    )


def _operations(openapi: OpenAPI) -> list[tuple[str, Operation]]:
    found = []
    for item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is not None:
                found.append((method, operation))
    return found


def document_errors(openapi: OpenAPI) -> None:
    """Give every operation of `openapi` the error statuses it may answer, in our shape."""
    openapi.components = openapi.components or Components()
    schemas = openapi.components.schemas = dict(openapi.components.schemas or {})
    schemas[ERROR_SCHEMA] = _error_schema()
    ref = Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}")
    for method, operation in _operations(openapi):
        statuses = dict(COMMON) if method == "get" else {**COMMON, **WRITES}
        if operation.request_body is not None:
            statuses.update(BODIES)
        if "staff" in (operation.tags or []):
            statuses.update(STAFF)
        responses = dict(operation.responses or {})
        for status, description in sorted(statuses.items()):
            responses[str(status)] = OpenAPIResponse(
                description=description,
                content={"application/json": OpenAPIMediaType(schema=ref)},
            )
        operation.responses = responses
