"""What every request handler reaches: settings, the database, caches. One per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from podium.api.folders_header import FolderCache
from podium.auth.principal import PrincipalCache
from podium.config import Settings
from podium.db.engine import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    signing_key: str
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    folders: FolderCache = field(default_factory=FolderCache)

    def forget_access(self) -> None:
        """Users, roles or folders changed: cached principals and folder lookups are loaded afresh."""
        self.principals.clear()
        self.folders.clear()
