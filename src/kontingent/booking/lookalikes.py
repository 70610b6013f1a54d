"""Look-alike letters folded together: the confusables skeleton of Unicode TR39 (UTS #39).

Invariants kept here:
- Two strings a reader cannot tell apart (Latin `i` and Cyrillic `і`, Latin `o` and Greek `ο`)
  get one skeleton. The mapping is ICU's SpoofChecker, the reference implementation, with the
  confusables data of the ICU on the machine: an upgrade of ICU may move a few rare characters,
  which is why a deployment re-keys its persons with each change of the person key
  (migration 0008, docs/operations.md "Look-alike names").
- A skeleton is a key, never shown: it may turn letters into digits (Cyrillic `б` into `6`) or
  add combining marks (`ł` into `l` and a stroke).
- One checker per process, made on first use: nothing is built at import.
"""

from __future__ import annotations

import functools

import icu

# UTS #39's skeleton no longer depends on the check type (ICU ignores it since 58); 0 is "any".
_ANY_TYPE = 0


@functools.cache
def _checker() -> icu.SpoofChecker:
    return icu.SpoofChecker()


def skeleton(text: str) -> str:
    """The TR39 skeleton of `text`: equal for strings that look alike."""
    result: str = _checker().getSkeleton(_ANY_TYPE, text)
    return result
