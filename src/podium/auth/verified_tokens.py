"""Robot tokens already verified by this process, so a heartbeat does not decode its JWT again.

A robot sends the same token with every heartbeat for the token's whole life (an hour by default),
and 5,000 robots beat every 30 s: a short-lived cache such as the principal cache's never hits. The
signature check of an exact token string under one key always gives the same answer, so the claims of
a string that verified once are kept until the token expires; the expiry is checked on every use.

What does change is whether the token's robot may still act (it exists and is enabled): that is checked
(``admit``) when a token string is first seen, and again only when a revocation names the robot
(``domain/revocations.py``: the robot was disabled, edited or deleted, here or in another process).
While this process does not hear every process's revocations (SQLite, where there is no ``LISTEN``;
PostgreSQL while the ``LISTEN`` connection is down) each token's robot is checked again after
``recheck_seconds`` instead.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from podium.auth.tokens import TokenClaims, verify
from podium.domain.revocations import Revocation, Subject


class VerifiedTokens:
    """Token string → claims, bounded (cleared whole when full: a cache, not a registry)."""

    def __init__(self, max_entries: int = 100_000, recheck_seconds: float = 5.0) -> None:
        self.max_entries = max_entries
        self.recheck_seconds = recheck_seconds
        self.hears_everyone = False  # every process's revocations reach this one (LISTEN is up)
        self.generation = 0  # counts revocations: an admission that overlapped one is not kept
        self._entries: dict[str, tuple[str, TokenClaims, float]] = {}  # token → key, claims, recheck at
        self._by_robot: dict[int, set[str]] = {}

    async def verify(
        self, key: str, token: str, admit: Callable[[TokenClaims], Awaitable[bool]]
    ) -> TokenClaims | None:
        """The claims of a valid, unexpired token (as :func:`podium.auth.tokens.verify`) that ``admit``
        accepted: called for a token string not seen yet, or seen before its robot's last revocation."""
        entry = self._entries.get(token)
        if entry is not None and entry[0] == key:
            claims = entry[1]
            if claims.expires_at <= time.time():
                self._drop(token)
                return None
            if self.hears_everyone or entry[2] > time.monotonic():
                return claims
        else:
            found = verify(key, token)
            if found is None:
                return None
            claims = found
        generation = self.generation
        if not await admit(claims):
            self._drop(token)
            return None
        if generation == self.generation:  # no revocation meanwhile: what admit read still holds
            self._keep(key, token, claims)
        return claims

    def forget(self, revocation: Revocation) -> None:
        """Forgets the tokens of the robot a revocation names (they are admitted again on next use)."""
        if revocation.subject is not Subject.ROBOT:
            return
        self.generation += 1
        for token in self._by_robot.pop(revocation.id, ()):
            self._entries.pop(token, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_robot.clear()

    def _keep(self, key: str, token: str, claims: TokenClaims) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
            self._by_robot.clear()
        self._entries[token] = (key, claims, time.monotonic() + self.recheck_seconds)
        if claims.robot_id is not None:
            self._by_robot.setdefault(claims.robot_id, set()).add(token)

    def _drop(self, token: str) -> None:
        entry = self._entries.pop(token, None)
        if entry is not None and entry[1].robot_id is not None:
            tokens = self._by_robot.get(entry[1].robot_id)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self._by_robot[entry[1].robot_id]
