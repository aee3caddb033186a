"""The in-process cache of each plan's latest state: bounded, least recently used out first,
one lock per plan, and a state can be evicted or the whole cache cleared."""

from __future__ import annotations

from uuid import uuid4

from plantrail.domain.current import CurrentStates
from tests.support.decider import Plan


def test_the_least_recently_used_plan_leaves_a_full_cache_first() -> None:
    cache = CurrentStates(maxsize=2)
    a, b, c = uuid4(), uuid4(), uuid4()
    state = Plan().state
    cache.put(a, state)
    cache.put(b, state)
    assert cache.get(a) is state  # a is now the most recently used
    cache.put(c, state)
    assert (cache.get(a), cache.get(b), cache.get(c)) == (state, None, state)


def test_a_state_can_be_evicted_and_the_cache_cleared() -> None:
    cache = CurrentStates()
    a, b = uuid4(), uuid4()
    state = Plan().state
    cache.put(a, state)
    cache.put(b, state)
    cache.evict(a)
    cache.evict(a)  # evicting what is not there is no error
    assert (cache.get(a), cache.get(b)) == (None, state)
    cache.clear()
    assert cache.get(b) is None


def test_each_plan_has_one_reentrant_lock() -> None:
    cache = CurrentStates()
    a, b = uuid4(), uuid4()
    lock = cache.lock(a)
    assert cache.lock(a) is lock
    assert cache.lock(b) is not lock
    with lock, cache.lock(a):  # the same thread may take it again (a read inside a write)
        other = cache.lock(b)
        assert other.acquire(blocking=False)  # another plan's lock stays free
        other.release()
