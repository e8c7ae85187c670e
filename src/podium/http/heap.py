"""The server process's garbage collector: what start-up built is set aside, young objects are collected
less often.

A server process holds a large heap built once at start (modules, the OData model, SQLAlchemy's tables
and compiled statements, the ASGI app) that lives as long as the process. CPython's cyclic collector
walks all of it at each full (oldest generation) collection: in ``benchmarks/queue_throughput.py`` on
the 2-core machine one such collection held a server's event loop for 328 ms, and every request in
flight on it waited, which is what a p99 latency is made of. :func:`settle` runs once the app has
started: one full collection, then ``gc.freeze()`` moves every surviving object to a permanent
generation that later collections skip (they still free by reference count, as always). The youngest
generation's threshold goes from CPython's 700 allocations to :data:`YOUNG_THRESHOLD`: a request
allocates a few hundred containers, nearly all freed by reference count before any collection, so
collecting every few requests cost more than it found.

Only ``podium serve`` settles its heap (``create_app(settle_heap=True)``). A process that builds many
apps, as the test suite does, must not: frozen objects are never collected, and each app's cycles
would stay for the life of the process.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations (minus deallocations) of container objects between two collections of the youngest
generation; the older generations keep CPython's ratios (10 and 10)."""


def settle() -> None:
    """Collect, freeze what survives (the process's start-up heap), and collect the young less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
