"""Password hashing: argon2id with OWASP's minimum parameters (19 MiB, 2 passes)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches. Without a hash (an unknown user, a user without a password) a hash
    of the same cost is verified all the same, so that the answer takes as long: how long a sign-in
    takes must not tell whether the user exists."""
    if not password_hash:
        _verify(_dummy_hash(), password)
        return False
    return _verify(password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_dummies: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    """A hash of a random password at the current hasher's cost (made once per cost)."""
    key = (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)
    if key not in _dummies:
        _dummies.clear()
        _dummies[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummies[key]


def new_secret(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """Opaque tokens (personal access tokens) are stored as their SHA-256: they are long random strings,
    so a fast hash is enough and lets a request find its token by index."""
    return hashlib.sha256(token.encode()).hexdigest()
