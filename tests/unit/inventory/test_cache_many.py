"""`TtlCache.get_many` (kontingent.inventory.cache): several keys in one load, with `get`'s
rules: fresh values are not loaded again, concurrent askers share a load, and a key dropped
while its load ran is not kept (the load may have read before the change that dropped it)."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping

from kontingent.inventory.cache import FamilyCache


async def test_only_missing_keys_are_loaded_once_for_all_askers() -> None:
    cache: FamilyCache[int] = FamilyCache(60)
    loads: list[list[Hashable]] = []
    gate = asyncio.Event()

    async def load(keys: list[Hashable]) -> Mapping[Hashable, int]:
        loads.append(keys)
        await gate.wait()
        return {k: len(loads) for k in keys}

    await cache.get((("c", 1), "x"), lambda: _value(7))
    first = asyncio.create_task(cache.get_many([(("c", 1), "x"), (("c", 2), "x")], load))
    await asyncio.sleep(0)  # the first asker's load is under way
    second = asyncio.create_task(cache.get((("c", 2), "x"), lambda: _value(99)))
    await asyncio.sleep(0)
    gate.set()
    assert await first == {(("c", 1), "x"): 7, (("c", 2), "x"): 1}
    assert await second == 1  # shared the load under way, did not start its own
    assert loads == [[(("c", 2), "x")]]
    assert cache.keys_of(("c", 2)) == [(("c", 2), "x")]


async def test_a_key_dropped_while_loading_is_not_kept() -> None:
    cache: FamilyCache[int] = FamilyCache(60)
    gate = asyncio.Event()

    async def load(keys: list[Hashable]) -> Mapping[Hashable, int]:
        await gate.wait()
        return dict.fromkeys(keys, 1)

    task = asyncio.create_task(cache.get_many([(("c", 1), "x"), (("c", 2), "x")], load))
    await asyncio.sleep(0)
    cache.drop_family(("c", 1))  # a booking changed centre 1 meanwhile
    gate.set()
    await task
    assert cache.fresh((("c", 1), "x")) is None
    assert cache.fresh((("c", 2), "x")) == 1


async def _value(n: int) -> int:
    return n
