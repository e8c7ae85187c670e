"""Encryption at rest of secrets (credential passwords, secret assets): AES-256-GCM under a keyring.

A sealed value is the text ``pe1:<key id>:<base64url(nonce | ciphertext | tag)>``. The key id names
the key that sealed it, so several keys are live at once and ``podium admin rotate-key`` can move
every secret to a new key while servers keep running. The associated data binds a ciphertext to its
row (``asset:<tenant>:<asset key>``...): a ciphertext copied into another row does not open.

Keys (every one of them opens; the first of the first non-empty source seals):
1. the key file ``<data dir>/encryption.keys`` (one ``<id> <base64url key>`` a line, newest first),
   written by ``rotate-key`` and generated on first start when nothing else is configured;
2. ``PODIUM_ENCRYPTION_KEY``: keys separated by commas, each 32 bytes in base64url or a passphrase
   of at least 32 characters (stretched with HKDF);
3. a key derived with HKDF from ``PODIUM_SECRET_KEY`` (or the generated signing key file): never the
   token-signing key itself.
Servers re-read the key file when it changes, so a rotation reaches them without a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from podium.config import Settings

PREFIX = "pe1"
SEALED_PREFIX = f"{PREFIX}:"
KEY_ID_CHARS = 12  # of ``key_id``: sealed text is ``pe1:`` + the key id + ``:`` + the payload
KEY_FILE = "encryption.keys"
_SECRET_KEY_INFO = b"podium/encryption-at-rest/v1"


class KeyringError(Exception):
    """A sealed value that no configured key opens (unknown key id, wrong row, tampering)."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: bytes) -> str:
    """A stable, non-secret name for a key (a hash of it), stored in front of each ciphertext."""
    return hashlib.sha256(b"podium-key-id:" + key).hexdigest()[:KEY_ID_CHARS]


def derive_key(material: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material.encode())


def parse_key(text: str) -> bytes:
    """32 bytes from base64url, or a long passphrase stretched with HKDF; ValueError otherwise."""
    text = text.strip()
    try:
        raw = _b64decode(text)
        if len(raw) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    if len(text) < 32:
        raise ValueError(
            "an encryption key is 32 bytes in base64url or a passphrase of at least 32 characters"
        )
    return derive_key(text, b"podium/encryption-key-passphrase/v1")


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def read_key_file(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    keys = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        stated, _, encoded = line.partition(" ")
        key = _b64decode(encoded.strip())
        if len(key) != 32 or key_id(key) != stated:
            raise ValueError(f"{path}: a line is not '<key id> <base64url key of 32 bytes>'")
        keys.append(key)
    return keys


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Replaces the key file atomically (a new file with mode 0600, renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    if temporary.exists():
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# Podium encryption keys, newest (sealing) first. Keep this file secret and backed up.\n"
        )
        handle.writelines(f"{key_id(key)} {_b64encode(key)}\n" for key in keys)
    os.replace(temporary, path)


def ensure_key(settings: Settings) -> Path | None:
    """Generates the key file when no key is configured at all; returns its path when it did."""
    path = key_file(settings)
    if settings.encryption_key or settings.secret_key or path.exists():
        return None
    write_key_file(path, [new_key()])
    return path


def _signing_key_file(settings: Settings) -> str | None:
    """The generated token-signing key (``Settings.signing_key``), when PODIUM_SECRET_KEY is not set."""
    path = settings.data_dir / "signing.key"
    return path.read_text().strip() if path.exists() else None


class Keyring:
    """The keys that open sealed values, and the one that seals new ones."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._keys: dict[str, AESGCM] = {}
        self.primary = ""
        self.reload()

    def _file_stamp(self) -> int | None:
        try:
            return key_file(self._settings).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def reload(self) -> None:
        settings = self._settings
        ensure_key(settings)
        stamp = self._file_stamp()
        ordered = read_key_file(key_file(settings))
        if settings.encryption_key:
            ordered += [parse_key(part) for part in settings.encryption_key.split(",") if part.strip()]
        signing = settings.secret_key or _signing_key_file(settings)
        if signing:
            ordered.append(derive_key(signing, _SECRET_KEY_INFO))
        if not ordered:
            raise KeyringError("no encryption key is configured")
        with self._lock:
            self._keys = {key_id(key): AESGCM(key) for key in ordered}
            self.primary = key_id(ordered[0])
            self._stamp = stamp

    def refresh(self) -> None:
        """Picks up a key file rewritten by ``rotate-key`` in another process (one stat call)."""
        if self._file_stamp() != self._stamp:
            self.reload()

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def seal(self, plaintext: str, aad: str) -> str:
        return self.sealer()(plaintext, aad)

    def sealer(self) -> Callable[[str, str], str]:
        """``seal`` for a batch of values (a bulk add's thousand items): the key file is looked at once."""
        self.refresh()
        with self._lock:
            kid, cipher = self.primary, self._keys[self.primary]

        def seal(plaintext: str, aad: str) -> str:
            nonce = os.urandom(12)
            sealed = cipher.encrypt(nonce, plaintext.encode(), aad.encode())
            return f"{PREFIX}:{kid}:{_b64encode(nonce + sealed)}"

        return seal

    def open(self, token: str, aad: str) -> str:
        prefix, kid, payload = sealed_parts(token)
        if kid not in self._keys:
            self.reload()
        cipher = self._keys.get(kid)
        if prefix != PREFIX or cipher is None:
            raise KeyringError(f"no configured key opens this value (key id {kid})")
        raw = _b64decode(payload)
        try:
            return cipher.decrypt(raw[:12], raw[12:], aad.encode()).decode()
        except InvalidTag:
            raise KeyringError("the sealed value does not belong to this row or was altered") from None


def sealed_parts(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3:
        raise KeyringError("not a sealed value")
    return parts[0], parts[1], parts[2]


def sealed_key_id(token: str) -> str:
    return sealed_parts(token)[1]


def is_sealed(value: object) -> bool:
    """Whether a stored value is sealed text (``pe1:…``), in a column that may also hold clear text (JSON
    objects, which start with ``{``)."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


_keyrings: dict[tuple[str, str | None, str | None], Keyring] = {}
_keyrings_lock = threading.Lock()


def keyring_for(settings: Settings) -> Keyring:
    """One keyring per configuration in this process (servers and tests share the cache)."""
    cache_key = (str(settings.data_dir.resolve()), settings.encryption_key, settings.secret_key)
    with _keyrings_lock:
        keyring = _keyrings.get(cache_key)
        if keyring is None:
            keyring = _keyrings[cache_key] = Keyring(settings)
    return keyring
