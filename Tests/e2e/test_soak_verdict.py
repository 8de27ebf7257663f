"""bench/soak.py judges memory by its post-trim trend: allocator retention passes, steady growth fails."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from soak import memory_verdict  # noqa: E402


@pytest.mark.parametrize("baseline,rounds,ok", [
    (55.0, [55.2, 54.9, 55.4, 55.1, 55.0], True),   # flat after each trim
    (55.0, [61.0, 61.3, 60.8, 61.1, 61.2], True),   # one step up (a bigger arena), then flat: no leak
    (55.0, [57.0, 59.0, 61.0, 63.0, 65.0], False),  # +2 MiB every round: a leak
    (39.7, [45.5, 47.3, 49.2, 49.3, 49.3], True),   # measured: grows, then a plateau
    (49.2, [51.4, 51.4, 51.5, 39.0, 40.6], True),   # measured: trim returns more later
    (55.0, [55.2, 56.5, 58.0, 59.6], False),        # rising through the last three rounds
    (55.0, [56.0, 58.0, 66.0, 67.0], False),        # later rounds well above the earlier ones
])
def test_memory_verdict(baseline, rounds, ok):
    assert memory_verdict(baseline, rounds)[0] is ok
