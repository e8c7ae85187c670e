"""The waiters of one server process: robots long-polling for work, woken by :mod:`wakeups`.

A wake-up for a robot wakes that robot's waiters. A wake-up for ``count`` unassigned jobs wakes
``count`` waiters of the tenant (longest waiting first), not all of them: a hundred idle robots
do not all run a claim for one job. A waiter that was woken but took nothing (not eligible, or
busy) passes the wake-up on to a waiter that has not seen it yet, so the job still finds a robot.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict

from podium.domain.wakeups import Wakeup


class Waiter:
    __slots__ = ("event", "offers", "robot_id", "tenant_id")

    def __init__(self, tenant_id: int, robot_id: int) -> None:
        self.tenant_id = tenant_id
        self.robot_id = robot_id
        self.event = asyncio.Event()
        self.offers: list[int] = []  # wake-ups for unassigned jobs this waiter was picked for


class Hub:
    def __init__(self) -> None:
        self._by_tenant: dict[int, OrderedDict[Waiter, None]] = {}
        self._by_robot: dict[int, set[Waiter]] = {}
        self._seen_by: dict[int, set[Waiter]] = {}
        self._pending: dict[int, int] = {}  # unassigned jobs announced and not yet taken, per tenant
        self._ids = itertools.count(1)

    def add(self, waiter: Waiter) -> None:
        self._by_tenant.setdefault(waiter.tenant_id, OrderedDict())[waiter] = None
        self._by_robot.setdefault(waiter.robot_id, set()).add(waiter)

    def remove(self, waiter: Waiter) -> None:
        """Unregisters; offers the waiter still held go to others."""
        self._by_tenant.get(waiter.tenant_id, OrderedDict()).pop(waiter, None)
        robots = self._by_robot.get(waiter.robot_id)
        if robots is not None:
            robots.discard(waiter)
            if not robots:
                del self._by_robot[waiter.robot_id]
        self.pass_on(waiter)

    def deliver(self, wakeup: Wakeup) -> None:
        if wakeup.robot_id is not None:
            for waiter in self._by_robot.get(wakeup.robot_id, ()):
                waiter.event.set()
        if wakeup.count:
            self._pending[wakeup.tenant_id] = self._pending.get(wakeup.tenant_id, 0) + wakeup.count
        for _ in range(wakeup.count):
            self._offer(next(self._ids), wakeup.tenant_id)

    def took_nothing(self, waiter: Waiter) -> None:
        """The waiter's claim found nothing: its offers go on to others."""
        self.pass_on(waiter)

    def took_something(self, waiter: Waiter, count: int = 1) -> None:
        """The waiter claimed ``count`` jobs: as many announced jobs are no longer waiting."""
        left = self._pending.get(waiter.tenant_id, 0) - count
        if left > 0:
            self._pending[waiter.tenant_id] = left
        else:
            self._pending.pop(waiter.tenant_id, None)
        for offer in waiter.offers:
            self._seen_by.pop(offer, None)
        waiter.offers.clear()

    def pass_on(self, waiter: Waiter) -> None:
        """Hands the waiter's offers to others, unless every announced job was taken meanwhile (by
        any robot: an offer need not be taken by the robot it went to)."""
        offers, waiter.offers = waiter.offers, []
        for offer in offers:
            if self._pending.get(waiter.tenant_id, 0) > 0:
                self._offer(offer, waiter.tenant_id)
            else:
                self._seen_by.pop(offer, None)

    def _offer(self, offer: int, tenant_id: int) -> None:
        waiters = self._by_tenant.get(tenant_id)
        seen = self._seen_by.setdefault(offer, set())
        if waiters:
            fresh = [w for w in waiters if w not in seen]
            idle = [w for w in fresh if not w.event.is_set()]
            if idle or fresh:
                waiter = (idle or fresh)[0]  # an idle robot first; else one already busy claiming
                seen.add(waiter)
                waiter.offers.append(offer)
                waiters.move_to_end(waiter)  # round robin among robots
                waiter.event.set()
                return
        self._seen_by.pop(offer, None)  # every waiter has seen it: the job waits for the next poll
