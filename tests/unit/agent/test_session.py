"""The console's desk cookie: what one agent's browser keeps between the steps of a call."""

from __future__ import annotations

from datetime import timedelta

from kontingent.agent.session import CALL_TTL, Desk, cookie, decode, encode
from kontingent.web import session as web_session
from tests.support import T0

SECRET = "a secret long enough for the tests, not used anywhere else"


def test_a_desk_comes_back_for_its_agent() -> None:
    desk = Desk(agent="agent.anna", born="1939-05-01", born2="1938-12-12", postcode="33602")
    read = decode(encode(desk, SECRET, T0), SECRET, T0, "agent.anna")
    assert read.born2 == "1938-12-12" and read.persons == 2 and read.postcode == "33602"


def test_another_agent_gets_an_empty_desk_not_the_previous_caller() -> None:
    raw = encode(Desk(agent="agent.anna", born="1939-05-01"), SECRET, T0)
    assert decode(raw, SECRET, T0, "agent.bert") == Desk(agent="agent.bert")


def test_an_altered_foreign_or_expired_cookie_reads_as_empty() -> None:
    raw = encode(Desk(agent="agent.anna", born="1939-05-01"), SECRET, T0)
    empty = Desk(agent="agent.anna")
    payload, signature = raw.split(".")
    assert decode(payload[:-2] + "AA." + signature, SECRET, T0, "agent.anna") == empty
    assert decode(raw, SECRET + "x", T0, "agent.anna") == empty
    assert decode(raw, SECRET, T0 + CALL_TTL + timedelta(seconds=1), "agent.anna") == empty
    assert decode("no cookie at all", SECRET, T0, "agent.anna") == empty


def test_the_portal_flow_cookie_never_passes_as_a_desk_nor_the_other_way() -> None:
    flow = web_session.encode(web_session.Flow(born="1939-05-01"), SECRET, T0)
    assert decode(flow, SECRET, T0, "") == Desk()
    desk = encode(Desk(agent="", born="1939-05-01"), SECRET, T0)
    assert web_session.decode(desk, SECRET, T0) == web_session.Flow()


def test_the_cookie_is_strict_httponly_and_only_for_the_console() -> None:
    made = cookie(Desk(agent="agent.anna"), SECRET, T0, secure=True)
    assert made.httponly and made.secure and made.samesite == "strict" and made.path == "/agent"
