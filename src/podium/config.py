"""Settings from the environment and command-line flags."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from podium.db.write_gate import DEFAULT_LIMIT as DEFAULT_WRITE_CONCURRENCY


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("PODIUM_DATA_DIR", "podium-data")))
    database_url: str | None = field(default_factory=lambda: os.environ.get("PODIUM_DATABASE_URL"))
    admin_password: str | None = field(default_factory=lambda: os.environ.get("PODIUM_ADMIN_PASSWORD"))
    secret_key: str | None = field(default_factory=lambda: os.environ.get("PODIUM_SECRET_KEY"))
    # secrets at rest (assets, credentials): see podium.domain.crypto; separate from the signing key
    encryption_key: str | None = field(default_factory=lambda: os.environ.get("PODIUM_ENCRYPTION_KEY"))
    organization_name: str = field(default_factory=lambda: os.environ.get("PODIUM_ORGANIZATION", "podium"))
    # the address clients reach Podium at (https://podium.example.com): links and @odata.context use it
    # instead of the request's Host header
    public_url: str | None = field(default_factory=lambda: os.environ.get("PODIUM_PUBLIC_URL") or None)
    token_lifetime_seconds: int = field(default_factory=lambda: _env_int("PODIUM_TOKEN_LIFETIME", 3600))
    max_body_bytes: int = field(default_factory=lambda: _env_int("PODIUM_MAX_BODY_BYTES", 10 * 1024 * 1024))
    # largest file accepted into a bucket through Podium (signed upload URIs of local storage)
    max_blob_bytes: int = field(default_factory=lambda: _env_int("PODIUM_MAX_BLOB_BYTES", 5 * 1024**3))
    # where attachments (/odata/Attachments) are kept: unset, Podium's own folder <data dir>/attachments;
    # or an S3-compatible store, "Container=…;Endpoint=…;Region=…;AccessKeyId=…[;AddressingStyle=virtual]"
    # with the secret key in PODIUM_ATTACHMENT_STORAGE_SECRET
    attachment_storage: str | None = field(
        default_factory=lambda: os.environ.get("PODIUM_ATTACHMENT_STORAGE") or None
    )
    attachment_storage_secret: str | None = field(
        default_factory=lambda: os.environ.get("PODIUM_ATTACHMENT_STORAGE_SECRET") or None
    )
    max_package_bytes: int = field(
        default_factory=lambda: _env_int("PODIUM_MAX_PACKAGE_BYTES", 200 * 1024 * 1024)
    )
    # queue items InProgress for longer than this become Abandoned (and are retried when the queue allows)
    queue_abandon_timeout_seconds: int = field(
        default_factory=lambda: _env_int("PODIUM_QUEUE_ABANDON_TIMEOUT", 24 * 3600)
    )
    # how often each server process looks for abandoned items (0: never)
    queue_abandon_sweep_seconds: int = field(
        default_factory=lambda: _env_int("PODIUM_QUEUE_ABANDON_SWEEP", 60)
    )
    # how often the queue retention sweep runs (one server process per interval does it; 0: never)
    queue_retention_sweep_seconds: int = field(
        default_factory=lambda: _env_int("PODIUM_QUEUE_RETENTION_SWEEP", 3600)
    )
    # robots: a robot that has not reported for this long is Disconnected and its running jobs fault
    heartbeat_timeout_seconds: int = field(default_factory=lambda: _env_int("PODIUM_HEARTBEAT_TIMEOUT", 120))
    heartbeat_interval_seconds: int = field(default_factory=lambda: _env_int("PODIUM_HEARTBEAT_INTERVAL", 30))
    long_poll_seconds: int = field(default_factory=lambda: _env_int("PODIUM_LONG_POLL_SECONDS", 30))
    # write transactions admitted at once in a process (0: no limit); the robot protocol's are not
    # counted, so that bursts of API writes do not hold robots back (db/write_gate.py)
    write_concurrency: int = field(
        default_factory=lambda: _env_int("PODIUM_WRITE_CONCURRENCY", DEFAULT_WRITE_CONCURRENCY)
    )
    # a job handed to a robot and not acknowledged within this time goes back to Pending
    claim_ack_timeout_seconds: int = field(default_factory=lambda: _env_int("PODIUM_CLAIM_ACK_TIMEOUT", 15))
    # personal access tokens: the longest lifetime one may be given (and the lifetime of one asked without)
    pat_max_days: int = field(default_factory=lambda: _env_int("PODIUM_PAT_MAX_DAYS", 365))
    # audit log entries older than this many days are deleted (0: kept forever); per tenant: the
    # Audit.RetentionDays setting (domain/settings.py), whose default this is
    audit_retention_days: int = field(default_factory=lambda: _env_int("PODIUM_AUDIT_RETENTION_DAYS", 365))
    # sign-in: after this many failed passwords in a row a user is locked out for lockout_seconds (0: never),
    # Orchestrator's defaults (10 attempts, 300 s); stored in the database, so every server process sees it
    lockout_attempts: int = field(default_factory=lambda: _env_int("PODIUM_LOCKOUT_ATTEMPTS", 10))
    lockout_seconds: int = field(default_factory=lambda: _env_int("PODIUM_LOCKOUT_SECONDS", 300))
    # and failed sign-ins per user name (or client id) and per client address within the window, per
    # server process, before answering 429 with Retry-After (0: no limit)
    login_throttle_window_seconds: int = field(
        default_factory=lambda: _env_int("PODIUM_LOGIN_THROTTLE_WINDOW", 60)
    )
    login_throttle_per_name: int = field(
        default_factory=lambda: _env_int("PODIUM_LOGIN_THROTTLE_PER_NAME", 10)
    )
    login_throttle_per_address: int = field(
        default_factory=lambda: _env_int("PODIUM_LOGIN_THROTTLE_PER_ADDRESS", 30)
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'podium.db').resolve()}"

    def signing_key(self) -> str:
        """The key that signs access tokens: PODIUM_SECRET_KEY, else a key file kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "signing.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        self.secret_key = path.read_text().strip()
        return self.secret_key
