"""Machines: what a new machine is given.

The machine key (``Key``) is also its ``LicenseKey`` (what scripts read to configure a robot, and what
``/api/robot/connect`` takes) and the client id of its client credentials, whose secret is answered
once, in the create response (``domain/robot_identity.py`` says how machines authenticate).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import hash_password, new_secret
from podium.db.schema import machines


async def issue_keys(conn: AsyncConnection, machine_id: int, key: str) -> dict[str, str]:
    """Sets the new machine's license key and client credentials; returns what the create answer shows
    its creator once: ``Key``, ``LicenseKey``, ``ClientId`` and ``ClientSecret`` (the secret is kept as
    an argon2 hash only; the keys are read later by callers who may edit machines only)."""
    secret = new_secret(32)
    await conn.execute(
        update(machines)
        .where(machines.c.id == machine_id)
        .values(license_key=key, client_id=key, client_secret_hash=hash_password(secret))
    )
    return {"Key": key, "LicenseKey": key, "ClientId": key, "ClientSecret": secret}
