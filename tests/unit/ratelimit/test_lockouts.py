"""The lock-out rule against guessing: a few wrong answers free, then a cool-down that doubles
up to a cap, and a count kept past the cool-down (pure arithmetic, no store)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.ratelimit.lockouts import Lockout, State, attempt, forget_at
from kontingent.ratelimit.model import Limit

RULE = Lockout(free=5, first_s=60)


def test_hardening_2_five_wrong_answers_then_a_cool_down_that_doubles() -> None:
    """A guesser gets 5 birth dates at once, then 1, 2, 4 ... minutes between the next ones."""
    state: State | None = None
    for _ in range(5):
        wait, state = attempt(state, RULE, 0.0)
        assert wait == 0 and state is not None
    assert state == (5, 60.0)  # the fifth counted one starts the first cool-down
    assert attempt(state, RULE, 59.0) == (1.0, None)  # refused, nothing counted
    now = 60.0
    for cool_down in (120, 240, 480):
        wait, state = attempt(state, RULE, now)
        assert wait == 0 and state is not None
        assert state[1] == now + cool_down
        now = state[1]


def test_the_cool_down_stops_at_its_cap_and_the_count_outlives_it() -> None:
    assert RULE.cool_down_s(4) == 0
    assert RULE.cool_down_s(5) == 60
    assert RULE.cool_down_s(16) == 86400  # 60 s * 2**11 would be 34 hours
    assert RULE.cool_down_s(10_000) == 86400
    assert forget_at((16, 1000.0 + 86400), RULE, 1000.0) == 1000.0 + 2 * 86400
    assert forget_at((2, 0.0), RULE, 1000.0) == 1000.0 + 86400


def test_a_setting_written_as_a_limit_names_free_answers_and_first_cool_down() -> None:
    assert Lockout.of(Limit(5, 60)) == Lockout(5, 60.0)


@given(st.integers(min_value=1, max_value=50), st.floats(min_value=1, max_value=3600))
def test_no_attempt_is_let_through_while_cooling_down(wrong: int, first_s: float) -> None:
    rule = Lockout(free=3, first_s=first_s)
    state: State = (wrong, 0.0 if wrong < 3 else 100.0 + rule.cool_down_s(wrong))
    wait, counted = attempt(state, rule, 100.0)
    if wrong < 3:
        cool_down = rule.cool_down_s(wrong + 1)
        assert wait == 0 and counted == (wrong + 1, 100.0 + cool_down if cool_down else 0.0)
    else:
        assert wait == pytest.approx(rule.cool_down_s(wrong)) and counted is None
