"""``podium admin rotate-key``: a new sealing key, every secret re-sealed under it, old keys retired.

No downtime: the new key is written first (running servers re-read the key file when it changes, so
they open values sealed under it and seal new ones with it), then the secrets are re-sealed in small
transactions; old keys are removed from the file only once no value is sealed under them. The
retention archives of encrypted queues (``<data dir>/queue-archive``) are re-sealed too, and count.
"""

from __future__ import annotations

from podium.config import Settings
from podium.db.engine import Database
from podium.domain import audit_logs
from podium.domain.crypto import Keyring, key_file, key_id, new_key, read_key_file, write_key_file
from podium.domain.queue_retention import archive_key_ids, reseal_archives
from podium.domain.sealed import key_ids_in_use, reseal_all


async def rotate_key(settings: Settings, *, retire_old: bool = False) -> list[str]:
    """Rotates and returns what to print."""
    path = key_file(settings)
    fresh = new_key()
    write_key_file(path, [fresh, *read_key_file(path)])
    keyring = Keyring(settings)
    lines = [f"New encryption key {key_id(fresh)} written to {path.resolve()}."]
    db = Database(settings.resolved_database_url)
    try:
        report = await reseal_all(db, keyring)
        async with db.write() as conn:
            await audit_logs.key_rotated(conn, key_id(fresh), report.resealed)
        lines.append(
            f"Re-encrypted {report.resealed} secrets ({report.already_current} were already current)."
        )
        if report.sealed_clear:
            lines.append(f"Encrypted {report.sealed_clear} values of encrypted queues stored in clear text.")
        archived = reseal_archives(settings.data_dir, keyring)
        if archived:
            lines.append(f"Re-encrypted {archived} values in queue retention archives.")
        if retire_old:
            lines += await _retire(db, settings, fresh)
    finally:
        await db.dispose()
    return lines


async def _retire(db: Database, settings: Settings, fresh: bytes) -> list[str]:
    used = await key_ids_in_use(db)
    for kid, count in archive_key_ids(settings.data_dir).items():
        used[kid] = used.get(kid, 0) + count
    in_use = {kid: n for kid, n in used.items() if kid != key_id(fresh)}
    if in_use:
        return [f"Old keys kept: values are still sealed under {sorted(in_use)}; run rotate-key again."]
    path = key_file(settings)
    retired = [key_id(key) for key in read_key_file(path) if key != fresh]
    write_key_file(path, [fresh])
    lines = [f"Retired old keys from the key file: {', '.join(retired) or 'none'}."]
    if settings.encryption_key:
        lines.append("PODIUM_ENCRYPTION_KEY is no longer needed to read secrets and can be unset.")
    return lines
