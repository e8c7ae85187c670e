"""How fast this machine's cores are at the moment, printed beside a benchmark's figures.

The same code on the same 2-core machine type gave a queue floor of 3,057 pairs/s one day and 949-1,141
another: the host's cores, not the code, had changed. A benchmark's absolute figures (ms of CPU a
request, items/s, p99) move with that, its ratios much less. This fixed piece of pure-Python work, timed
the way ``python -m timeit`` does (best of five), lets two runs' figures be compared: a run whose
calibration took twice as long had cores about twice as slow.
"""

from __future__ import annotations

import timeit

STATEMENT = "sum(range(1000))"
LOOPS = 10_000


def python_microseconds() -> float:
    """µs for one ``sum(range(1000))``, best of five runs of 10,000 (~0.1-0.3 s in all)."""
    return min(timeit.repeat(STATEMENT, number=LOOPS, repeat=5)) / LOOPS * 1e6


def describe(before: float | None = None) -> str:
    """The calibration now, after the one taken ``before`` the run when given."""
    now = python_microseconds()
    taken = f"{before:.1f} µs before the run, {now:.1f} µs after" if before is not None else f"{now:.1f} µs"
    return f"core speed: {STATEMENT} takes {taken} (best of 5; lower is faster)"
