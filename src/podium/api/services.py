"""What every request handler reaches: settings, the database, caches. One per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from podium.auth.principal import PrincipalCache
from podium.config import Settings
from podium.db.engine import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    signing_key: str
    principals: PrincipalCache = field(default_factory=PrincipalCache)
