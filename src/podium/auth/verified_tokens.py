"""Robot tokens already verified by this process, so a heartbeat does not decode its JWT again.

A robot sends the same token with every heartbeat for the token's whole life (an hour by default),
and 5,000 robots beat every 30 s: a short-lived cache such as the principal cache's never hits. The
signature check of an exact token string under one key always gives the same answer, so the claims of
a string that verified once are kept until the token expires; the expiry is checked on every use.
Robot tokens carry no database state to revalidate (the robot's session is checked by the heartbeat's
own UPDATE), so nothing else goes stale.
"""

from __future__ import annotations

import time

from podium.auth.tokens import TokenClaims, verify


class VerifiedTokens:
    """Token string → claims, bounded (cleared whole when full: a cache, not a registry)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, tuple[str, TokenClaims]] = {}

    def verify(self, key: str, token: str) -> TokenClaims | None:
        """The claims of a valid, unexpired token (as :func:`podium.auth.tokens.verify`)."""
        entry = self._entries.get(token)
        if entry is not None and entry[0] == key:
            claims = entry[1]
        else:
            found = verify(key, token)
            if found is None:
                return None
            claims = found
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[token] = (key, claims)
        if claims.expires_at <= time.time():
            self._entries.pop(token, None)
            return None
        return claims


robot_tokens = VerifiedTokens()
