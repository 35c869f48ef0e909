"""Per-session credentials: how the server, not the session, decides who writes.

Each SSH session's app is a client of the server's own HTTP API. The SSH server mints a
random token for that session, tied to the person whose key authenticated, and revokes it
when the session ends. The API stamps that person as the author of every event the token
posts (as it does for a per-person token file), whatever author the request names, so a
session can write only as its owner. The token reaches the child in its environment
(readable only by the server's own user), never on a command line (`ps` shows those).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, fields

from ..auth import Tokens


@dataclass(frozen=True)
class SessionTokens(Tokens):
    """The server's tokens plus one live token per SSH session (token digest -> person)."""

    sessions: dict[bytes, str] = field(default_factory=dict, compare=False)

    @classmethod
    def around(cls, base: Tokens) -> SessionTokens:
        # Every field of the base, whatever the token settings grow to hold.
        return cls(**{f.name: getattr(base, f.name) for f in fields(base) if f.init})

    def mint(self, person: str) -> str:
        token = secrets.token_urlsafe(32)
        self.sessions[hashlib.sha256(token.encode()).digest()] = person
        return token

    def revoke(self, token: str) -> None:
        self.sessions.pop(hashlib.sha256(token.encode()).digest(), None)

    def check(self, header: str | None) -> tuple[bool, str | None]:
        if header and header.startswith("Bearer ") and self.sessions:
            # A lookup by digest: its timing says nothing usable about any token.
            who = self.sessions.get(hashlib.sha256(header[7:].strip().encode()).digest())
            if who is not None:
                return True, who
        return super().check(header)
