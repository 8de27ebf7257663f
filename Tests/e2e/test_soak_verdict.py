"""bench/soak.py judges memory by its post-trim trend: allocator retention passes, steady growth fails."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from soak import memory_verdict  # noqa: E402


@pytest.mark.parametrize("baseline,rounds,allowance,ok", [
    (37.3, [37.4, 37.6, 37.8, 37.8, 37.8], 0, True),     # measured without oversized requests: flat
    (55.0, [61.0, 61.3, 60.8, 61.1, 61.2], 0, True),     # one step up (a bigger arena), then flat
    (55.0, [57.0, 59.0, 61.0, 63.0, 65.0], 0, False),    # +2 MiB every round: a leak
    (55.0, [55.2, 56.5, 58.0, 59.6], 0, False),          # rising through the last three rounds
    (55.0, [56.0, 58.0, 66.0, 67.0], 0, False),          # later rounds well above the earlier ones
    (39.7, [45.5, 47.3, 49.2, 49.3, 49.3], 18, True),    # measured with oversized requests: a plateau
    (45.5, [38.0, 38.6, 45.6, 45.8, 46.7], 18, True),    # measured: one oversized buffer stayed resident
    (45.0, [50.0, 60.0, 70.0, 80.0, 90.0], 18, False),   # +10 MiB a round is a leak whatever the noise
])
def test_memory_verdict(baseline, rounds, allowance, ok):
    assert memory_verdict(baseline, rounds, allowance)[0] is ok
