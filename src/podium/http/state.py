"""What every request handler reaches: settings, the database, caches, the robots' waiters. One per
server process, made by the app's lifespan (``app.state.podium``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from podium.auth.principal import PrincipalCache
from podium.auth.throttle import LoginThrottle
from podium.config import Settings
from podium.db.engine import Database
from podium.domain.heartbeat_batches import HeartbeatBatcher
from podium.domain.robot_hub import Hub
from podium.http.folders_header import FolderCache


@dataclass
class AppState:
    settings: Settings
    db: Database
    signing_key: str
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    folders: FolderCache = field(default_factory=FolderCache)
    hub: Hub = field(default_factory=Hub)  # robots long-polling in this process
    logins: LoginThrottle = field(default_factory=LoginThrottle)  # failed sign-ins in this process
    _heartbeats: HeartbeatBatcher | None = None

    @property
    def heartbeats(self) -> HeartbeatBatcher:
        """This process's heartbeat batcher (made on first use)."""
        if self._heartbeats is None:
            self._heartbeats = HeartbeatBatcher(self.db)
        return self._heartbeats

    def forget_access(self) -> None:
        """Users, roles or folders changed: cached principals and folder lookups are loaded afresh."""
        self.principals.clear()
        self.folders.clear()
