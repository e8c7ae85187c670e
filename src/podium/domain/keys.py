"""New entity keys (random UUIDs, version 4, as text) made many at a time.

``str(uuid.uuid4())`` costs ~4 µs (an ``os.urandom`` call and a ``UUID`` object each); a batch of
triggers fires thousands of jobs, each with a key and a batch key. Here one ``os.urandom`` call serves a
whole batch and the text is cut from its hex, ~1 µs a key. The keys are the same kind of value.
"""

from __future__ import annotations

import os


def new_keys(count: int) -> list[str]:
    """``count`` random version-4 UUIDs, lower-case text with dashes (as ``str(uuid.uuid4())``)."""
    raw = bytearray(os.urandom(16 * count))
    keys = []
    for at in range(0, 16 * count, 16):
        raw[at + 6] = (raw[at + 6] & 0x0F) | 0x40  # version 4
        raw[at + 8] = (raw[at + 8] & 0x3F) | 0x80  # RFC 4122 variant
        text = raw[at : at + 16].hex()
        keys.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
    return keys
