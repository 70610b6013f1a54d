"""Property: the place of a ticket estimated from the snapshot's samples of the line is never
nearer the front than it really is, and is off by less than the distance between samples."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kontingent.waiting_room.model import rank_in
from kontingent.waiting_room.store import sample_every


@given(
    st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=3000, unique=True),
    st.data(),
)
def test_the_estimated_place_is_bounded_by_the_samples(
    scores: list[float], data: st.DataObject
) -> None:
    line = sorted(scores)
    every = sample_every(len(line))
    front = tuple(line[::every])
    assert len(front) <= 1024
    rank = data.draw(st.integers(0, len(line) - 1))
    fewest, likely = rank_in(front, every, len(line), line[rank])
    assert fewest <= rank  # never promises a place nearer the front
    assert fewest <= likely < len(line)
    assert abs(likely - rank) < every
    if every == 1:
        assert fewest == likely == rank  # a short line is sampled whole: exact
