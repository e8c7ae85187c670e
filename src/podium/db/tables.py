"""Every table module of Podium, imported so that ``metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from podium.db import schema

metadata = schema.metadata
