"""The OpenMP wait-policy benchmark runs end to end: fresh interpreters, a busy core beside them, both policies."""

from __future__ import annotations

import pytest

from tools import openmp_wait_benchmark


@pytest.mark.parametrize("policy", list(openmp_wait_benchmark.POLICIES.values()))
def test_each_policy_times_its_passes_in_a_fresh_interpreter_beside_a_busy_core(policy):
    seconds = openmp_wait_benchmark.run_once(policy, busy=1)
    assert len(seconds) == openmp_wait_benchmark.PASSES
    assert all(0 < s < 60 for s in seconds)
