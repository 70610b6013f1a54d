"""The OpenAPI document is as strict as the code (issue 11, item 12).

Spot checks of what schemathesis once found missing (tests/e2e/test_openapi_contract.py runs
the whole API against the document): the patterns, lengths and formats the code checks are in
the document, unknown fields are declared refused, and OPTIONS names every method of a path.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.booking.model import CODE_PATTERN
from kontingent.booking.people import EMAIL_PATTERN, NAME_PATTERN, POSTCODE_PATTERN
from kontingent.verification.model import PHONE_PATTERN, PIN_PATTERN

Client = AsyncTestClient[Litestar]


def _parameters(doc: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p["schema"] for p in doc["paths"][path][method]["parameters"]}


async def test_hardening_12_the_document_carries_the_checks_of_the_code(client: Client) -> None:
    """Stops clients (and fuzzers) from being promised requests that the API then refuses."""
    doc = (await client.get("/api/v1/openapi.json")).json()
    schemas = doc["components"]["schemas"]

    eligibility = schemas["EligibilityIn"]["properties"]
    assert eligibility["birth_date"] == {"type": "string", "format": "date"}
    assert eligibility["postcode"]["pattern"] == POSTCODE_PATTERN

    assert schemas["VerificationIn"]["properties"]["phone"]["pattern"] == PHONE_PATTERN
    assert schemas["VerificationIn"]["properties"]["phone"]["maxLength"] == 40
    assert schemas["PinIn"]["properties"]["pin"]["pattern"] == PIN_PATTERN

    person = schemas["PersonIn"]
    assert set(person["required"]) == {
        *("first_name", "last_name", "birth_date", "postcode"),
        *("city", "street", "house_number"),
    }
    assert person["properties"]["first_name"]["pattern"] == NAME_PATTERN
    assert person["properties"]["first_name"]["maxLength"] == 100
    assert person["properties"]["birth_date"]["format"] == "date"
    email = person["properties"]["email"]["anyOf"]
    assert {"type": "null"} in email and EMAIL_PATTERN in [s.get("pattern") for s in email]
    booking = schemas["BookingIn"]
    assert booking["properties"]["slot_ids"]["items"]["minimum"] == 1
    for name in ("BookingIn", "PersonIn", "EligibilityIn", "VerificationIn", "PinIn"):
        assert schemas[name]["additionalProperties"] is False, name

    lookup = _parameters(doc, "/api/v1/bookings/{code}", "get")
    assert lookup["code"]["pattern"] == CODE_PATTERN
    assert lookup["birth_date"]["format"] == "date"
    assert _parameters(doc, "/api/v1/bookings", "post")["Idempotency-Key"]["maxLength"] == 100
    offers = _parameters(doc, "/api/v1/centres/{centre_id}/offers", "get")
    assert (offers["persons"]["minimum"], offers["persons"]["maximum"]) == (1, 2)


async def test_hardening_12_options_names_every_method_of_a_path(client: Client) -> None:
    """Stops OPTIONS from hiding DELETE of a booking, which clients then do not offer."""
    both = await client.options("/api/v1/bookings/ABCD-EFGH-JKLM?birth_date=1939-05-01")
    assert both.status_code == 204
    assert both.headers["allow"] == "DELETE, GET, OPTIONS"
    one = await client.options("/api/v1/eligibility")
    assert one.headers["allow"] == "OPTIONS, POST"


async def test_hardening_12_a_refusal_by_the_schema_says_what_to_write(client: Client) -> None:
    """Stops the stricter decoding from answering in the decoder's terms instead of words."""
    cases = {
        ("1939-05-01", "4823"): {"postcode": "write five digits, like 48231"},
        ("1939-02-30", "48231"): {
            "birth_date": "is not a real date: write it as YYYY-MM-DD, like 1939-05-01, and "
            "check the day and the month"
        },
    }
    for (born, postcode), fields in cases.items():
        body = {"birth_date": born, "postcode": postcode}
        answer = await client.post("/api/v1/eligibility", json=body)
        error = answer.json()["error"]
        assert (answer.status_code, error["code"]) == (422, "invalid_input")
        assert error["details"] == {"fields": fields, "schema": "/api/v1/openapi.json"}
        assert "regex" not in error["message"] and "Expected" not in error["message"]
