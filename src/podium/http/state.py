"""What every request handler reaches: settings, the database, caches, the robots' waiters. One per
server process, made by the app's lifespan (``app.state.podium``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from podium.auth.principal import PrincipalCache
from podium.auth.throttle import LoginThrottle
from podium.auth.verified_tokens import VerifiedTokens
from podium.config import Settings
from podium.db.engine import Database
from podium.domain.heartbeat_batches import HeartbeatBatcher
from podium.domain.revocations import Revocation, Subject
from podium.domain.robot_hub import Hub
from podium.domain.settings import forget as forget_settings
from podium.http.folders_header import FolderCache


@dataclass
class AppState:
    settings: Settings
    db: Database
    signing_key: str
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    folders: FolderCache = field(default_factory=FolderCache)
    hub: Hub = field(default_factory=Hub)  # robots long-polling in this process
    robot_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)  # robot tokens verified here
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

    def revoke(self, revocation: Revocation) -> None:
        """A revocation committed in this process or heard from another (``domain/revocations.py``):
        the caches forget the access it ends (or the settings values, for a settings change)."""
        if revocation.subject is Subject.SETTINGS:
            forget_settings(revocation.id)
            return
        if revocation.subject is Subject.TENANT:  # its tokens of every kind, robots' too
            self.forget_all_access()
            return
        self.principals.forget(revocation)
        self.robot_tokens.forget(revocation)
        if revocation.subject is Subject.EVERYTHING:
            self.folders.clear()

    def forget_all_access(self) -> None:
        """Revocations may have been missed: every cached principal, folder and robot token goes."""
        self.forget_access()
        self.robot_tokens.clear()
        forget_settings()

    def hear_revocations(self, hearing: bool) -> None:
        """Whether every process's revocations reach this one (the LISTEN connection is up). Once it is
        (again), whatever was cached before may have missed some: it is all forgotten."""
        if hearing:
            self.forget_all_access()
        self.robot_tokens.hears_everyone = hearing
