"""Access tokens.

Podium issues signed JWTs (HS256) for sessions, robots and external applications, and opaque personal
access tokens (``pat_…``) stored as digests. Every request's token is checked: the signature and expiry
of a JWT, the digest, expiry and revocation of a personal access token.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
PAT_PREFIX = "pat_"
HOST_KIND = "host"  # the kind of a host user's token (tenant id 0)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    tenant_id: int
    kind: str  # "user" | "app" | "robot" | "job" | "host" (a host user: tenant id 0, domain/host.py)
    expires_at: int
    robot_id: int | None = None
    folder_id: int | None = None
    job_id: int | None = None


def issue(key: str, claims: TokenClaims) -> str:
    payload: dict[str, Any] = {
        "sub": str(claims.user_id),
        "tid": claims.tenant_id,
        "knd": claims.kind,
        "exp": claims.expires_at,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
    }
    if claims.robot_id is not None:
        payload["rid"] = claims.robot_id
    if claims.folder_id is not None:
        payload["fid"] = claims.folder_id
    if claims.job_id is not None:
        payload["jid"] = claims.job_id
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def verify(key: str, token: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token whose ids are ids (1 … 2**63-1, what the database holds);
    None for anything else."""
    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "tid"]})
        kind = str(payload.get("knd", "user"))
        return TokenClaims(
            user_id=_id(int(payload["sub"])),
            tenant_id=_host_tenant(payload["tid"]) if kind == HOST_KIND else _id(payload["tid"]),
            kind=kind,
            expires_at=int(payload["exp"]),
            robot_id=_optional_id(payload.get("rid")),
            folder_id=_optional_id(payload.get("fid")),
            job_id=_optional_id(payload.get("jid")),
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValueError("not an id")
    return value


def _host_tenant(value: Any) -> int:
    """A host token names no tenant: its tenant id is 0."""
    if isinstance(value, bool) or value != 0:
        raise ValueError("a host token names no tenant")
    return 0


def _optional_id(value: Any) -> int | None:
    return None if value is None else _id(value)
