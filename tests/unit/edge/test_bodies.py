"""`nests_deeper`: the depth of a JSON body found by byte operations, strings skipped."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kontingent.edge.bodies import MAX_DEPTH, nests_deeper


def nested(depth: int, inner: object = 1) -> bytes:
    value = inner
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return json.dumps(value).encode()


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def test_hardening_6_the_limit_is_exact_for_json() -> None:
    """Stops the depth rule from refusing legal depths or letting one level more through."""
    assert not nests_deeper(nested(MAX_DEPTH))
    assert nests_deeper(nested(MAX_DEPTH + 1))
    assert nests_deeper(b"[" * 1000 + b"]" * 1000)
    assert not nests_deeper(b"[" + b"[]," * 5000 + b"[]]")  # wide, not deep


def test_hardening_6_unclosed_openings_count_and_strings_do_not() -> None:
    """Stops a truncated deep body slipping through, and text with brackets being refused."""
    assert nests_deeper(b"[" * (MAX_DEPTH + 1))
    assert nests_deeper(b'{"a": ' * 500)
    assert not nests_deeper(json.dumps({"text": "[{" * 1000}).encode())
    assert not nests_deeper(json.dumps(['\\"[[[[' * 100, "]]]" * 100]).encode())
    assert nests_deeper(b'["a\\"b", ' + b"[" * 40 + b"]" * 40 + b"]")


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=60,
)


@given(json_values, st.integers(min_value=0, max_value=8))
def test_the_scan_agrees_with_the_decoded_depth(value: object, limit: int) -> None:
    assert nests_deeper(json.dumps(value).encode(), limit) == (depth_of(value) > limit)
