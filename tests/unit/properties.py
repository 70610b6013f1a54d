"""Hypothesis settings shared by the unit tests' property tests.

No per-example deadline and no "too slow" health check: on a loaded two-core CI machine a slow
example is not a wrong one, and a timing-dependent failure would make the suite flaky.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def examples(count: int = 100) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])
