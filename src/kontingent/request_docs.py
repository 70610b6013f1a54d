"""The request bodies of the OpenAPI document, written as the decoder sees them.

Invariants kept here:
- Every request body type (a msgspec Struct a handler takes as `data`, with the types nested in
  it) is described in the document by msgspec's own JSON schema of it: each pattern, length,
  bound, format and required field the decoder enforces, and `additionalProperties: false`
  where unknown fields are refused. Litestar's generated schema drops some of them (bounds on
  list items, the refusal of unknown fields), and a document looser than the decoder promises
  clients requests that the API then refuses (issue 11, item 12).
- Handlers added later are covered as they come: the bodies are found by walking the routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import Components, Schema
from litestar.routes import HTTPRoute

REF_TEMPLATE = "#/components/schemas/{name}"


@dataclass
class DecodedSchema(Schema):
    """A component given as the JSON schema msgspec derives from the type the decoder uses."""

    decoded: dict[str, Any] = field(default_factory=dict)

    def to_schema(self) -> dict[str, Any]:
        return self.decoded


def _body_types(app: Litestar) -> list[type[msgspec.Struct]]:
    found: dict[type[msgspec.Struct], None] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            body = getattr(data, "annotation", None)
            if isinstance(body, type) and issubclass(body, msgspec.Struct):
                found[body] = None
    return list(found)


def document_request_bodies(app: Litestar) -> None:
    """Replace the components of request bodies by the decoder's schemas of them."""
    bodies = _body_types(app)
    if not bodies:
        return
    _, components = msgspec.json.schema_components(bodies, ref_template=REF_TEMPLATE)
    openapi = app.openapi_schema
    if openapi.components is None:
        openapi.components = Components()
    if openapi.components.schemas is None:
        openapi.components.schemas = {}
    for name, schema in components.items():
        openapi.components.schemas[name] = DecodedSchema(decoded=schema)
